"""The text notation: melodies and scores, parse and format, extract, the constrained grammar."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings

from strategies import scores, tunes
from tunesmith.errors import GrammarError, NotationError, RequestTypeError, ScoreError
from tunesmith.model.notation import extract, parse, parse_tune, unparse
from tunesmith.model.score import (
    DURATIONS,
    Bar,
    ChordSymbol,
    Drum,
    Event,
    Header,
    Key,
    Pitch,
    Repeat,
    Score,
    Tune,
)

JIG = "A4:e B4:e C#5:e F#5:q. | G5:e F#5:e C#5:e B4:q. | r:q A4:e B4:q.~ | B4:q. [D4 F#4 A4]:q. |"


def test_parse_reads_notes_rests_ties_and_chords_with_exact_durations() -> None:
    tune = parse_tune(JIG)
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
    assert parse_tune(f"C4:{code}").bars[0].events[0].duration == length


def test_bar_lines_at_either_end_are_optional_and_newlines_are_spaces() -> None:
    assert parse_tune("| C4:h D4:h |\n E4:w |") == parse_tune("C4:h D4:h | E4:w")


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
        parse_tune(text)
    assert (caught.value.line, caught.value.column, caught.value.token) == (line, column, token)


def test_format_writes_four_bars_a_line_with_closing_bar_lines() -> None:
    bar = Bar((Event.note("C4", 4),))
    assert unparse(Tune((bar,) * 5)) == "C4:w | C4:w | C4:w | C4:w |\nC4:w |"


def test_format_refuses_a_duration_the_notation_cannot_express() -> None:
    quintuplet = Tune((Bar((Event.note("C4", Fraction(1, 5)),)),))
    with pytest.raises(NotationError, match="1/5 quarter notes has no code"):
        unparse(quintuplet)


def test_the_lowest_and_highest_midi_pitches_are_notation() -> None:
    tune = parse_tune("C-1:q B-1:q G9:h |")
    assert [event.pitches[0].midi for event in tune.events] == [0, 11, 127]
    assert unparse(tune) == "C-1:q B-1:q G9:h |"


def test_parse_takes_only_text() -> None:
    with pytest.raises(
        RequestTypeError, match=r"parse takes the notation as a str \(received NoneType\)"
    ):
        parse(None)  # type: ignore[arg-type]


@given(tunes)
def test_parse_tune_is_the_inverse_of_format(tune: Tune) -> None:
    assert parse_tune(unparse(tune)) == tune


def test_a_melody_has_plain_bar_lines_only() -> None:
    with pytest.raises(GrammarError, match="plain bar lines") as caught:
        parse_tune("C4:w :| D4:w |")
    assert (caught.value.line, caught.value.column, caught.value.token) == (1, 6, ":|")


# -- scores ------------------------------------------------------------------------------

KESH = """title: The Kesh
meter: 6/8
key: G major
tempo: q.=116

part: Fiddle
role: melody
program: 40
|: G4:e G4:e G4:e G4:q. | D5:q. B4:q. :|

part: Drums
role: drums
program: 0
|: kick:q. snare:q. | kick:q. [snare crash]:q. :|

