"""The text notation: parse, format, extract and the constrained grammar."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given

from strategies import tunes
from tunesmith.errors import GrammarError, NotationError, RequestTypeError
from tunesmith.notation import extract, format, parse
from tunesmith.score import DURATIONS, Bar, Event, Pitch, Tune

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
