"""The musical rules: each is data a style can change, and each has a case that breaks it."""

from __future__ import annotations

from fractions import Fraction

import pytest

from tunesmith.errors import ConstraintError
from tunesmith.notation import parse_tune as parse
from tunesmith.rules import Rules, bar_key, broken_rules

RULES = Rules()


def bars(text: str) -> list[object]:
    return list(parse(text).bars)


CASES = {
    "a repeated bar": "D4:q E4:q F4:q G4:q | A4:h G4:h | D4:q E4:q F4:q G4:q |",
    "more than 3 equal notes in a row": "D4:q E4:q F4:q G4:q | A4:e A4:e A4:e A4:e B4:h |",
    "repeated notes are more than 15% of intervals": (
        "D4:q E4:q F4:q G4:q | A4:q A4:q B4:q B4:q | C5:q C5:q D5:q D5:q |"
    ),
    "two leaps in a row the same way": "D4:q E4:q F4:q G4:q | D4:h A4:q E5:q |",
    "more than 4 changes of direction in a row": (
        "D4:q E4:q F4:q G4:q | A4:e G4:e A4:e G4:e A4:e G4:e A4:e G4:e |"
    ),
    "changes of direction are more than 55% of moves": (
        "D4:q E4:q F4:q G4:q | A4:q G4:q B4:q A4:q | G4:q A4:q F4:q G4:q | E4:q F4:q D4:q E4:q |"
    ),
    "one pitch is more than 35% of the notes": (
        "D4:q E4:q D4:q F4:q | D4:q G4:q D4:q A4:q | D4:q B4:q D4:q C5:q |"
    ),
    "steps are less than 35% of intervals": (
        "D4:q F#4:q A4:q F#4:q | D4:q F#4:q A4:q D5:q | B4:q G4:q E4:q G4:q |"
    ),
    "leaps are more than 15% of intervals": (
        "D4:q A4:q E4:q B4:q | F4:q C5:q G4:q D5:q | A4:q E5:q B4:q F5:q |"
    ),
}


@pytest.mark.parametrize(("rule", "text"), list(CASES.items()), ids=list(CASES))
def test_each_rule_has_a_case_that_breaks_it(rule: str, text: str) -> None:
    assert rule in broken_rules(RULES, bars(text))


def test_a_bar_that_widens_the_tune_beyond_its_span_breaks_the_span_rule() -> None:
    rules = Rules(max_span=12)
    low = "D4:q E4:q F4:q G4:q | A4:q B4:q C5:q D5:q |"
    assert broken_rules(rules, bars(low)) == []  # an octave
    assert "the tune spans more than 12 semitones" in broken_rules(
        rules, bars(low + " E5:q D5:q C5:h |")
    )
    assert broken_rules(Rules(), bars(low + " E5:q D5:q C5:h |")) == []  # no limit by default


def test_a_cell_played_three_times_in_a_row_breaks_the_repeated_cell_rule() -> None:
    text = "D4:q E4:q F4:q G4:q | A4:e F#4:e A4:e F#4:e A4:e F#4:e B4:q |"
    assert "a rhythm cell's notes played more than 2 times in a row" in broken_rules(
        RULES, bars(text), cell=Fraction(1)
    )
    twice = "D4:q E4:q F4:q G4:q | A4:e F#4:e A4:e F#4:e B4:q C5:q |"
    assert broken_rules(RULES, bars(twice), cell=Fraction(1)) == []


def test_a_bar_that_keeps_every_rule_passes() -> None:
    assert broken_rules(RULES, bars("D4:q E4:q F#4:q G4:q | A4:q B4:q A4:h |")) == []


def test_bars_the_plan_repeats_are_not_repeats() -> None:
    text = "D4:q E4:q F4:q G4:q | D4:q E4:q F4:q G4:q | B4:q A4:q G4:h |"
    assert broken_rules(RULES, bars(text)) == []  # bar 3 is new; bar 2 was planned
    copy = "D4:q E4:q F4:q G4:q | A4:q B4:q A4:h | D4:q E4:q F4:q G4:q |"
    assert broken_rules(RULES, bars(copy), copies=frozenset({1})) == ["a repeated bar"]


def test_a_bar_of_an_example_tune_is_forbidden() -> None:
    example = parse("A4:q B4:q A4:h |").bars[0]
    text = "D4:q E4:q F4:q G4:q | A4:q B4:q A4:h |"
    assert broken_rules(RULES, bars(text), forbidden=frozenset({bar_key(example)})) == [
        "a repeated bar"
    ]


def test_an_unfinished_bar_is_judged_on_its_notes_only() -> None:
    text = "D4:q E4:q F4:q G4:q | D4:q E4:q |"
    assert broken_rules(RULES, bars(text), complete=False) == []


def test_an_unfinished_bar_that_can_only_end_as_an_earlier_one_is_refused_at_its_last_note() -> (
    None
):
    text = "D4:q E4:q F4:q G4:q | D4:q E4:q F4:q G4:e |"  # G4 can only grow to a quarter
    assert broken_rules(RULES, bars(text), complete=False) == ["a repeated bar"]
    other = "D4:q E4:q F4:q G4:q | D4:q E4:q F4:q A4:e |"
    assert broken_rules(RULES, bars(other), complete=False) == []
    assert broken_rules(RULES, bars(text + " F4:q G4:q |")[:2]) == []


TWO_RHYTHMS = Rules(max_rhythms=2)
STEPS = "D4:q E4:q F#4:q G4:q | A4:h G4:e F#4:e E4:q | "


def test_a_third_bar_rhythm_breaks_a_limit_of_two() -> None:
    assert "more than 2 different bar rhythms" in broken_rules(
        TWO_RHYTHMS, bars(STEPS + "F#4:q. G4:e A4:q B4:q |")
    )
    assert broken_rules(TWO_RHYTHMS, bars(STEPS + "F#4:q G4:q A4:q B4:q |")) == []


def test_a_bar_being_written_is_refused_once_it_can_end_as_no_rhythm_used_so_far() -> None:
    growing = STEPS + "F#4:e |"  # an eighth so far: could still become the bar of quarters
    assert broken_rules(TWO_RHYTHMS, bars(growing), complete=False) == []
    new = STEPS + "F#4:e G4:e |"  # two eighths first: no rhythm used so far begins so
    assert broken_rules(TWO_RHYTHMS, bars(new), complete=False) == [
        "more than 2 different bar rhythms"
    ]


def test_phrase_endings_have_the_cadences_rhythm_and_are_not_counted() -> None:
    cadence = bars(STEPS + "A4:w |")
    assert broken_rules(TWO_RHYTHMS, cadence, free_rhythm=frozenset({2})) == []
    assert broken_rules(TWO_RHYTHMS, cadence) == ["more than 2 different bar rhythms"]


def test_a_style_changes_a_threshold_and_a_typo_is_an_error() -> None:
    relaxed = Rules.from_data({"max_run": 8, "max_repeat_share": 0.5, "min_step_share": 0})
    text = "D4:q E4:q F4:q G4:q | A4:e A4:e A4:e A4:e A4:h |"
    assert broken_rules(relaxed, bars(text)) == []
    with pytest.raises(ConstraintError, match="unknown rule 'max_runs'"):
        Rules.from_data({"max_runs": 8})
