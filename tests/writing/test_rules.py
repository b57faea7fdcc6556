"""The musical rules: each is data a style can change, and each has a case that breaks it."""

from __future__ import annotations

import itertools
from dataclasses import replace
from fractions import Fraction
from typing import Any

import pytest

from tunesmith.errors import ConstraintError
from tunesmith.model.notation import parse_tune as parse
from tunesmith.model.score import Bar
from tunesmith.requests.request import ComposeRequest
from tunesmith.writing.rules import (
    Rules,
    bar_key,
    broken_rules,
    melody,
    refused_bars,
    run_into_copy,
)
from tunesmith.writing.script import Writing

RULES = Rules()


def bars(text: str) -> list[Bar]:
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
    with pytest.raises(ConstraintError, match="unknown rule 'max_runs'"):
        Rules.from_data({"max_runs": "corpus"}, {"max_run": 4})


def test_a_rule_set_to_corpus_takes_the_threshold_measured_in_real_tunes_of_the_style() -> None:
    measured = {"max_leap_share": 0.3, "max_run": 4}
    rules = Rules.from_data({"max_leap_share": "corpus", "max_rhythms": 6}, measured)
    assert (rules.max_leap_share, rules.max_rhythms, rules.max_run) == (0.3, 6, Rules().max_run)
    unmeasured = Rules.from_data({"max_leap_share": "corpus"})  # a style in another meter
    assert unmeasured.max_leap_share == Rules().max_leap_share


def test_a_dance_style_leaps_and_steps_as_nine_in_ten_real_tunes_of_its_dance_may() -> None:
    jig = Writing.of(ComposeRequest(style="jig", key="D")).rules
    reel = Writing.of(ComposeRequest(style="reel", key="G")).rules
    air = Writing.of(ComposeRequest(style="air", key="E", mode="minor")).rules
    assert 0.2 < jig.max_leap_share < reel.max_leap_share < 0.5
    assert reel.min_step_share < jig.min_step_share < Rules().min_step_share
    assert air.max_leap_share == Rules().max_leap_share  # no real airs measured: the default


def test_refused_bars_judges_repeated_cells_and_leaves_phrase_endings_rhythm_free() -> None:
    jig = bars("A4:e F#4:e A4:e B4:q. | A4:e F#4:e A4:e A4:e F#4:e A4:e |")
    assert refused_bars(Rules(max_same_beats=1), jig, cell=JIG_CELL) == [
        (1, ["a rhythm cell's notes played more than 1 times in a row"])
    ]
    assert refused_bars(Rules(max_same_beats=1), jig) == []  # no cell: the rule is off
    three = bars("D4:q E4:q F#4:q G4:q | A4:h B4:h | C#5:q. D5:e E5:h |")
    two_rhythms = Rules(max_rhythms=2, min_step_share=0.0)
    assert refused_bars(two_rhythms, three) == [(2, ["more than 2 different bar rhythms"])]
    assert refused_bars(two_rhythms, three, free_rhythm=frozenset({2})) == []


def test_refused_bars_judges_a_whole_tune_bar_by_bar_as_the_loop_would() -> None:
    text = (
        "D4:q E4:q F#4:q G4:q | A4:q B4:q A4:q G4:q | D4:q E4:q F#4:q G4:q | A4:q A4:q A4:q A4:q |"
    )
    # bar 3 repeats bar 1: a copy, not judged; bar 4's four equal notes break max_run
    only_runs = Rules(max_repeat_share=1.0, max_pitch_share=1.0)
    assert refused_bars(only_runs, bars(text)) == [(3, ["more than 3 equal notes in a row"])]
    assert refused_bars(replace(only_runs, max_run=4), bars(text)) == []


# -- every threshold: at the limit passes, one past breaks ---------------------------------

# Every rule off; each test turns one on. Melodies are given as intervals in semitones from
# D4, a quarter note each; the bar being judged holds the last ``judged`` notes.
OFF = Rules(
    unique_bars=False,
    max_run=99,
    max_repeat_share=1.0,
    min_step_share=0.0,
    max_same_beats=99,
    max_rhythms=None,
    max_leap_share=1.0,
    resolve_leaps=False,
    max_pitch_share=1.0,
    max_zigzag=99,
    max_turn_share=1.0,
)
NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]