harmony:
|: G:h. | D:q.~ D:q. :|"""


def test_a_score_has_a_header_labelled_parts_drums_a_harmony_lane_and_repeats() -> None:
    score = parse(KESH)
    assert score.header == Header("6/8", Key.parse("G major"), 116, Fraction(3, 2), "The Kesh")
    fiddle, drums = score.parts
    assert (fiddle.name, fiddle.role, fiddle.program) == ("Fiddle", "melody", 40)
    assert drums.is_drum
    assert drums.bars[1].events[1] == Event(
        (), Fraction(3, 2), drums=(Drum("snare"), Drum("crash"))
    )
    assert score.harmony == (
        ChordSymbol(Fraction(0), Fraction(3), "G"),
        ChordSymbol(Fraction(3), Fraction(3), "D"),
    )  # a tie joins
    assert score.repeats == (Repeat(0, 2),)


def test_format_writes_the_header_then_each_part_then_the_harmony_lane() -> None:
    assert unparse(parse(KESH)) == KESH.replace("D:q.~ D:q.", "D:h.")


def test_bars_alone_are_one_melody_part_in_the_meter_of_their_bars() -> None:
    score = parse("A4:e B4:e C#5:e F#5:q. | G5:e F#5:e C#5:e B4:q. |")
    assert score.header == Header("3/4")  # three quarter notes a bar
    (melody,) = score.parts
    assert (melody.name, melody.role, melody.program) == ("", "melody", 0)
    assert melody.tune == parse_tune("A4:e B4:e C#5:e F#5:q. | G5:e F#5:e C#5:e B4:q. |")


def test_first_and_second_endings() -> None:
    score = parse("|: C4:w |1 D4:w :|2 E4:w | F4:w |")
    assert score.repeats == (Repeat(0, 2, ending=1),)
    assert score.played_bars() == (0, 1, 0, 2, 3)
    assert unparse(score).endswith("|: C4:w |1 D4:w :|2 E4:w | F4:w |")


@settings(max_examples=150, deadline=None)
@given(scores())
def test_parse_is_the_inverse_of_format_for_scores(score: Score) -> None:
    assert parse(unparse(score)) == score


@pytest.mark.parametrize(
    ("text", "line", "column", "token", "reason"),
    [
        ("meter: 7/0\nC4:w", 1, 1, "meter: 7/0", "meter must be N/D"),
        ("tempo: fast\nC4:w", 1, 1, "tempo: fast", "tempo is BEAT=BPM"),
        ("key: H major\nC4:w", 1, 1, "key: H major", "unknown note name 'H'"),
        ("C4:w\ntitle: late", 2, 1, "title: late", "comes before the first part"),
        ("part: A\nC4:w\nrole: bass", 3, 1, "role: bass", "right under a 'part:' line"),
        ("part: A\nrole: singer\nC4:w", 2, 1, "role: singer", "unknown role 'singer'"),
        ("part: A\nprogram: 300\nC4:w", 2, 1, "program: 300", "program must be"),
        ("part: D\nrole: drums\nkick:q~ r:h.", 3, 1, "kick:q~", "drums are struck"),
        ("part: D\nrole: drums\nbongo:w", 3, 1, "bongo:w", "unknown drum 'bongo'"),
        ("|1 C4:w :|2 D4:w |", 1, 9, ":|2", "has no bars of its own"),
        ("|: C4:w |: D4:w :|", 1, 9, "|:", "the one before has not ended"),
        ("|: C4:w | D4:w", 1, 15, "", "never closed"),
        ("C4:w |1 D4:w :| E4:w", 1, 14, ":|", "go together"),
        ("part: A\n|: C4:w :|\npart: B\n|: C4:w |", 4, 9, "|", "the bar line ':|' here"),
        ("C4:w | C4:w\nharmony:\nAm:w", 2, 1, "harmony:", "harmony lane has 1 bars"),
        ("C4:w\nharmony:\nAm:h", 3, 1, "Am:h", "lasts 2 quarter notes"),
        ("C4:w\nharmony:\nAm:h~ G:h", 3, 7, "G:h", "a tie joins one chord"),
        ("C4:w\nharmony:\nHm:w", 3, 1, "Hm:w", "unknown chord symbol 'Hm'"),
    ],
)
def test_score_errors_carry_line_column_and_token(
    text: str, line: int, column: int, token: str, reason: str
) -> None:
    with pytest.raises(GrammarError, match=reason) as caught:
        parse(text)
    assert (caught.value.line, caught.value.column, caught.value.token) == (line, column, token)


def test_parts_with_different_bars_are_a_score_error() -> None:
    with pytest.raises(
        ScoreError, match="bar 1 of part 'B' lasts 2 quarter notes but in part 'A' 4"
    ):
        parse("part: A\nC4:w\npart: B\nC4:h")


def test_extract_keeps_notation_lines_and_drops_prose_and_fences() -> None:
    answer = "Sure! Here is your jig:\n```\nA4:e B4:e C#5:e F#5:q. |\nG5:q. A5:q. |\n```\nEnjoy."
    assert extract(answer) == "A4:e B4:e C#5:e F#5:q. |\nG5:q. A5:q. |"
