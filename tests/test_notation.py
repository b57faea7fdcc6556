"""The text notation: parse, format, extract and the constrained grammar."""

from __future__ import annotations

import itertools
import random
import re
from fractions import Fraction

import pytest
from hypothesis import given

from strategies import tunes
from tunesmith import ComposeRequest
from tunesmith.errors import GrammarError, NotationError, RequestTypeError
from tunesmith.grammar import constrained_gbnf, melodic_gbnf
from tunesmith.notation import extract, format, parse
from tunesmith.score import DURATIONS, Bar, Event, Pitch, Tune
from tunesmith.validate import validate

JIG = "A4:e B4:e C#5:e F#5:q. | G5:e F#5:e C#5:e B4:q. | r:q A4:e B4:q.~ | B4:q. [D4 F#4 A4]:q. |"


def test_parse_reads_notes_rests_ties_and_chords_with_exact_durations() -> None:
    tune = parse(JIG)
    assert len(tune.bars) == 4
    assert tune.bars[0].events[0] == Event.note("A4", Fraction(1, 2))
    assert tune.bars[0].events[3] == Event.note("F#5", Fraction(3, 2))
    assert tune.bars[2].events[0] == Event.rest(1)
    assert tune.bars[2].events[2] == Event.note("B4", Fraction(3, 2), tie=True)
    chord = tune.bars[3].events[1]
    assert chord.pitches == (Pitch.parse("D4"), Pitch.parse("F#4"), Pitch.parse("A4"))
    assert all(bar.duration == Fraction(3) for bar in tune.bars)


@pytest.mark.parametrize(
    ("code", "length"),
    [
        ("w", 4),
        ("h.", 3),
        ("q", 1),
        ("q.", Fraction(3, 2)),
        ("e", Fraction(1, 2)),
        ("s", Fraction(1, 4)),
        ("e3", Fraction(1, 3)),
        ("q..", Fraction(7, 4)),
        ("t", Fraction(1, 8)),
    ],
)
def test_duration_codes_have_their_musical_length(code: str, length: Fraction) -> None:
    assert DURATIONS[code] == length
    assert parse(f"C4:{code}").bars[0].events[0].duration == length


def test_bar_lines_at_either_end_are_optional_and_newlines_are_spaces() -> None:
    assert parse("| C4:h D4:h |\n E4:w |") == parse("C4:h D4:h | E4:w")


@pytest.mark.parametrize(
    ("text", "line", "column", "token", "reason"),
    [
        ("C4:q D4:x", 1, 6, "D4:x", "unknown duration 'x'"),
        ("C4:q\n  H4:q", 2, 3, "H4:q", "unknown pitch 'H4'"),
        ("C4:q D4 E4:q", 1, 6, "D4", "missing ':'"),
        ("C4:w | | D4:w", 1, 8, "|", "empty bar"),
        ("r:q~", 1, 1, "r:q~", "a rest cannot be tied"),
        ("", 1, 1, "", "no notes"),
        ("C4:q [D4]:q", 1, 6, "[D4]:q", "unknown pitch"),
        ("C4:q G#9:q", 1, 6, "G#9:q", r"pitch G#9 is outside the pitches MIDI can hold"),
        ("C4:q [C4 B##9]:q", 1, 6, "[C4 B##9]:q", r"pitch B##9 is outside"),
        ("C-2:q", 1, 1, "C-2:q", "unknown pitch 'C-2'"),
    ],
)
def test_grammar_errors_carry_line_column_and_token(
    text: str, line: int, column: int, token: str, reason: str
) -> None:
    with pytest.raises(GrammarError, match=reason) as caught:
        parse(text)
    assert (caught.value.line, caught.value.column, caught.value.token) == (line, column, token)


def test_format_writes_four_bars_a_line_with_closing_bar_lines() -> None:
    bar = Bar((Event.note("C4", 4),))
    assert format(Tune((bar,) * 5)) == "C4:w | C4:w | C4:w | C4:w |\nC4:w |"


def test_format_refuses_a_duration_the_notation_cannot_express() -> None:
    quintuplet = Tune((Bar((Event.note("C4", Fraction(1, 5)),)),))
    with pytest.raises(NotationError, match="1/5 quarter notes has no code"):
        format(quintuplet)


def test_the_lowest_and_highest_midi_pitches_are_notation() -> None:
    tune = parse("C-1:q B-1:q G9:h |")
    assert [event.pitches[0].midi for event in tune.events] == [0, 11, 127]
    assert format(tune) == "C-1:q B-1:q G9:h |"


def test_parse_takes_only_text() -> None:
    with pytest.raises(
        RequestTypeError, match=r"parse takes the notation as a str \(received NoneType\)"
    ):
        parse(None)  # type: ignore[arg-type]


@given(tunes)
def test_parse_is_the_inverse_of_format(tune: Tune) -> None:
    assert parse(format(tune)) == tune