def melody_text(intervals: list[int], judged: int) -> str:
    keys = [62]
    for interval in intervals:
        keys.append(keys[-1] + interval)
    notes = [f"{NAMES[key % 12]}{key // 12 - 1}:q" for key in keys]
    before, last = notes[: len(notes) - judged], notes[len(notes) - judged :]
    return " | ".join(" ".join(bar) for bar in (before, last) if bar) + " |"


def broken(intervals: list[int], judged: int = 4, **threshold: Any) -> list[str]:
    """The rules the last ``judged`` notes break, with only ``threshold``'s rule on."""
    return broken_rules(replace(OFF, **threshold), bars(melody_text(intervals, judged)))


RUN = "more than 3 equal notes in a row"


@pytest.mark.parametrize(
    ("intervals", "judged", "expected"),
    [
        ([0, 0, 2, 2, -4], 6, []),  # D D D E F# D: three at the start
        ([2, -2, 0, 0, 2], 6, []),  # three after a change
        ([0, 0, 0, 2, 2], 6, [RUN]),  # four at the start
        ([2, -2, 0, 0, 0, 2], 7, [RUN]),  # four after a change
        ([2, -2, 0, 0, 0, 2], 2, [RUN]),  # the judged bar's first note makes four
        ([2, -2, 0, 0, 0, 2, 2], 2, []),  # four, all in the bar before
    ],
)
def test_at_most_max_run_equal_notes_in_a_row(
    intervals: list[int], judged: int, expected: list[str]
) -> None:
    assert broken(intervals, judged, max_run=3) == expected


REPEATS = "repeated notes are more than 20% of intervals"
FOUR_IN_TWENTY = [2, -2, 2, -2, 0, 2, -2, 2, -2, 0, 2, -2, 2, -2, 0, 2, -2, 2, 0, -2]


def test_repeated_notes_up_to_the_share_pass_and_one_more_breaks() -> None:
    assert broken(FOUR_IN_TWENTY, max_repeat_share=0.2) == []  # 4 of 20
    five = [*FOUR_IN_TWENTY[:16], 0, *FOUR_IN_TWENTY[17:]]
    assert broken(five, max_repeat_share=0.2) == [REPEATS]
    earlier = [2, -2, 0, 2, -2, 0, 2, -2, 0, 2, -2, 0, 2, -2, 0, 2, -2, 2, -2, 2]
    assert broken(earlier, max_repeat_share=0.2) == []  # 5 of 20, none in the judged bar


def test_share_rules_wait_for_twelve_notes() -> None:
    eleven_intervals = [2, -2, 0, 2, -2, 0, 2, -2, 2, -2, 0]  # 12 notes, 3 repeats of 11
    assert broken(eleven_intervals, max_repeat_share=0.2) == [REPEATS]
    ten_intervals = [2, 0, -2, 0, 2, -2, 2, -2, 2, 0]  # 11 notes, 3 repeats of 10
    assert broken(ten_intervals, max_repeat_share=0.2) == []


STEPS_SHORT = "steps are less than 50% of intervals"


def test_steps_down_to_the_share_pass_and_one_fewer_breaks() -> None:
    # steps are 1 or 2 semitones, either way; repeats (0) and thirds (3) are not steps
    ten_of_twenty = [1, -2, 2, -1, 0, 3, -3, 0, 1, 2, -1, -2, 3, 0, -3, 1, 0, 2, 3, -3]
    assert broken(ten_of_twenty, min_step_share=0.5) == []
    nine = [*ten_of_twenty[:-3], 0, 3, -3]
    assert broken(nine, min_step_share=0.5) == [STEPS_SHORT]


def test_a_bar_short_of_steps_passes_once_its_last_interval_is_a_step() -> None:
    few = [3, 0, -3, 0, 3, 0, -3, 0, 3, 0, -3, 0, 3, 0, -3, 1]  # 1 step of 16
    assert broken(few, min_step_share=0.5) == []
    assert broken([*few[:-1], 3], min_step_share=0.5) == [STEPS_SHORT]  # ends on a third
    assert broken([*few, 0], judged=1, min_step_share=0.5) == [STEPS_SHORT]  # a bar of one note
    assert broken([*few[:-2], 2, 0], min_step_share=0.5) == [STEPS_SHORT]  # a step, then not


LEAPS = "leaps are more than 20% of intervals"


def test_leaps_up_to_the_share_pass_and_one_more_breaks() -> None:
    # a leap is at least a fourth (5 semitones); a major third (4) is not
    four_of_twenty = [5, -4, 2, -2, -5, 4, 2, -2, 5, -4, 2, -2, 4, -2, 2, -4, 2, -5, 2, 2]
    assert broken(four_of_twenty, leap=5, max_leap_share=0.2) == []
    five = [*four_of_twenty[:-1], -5]
    assert broken(five, leap=5, max_leap_share=0.2) == [LEAPS]
    earlier = [5, -5, 5, -5, 5, -5, 2, -2, 2, -2, 2, -2, 2, -2, 2, -2, 2, -2, 2, -2]
    assert broken(earlier, leap=5, max_leap_share=0.2) == []  # 6 of 20, none in the bar


SAME_WAY = "two leaps in a row the same way"


@pytest.mark.parametrize(
    ("intervals", "judged", "expected"),
    [
        ([5, 5, -2, -2], 5, [SAME_WAY]),  # a fourth, then a fourth up again
        ([5, -5, -2, 2], 5, []),  # a fourth, then back
        ([5, 4, -2, -2], 5, []),  # a fourth, then a third: not a leap
        ([4, 5, -2, -2], 5, []),  # a third, then a fourth
        ([5, 2, 5, -2], 5, []),  # leaps apart
        ([5, -2, 2, 5], 5, []),  # first and last leaps are not in a row
        ([-5, -5, 2, 2], 2, []),  # the leaps were in the bar before
        ([2, 5, 5, 2], 2, [SAME_WAY]),  # the judged bar's first note ends the second leap
    ],
)
def test_a_leap_is_not_followed_by_a_leap_the_same_way(
    intervals: list[int], judged: int, expected: list[str]
) -> None:
    assert broken(intervals, judged, leap=5, resolve_leaps=True) == expected


PITCH = "one pitch is more than 25% of the notes"


def test_one_pitch_up_to_the_share_passes_and_one_more_breaks() -> None:
    # six D4s of 21 notes, none in the judged bar: the rule waits for the pitch to recur
    # (the share at its limit: test_one_pitch_at_exactly_the_share_passes_and_...)
    six_ds_before = [2, -2, 4, -4, 5, -5, 7, -7, 9, -9, 2, 2, 1, 2, 2, 1, 2, 2, -3, 1]
    assert broken(six_ds_before, max_pitch_share=0.25) == []
    six = [*six_ds_before[:-2], -14, 2]  # D4 once more, in the judged bar
    assert broken(six, max_pitch_share=0.25) == [PITCH]
    elsewhere = [2, -2, 4, -4, 5, -5, 7, -7, 9, -9, 2, -2, 14, 2, 1, 2, 2, 1, 2, 2]
    assert broken(elsewhere, max_pitch_share=0.25) == []  # six Ds, none in the judged bar


SPAN = "the tune spans more than 12 semitones"


def test_the_span_may_reach_the_limit_and_not_pass_it() -> None:
    assert broken([2, 2, 1, 2, 2, 2, 1], max_span=12) == []  # D4 to D5
    assert broken([2, 2, 1, 2, 2, 2, 2], max_span=12) == [SPAN]  # D4 to E5
    assert broken([13, -13, 2, 2], judged=2, max_span=12) == []  # as wide before the bar
    assert broken([13, -13, 2, 2], judged=4, max_span=12) == [SPAN]


ZIGZAG = "more than 3 changes of direction in a row"


def test_at_most_max_zigzag_changes_of_direction_in_a_row() -> None:
    assert broken([2, 2, -2, 2, -2, -2], max_zigzag=3) == []  # three changes
    assert broken([2, 2, -2, 2, -2, 2], max_zigzag=3) == [ZIGZAG]  # four
    assert broken([2, -2, 2, 0, -2, 2, -2, 2], max_zigzag=3) == []  # a repeat breaks the row
    assert broken([2, -2, 2, -2, 2, 2, 2], judged=2, max_zigzag=3) == []  # four, all before