def test_extract_keeps_notation_lines_and_drops_prose_and_fences() -> None:
    answer = "Sure! Here is your jig:\n```\nA4:e B4:e C#5:e F#5:q. |\nG5:q. A5:q. |\n```\nEnjoy."
    assert extract(answer) == "A4:e B4:e C#5:e F#5:q. |\nG5:q. A5:q. |"


def _grammar(**overrides: object) -> str:
    options: dict[str, object] = {
        "pitches": [Pitch.parse(name) for name in ("A4", "B4", "C#5")],
        "final_pitches": [Pitch.parse("A4")],
        "durations": ["e", "q", "q."],
        "bar_length": Fraction(3),
        "bar_count": 5,
    }
    options.update(overrides)
    return constrained_gbnf(**options)  # type: ignore[arg-type]


def test_constrained_grammar_lists_exactly_the_allowed_pitches_and_final_notes() -> None:
    rules = dict(line.split(" ::= ", 1) for line in _grammar().splitlines())
    assert rules["pitch"] == '"A4" | "B4" | "C#5"'
    assert rules["final"] == '"A4"'


def test_constrained_grammar_fixes_the_bar_count_and_the_layout_of_format() -> None:
    root = _grammar().splitlines()[0]
    assert root == 'root ::= l1 " | " l1 " | " l1 " | " l1 " |\\n" f1 " |"'


def test_constrained_grammar_has_a_rule_per_remaining_length_of_the_bar() -> None:
    rules = dict(line.split(" ::= ", 1) for line in _grammar().splitlines())
    # six eighths in a 6/8 bar: an eighth leaves five, a quarter four, a dotted quarter three
    assert rules["c6"] == 'eve " " c5 | evq " " c4 | evqd " " c3'
    assert rules["c1"] == "eve"
    assert rules["g1"] == "fine"  # the last event of the tune is a final (tonic) pitch


def test_rhythm_cells_keep_notes_inside_the_beat_or_spanning_whole_beats() -> None:
    grammar = _grammar(durations=["e", "q", "q.", "h."], cell_length=Fraction(3, 2))
    rules = dict(line.split(" ::= ", 1) for line in grammar.splitlines())
    assert rules["c3"] == 'eve " " c2 | evq " " c1 | evqd'  # e e e, e q, q e, q.
    assert rules["l2"] == 'c3 " " l1 | evhd'  # two beats, or one note over both
    assert rules["f2"] == 'c3 " " f1 | finhd'


def test_constrained_grammar_refuses_durations_that_cannot_fill_the_bar() -> None:
    with pytest.raises(NotationError, match="cannot fill a bar"):
        _grammar(durations=["h"], bar_length=Fraction(3))


def test_a_cadence_constrains_the_last_note_of_its_bar() -> None:
    grammar = _grammar(bar_count=4, cadences={1: [Pitch.parse("B4")]})
    rules = dict(line.split(" ::= ", 1) for line in grammar.splitlines())
    assert rules["root"] == 'l1 " | " f1-1 " | " l1 " | " f1 " |"'
    assert rules["final1"] == '"B4"'
    assert rules["final"] == '"A4"'


def walk(grammar: str, rng: random.Random) -> str:
    """A random sentence of the melodic grammar: each alternative is a literal and a rule."""
    lines = grammar.splitlines()
    rules = {
        head: re.findall(r'"((?:[^"\\]|\\.)*)"(?: ([\w-]+))?', body)
        for head, body in (line.split(" ::= ", 1) for line in lines[1:])
    }
    text, current = [], lines[0].split(" ::= ")[1]
    while current:
        literal, current = rng.choice(rules[current])
        text.append(literal.replace("\\n", "\n"))
    return "".join(text)


@pytest.mark.parametrize("seed", range(40))
def test_every_sentence_of_the_melodic_grammar_keeps_every_constraint(seed: int) -> None:
    request = ComposeRequest(notes="A B C# F# G", meter="6/8", bars=4, low="A3", high="A5")
    constraints = request.constraints
    grammar = melodic_gbnf(
        pitches=constraints.pitches,
        final_pitches=constraints.tonic_pitches,
        durations=constraints.durations,
        bar_length=constraints.bar_length,
        bar_count=4,
        max_leap=5,
        cell_length=constraints.cell_length,
        cadences={1: constraints.half_cadence_pitches},
    )
    text = walk(grammar, random.Random(seed))
    tune = parse(text)
    assert format(tune) == text
    assert validate(tune, request).ok
    melody = [event.pitches[0].midi for event in tune.events]
    assert all(abs(b - a) <= 5 or abs(b - a) == 12 for a, b in itertools.pairwise(melody))
    assert tune.bars[1].events[-1].pitches[0].pitch_class.semitone in {11, 4, 8}  # V of A
    cell = Fraction(3, 2)  # rhythm cells: a note stays in its beat or spans whole beats
    for bar in tune.bars:
        start = Fraction(0)
        for event in bar.events:
            end = start + event.duration
            inside = start // cell == (end - Fraction(1, 96)) // cell
            assert inside or (start % cell == 0 and event.duration % cell == 0)
            start = end