TURNS = "changes of direction are more than 50% of moves"


def test_changes_of_direction_up_to_the_share_pass_and_one_more_breaks() -> None:
    # 15 moves, 14 pairs: 7 turns may pass, 8 break; repeats are not moves
    seven = [2, 2, -2, -2, 2, 2, -2, -2, 2, 2, -2, 0, -2, 2, 2, -2]
    assert broken(seven, max_turn_share=0.5) == []
    eight = [2, 2, -2, -2, 2, 2, 2, -2, -2, 2, 2, 0, -2, 2, -2, 2]
    assert broken(eight, max_turn_share=0.5) == [TURNS]
    assert broken([*eight[:-1], -2], max_turn_share=0.5) == []  # the last move carries on
    assert broken([2, -2] * 6, max_turn_share=0.5) == [TURNS]  # twelve moves: judged
    assert broken([2, -2] * 5 + [2], max_turn_share=0.5) == []  # eleven: too few to judge


def test_a_bar_whose_last_move_carries_on_is_not_judged_for_turns_however_many_came_before() -> (
    None
):
    zigzag = [2, 2, -2, 2, -2, 2, -2, 2, -2, 2, -2, 2, -2]  # 11 turns in 12 pairs of moves
    assert broken(zigzag, max_turn_share=0.5) == [TURNS]  # the last move turned
    assert broken([*zigzag, -2], max_turn_share=0.5) == []  # it carries on: judged later


JIG_CELL = Fraction(3, 2)
AFA, GEA, BGE = "A4:e F#4:e A4:e", "G4:e E4:e A4:e", "B4:e G4:e E4:e"


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ([AFA, AFA, GEA, AFA], []),  # twice, then again later: not in a row
        ([GEA, AFA, AFA, BGE], []),  # twice after another cell
        ([AFA, AFA, AFA, GEA], ["a rhythm cell's notes played more than 2 times in a row"]),
        ([GEA, AFA, AFA, AFA], ["a rhythm cell's notes played more than 2 times in a row"]),
    ],
)
def test_a_jig_bar_plays_one_cell_at_most_twice_in_a_row(
    cells: list[str], expected: list[str]
) -> None:
    bar = bars(" ".join(cells) + " |")
    assert broken_rules(replace(OFF, max_same_beats=2), bar, cell=JIG_CELL) == expected


@pytest.mark.parametrize(
    ("growing", "expected"),
    [
        ("F#4:q G4:q A4:q B4:e", []),  # its last note may grow into the bar of quarters
        ("F#4:q G4:q A4:q B4:q", []),  # it already is that bar
        ("F#4:q.", []),  # its first note may grow into the half note that opens bar 2
        ("F#4:h", []),  # it is that half note already, and bar 2 goes on after it
        ("F#4:q G4:q A4:q r:e", ["more than 2 different bar rhythms"]),  # a rest, not a note
        ("F#4:q G4:q A4:q B4:q C5:e", ["more than 2 different bar rhythms"]),  # one note more
    ],
)
def test_a_bar_being_written_may_still_become_a_rhythm_used_so_far(
    growing: str, expected: list[str]
) -> None:
    written = bars(STEPS + growing + " |")
    assert broken_rules(TWO_RHYTHMS, written, complete=False) == expected


def test_a_bar_not_yet_begun_breaks_nothing() -> None:
    written = [*bars(STEPS), Bar(())]
    assert broken_rules(RULES, written, complete=False) == []
    assert broken_rules(RULES, written) == []


def test_a_finished_bar_is_judged_by_its_rhythm_as_written_not_by_what_it_could_have_become() -> (
    None
):
    short = STEPS + "F#4:h |"  # a half note: bar 2 begins so, but this bar ends there
    assert broken_rules(TWO_RHYTHMS, bars(short), complete=False) == []
    assert broken_rules(TWO_RHYTHMS, bars(short)) == ["more than 2 different bar rhythms"]


def test_a_tied_note_sounds_once_within_a_bar_and_across_the_bar_line() -> None:
    assert melody(bars("D4:q~ D4:q E4:h | F#4:h G4:h~ | G4:q A4:q B4:h |")) == [
        (62, 0),
        (64, 0),
        (66, 1),
        (67, 1),
        (69, 2),
        (71, 2),
    ]
    assert melody(bars("D4:q D4:q E4:h |")) == [(62, 0), (62, 0), (64, 0)]  # no tie: two notes


def test_a_note_held_over_the_bar_line_is_not_a_repeated_note() -> None:
    held = "D4:q E4:q F#4:q A4:q~ | A4:q A4:q A4:q B4:q |"  # three As sound, one held into bar 2
    assert broken_rules(replace(OFF, max_run=3), bars(held)) == []
    struck = held.replace("~", "")
    assert broken_rules(replace(OFF, max_run=3), bars(struck)) == [RUN]


def test_a_whole_step_ending_a_bar_is_a_step_as_a_half_step_is() -> None:
    few = [3, 0, -3, 0, 3, 0, -3, 0, 3, 0, -3, 0, 3, 0, -3, 2]  # 1 step of 16, the last
    assert broken(few, min_step_share=0.5) == []
    assert broken([*few[:-1], -2], min_step_share=0.5) == []


def intervals_of(pitches: list[int]) -> list[int]:
    """The intervals of a melody that starts on D4 (MIDI 62), for :func:`broken`."""
    assert pitches[0] == 62
    return [b - a for a, b in itertools.pairwise(pitches)]


def test_one_pitch_at_exactly_the_share_passes_and_one_note_more_breaks() -> None:
    # 20 notes: D4 five times (25%), the last of them in the judged bar
    five_of_20 = [62, 64, 62, 66, 62, 67, 62, 69, 71, 72, 74, 76, 74, 72, 71, 69, 67, 66, 64, 62]
    assert broken(intervals_of(five_of_20), max_pitch_share=0.25) == []
    six_of_20 = [*five_of_20[:17], 62, *five_of_20[18:]]
    assert broken(intervals_of(six_of_20), max_pitch_share=0.25) == [PITCH]


def test_a_first_bar_wider_than_the_span_breaks_it() -> None:
    # no bar before it to have been as wide: its first two notes are as wide, which is no excuse
    assert broken([14, -14, 2], max_span=12) == [SPAN]
    assert broken([12, -12, 2], max_span=12) == []


def test_changes_of_direction_are_counted_from_the_first_interval() -> None:
    assert broken([2, -2, 2, -2, -2], judged=6, max_zigzag=3) == []  # three, then on down
    assert broken([2, -2, 2, -2, 2], judged=6, max_zigzag=3) == [ZIGZAG]  # four


def test_a_bar_without_notes_breaks_no_rule_of_the_notes_before_it() -> None:
    eight = [2, 2, -2, -2, 2, 2, 2, -2, -2, 2, 2, 0, -2, 2, -2, 2]  # too many turns, see above
    turning = replace(OFF, max_turn_share=0.5)
    written = bars(melody_text(eight, 4))
    assert broken_rules(turning, written) == [TURNS]
    assert broken_rules(turning, [*written, *bars("r:w |")]) == []
    assert broken_rules(turning, [*written, Bar(())], complete=False) == []


def test_a_bar_the_plan_plays_again_at_once_keeps_the_run_rule_across_the_repeat() -> None:
    rules = Rules(max_run=3)
    # E4:h E4:q, then the same again: four E's in a row, one more than max_run
    assert run_into_copy(rules, bars("D4:h. | E4:h E4:q |")) == ["more than 3 equal notes in a row"]
    assert run_into_copy(rules, bars("D4:h. | E4:h D4:q |")) == []  # E D E D: no run
    assert run_into_copy(rules, bars("E4:h. | D4:h E4:q |")) == []  # E, D E D E: runs of one
    # the copy is of the last bar, however many come before it
    assert run_into_copy(rules, bars("D4:h. | F4:h. | E4:h E4:q |")) == [
        "more than 3 equal notes in a row"
    ]
    assert broken_rules(rules, bars("D4:h. | E4:h E4:q |")) == []  # the bar alone keeps it
