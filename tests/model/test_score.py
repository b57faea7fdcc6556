"""The data model: a score of parts with the same bars, drums by name, chords, repeats."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from tunesmith.errors import NoteNameError, ScoreError
from tunesmith.model.header import Header, Key, clean_text
from tunesmith.model.notation import parse
from tunesmith.model.score import (
    Bar,
    ChordSymbol,
    Drum,
    Event,
    Part,
    PitchClass,
    Repeat,
    Score,
    Source,
    split_duration,
)

WHOLE = Bar((Event.note("C4", 4),))


def test_a_score_compares_by_value_and_ignores_where_it_was_read_from() -> None:
    one = Score(Header(), (Part((WHOLE,)),))
    other = Score(Header(), (Part((WHOLE,)),), source=Source("x.mid", "midi"))
    assert one == other
    assert replace(one, header=Header("3/4")) != one


def test_the_single_melody_case_is_short() -> None:
    score = Score.of_tune(parse("A4:h. | D5:h. |").melody.tune, Header("3/4"), program=73)
    assert (score.melody.program, score.bar_count, score.duration) == (73, 2, Fraction(6))


def test_the_header_knows_the_meters_beat_from_music21() -> None:
    assert Header("6/8").beat == Fraction(3, 2)
    assert Header("2/2").beat == 2
    assert Header("6/8", tempo=116).qpm == 174
    assert Header("12/16").bar_length == 3


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (lambda: Header("7/0"), r"meter must be N/D .* \(received '7/0'\)"),
        (lambda: Header(tempo=0), "tempo must give 3.6 to 60000 quarter notes a minute"),
        (lambda: Header(beat=Fraction(1, 5)), "beat must be the length of a duration code"),
        (lambda: Header(title="Reel\nK:C#"), "title must be one line"),
        (lambda: Key(PitchClass.parse("G#")), "8 sharps; no file format holds more than 7"),
        (lambda: Key(PitchClass.parse("C"), "bebop"), "mode must be one of major, minor"),
    ],
    ids=["meter", "tempo", "beat", "title", "key", "mode"],
)
def test_a_header_no_file_can_hold_is_a_score_error(header: object, message: str) -> None:
    with pytest.raises(ScoreError, match=message):
        header()  # type: ignore[operator]


def test_clean_text_puts_a_title_on_one_line_without_control_characters() -> None:
    assert clean_text(" Reel\r\nK:C#\x00\x07 of\tthe  Year ") == "Reel K:C# of the Year"


def test_keys_know_their_signature_scale_and_spelling() -> None:
    dorian = Key.parse("E dorian")
    assert dorian.sharps == 2
    assert [str(pc) for pc in dorian.scale] == ["E", "F#", "G", "A", "B", "C#", "D"]
    assert str(Key.parse("F minor").spell(68)) == "Ab4"
    assert str(Key.parse("D").spell(70)) == "A#4"  # not in the key: a sharp in a sharp key
    notes = tuple(PitchClass.parse(n) for n in ["A", "B", "C#", "F#", "G"])
    assert Key.containing(notes) == Key.parse("A mixolydian")


def test_drums_are_named_as_general_midi_percussion() -> None:
    assert [Drum(name).midi for name in ("kick", "snare", "closed-hat", "cowbell")] == [
        36,
        38,
        42,
        56,
    ]
    assert Drum.from_midi(42) == Drum("closed-hat")
    assert Drum.from_midi(27) == Drum("key-27")  # outside General MIDI's map
    with pytest.raises(NoteNameError, match="unknown drum 'kik'"):
        Drum("kik")


def test_a_part_holds_pitches_or_drums_as_its_role_says() -> None:
    hit = Bar((Event.hit("kick", 4),))
    Part((hit,), role="drums")
    with pytest.raises(ScoreError, match="bar 1 has drums: a drum part holds drum hits"):
        Part((hit,), name="Piano")
    with pytest.raises(ScoreError, match="role must be one of melody, counter"):
        Part((WHOLE,), role="lead")  # type: ignore[arg-type]


def test_parts_need_the_same_bars() -> None:
    with pytest.raises(ScoreError, match="part 'B' has 2 bars but part 'A' has 1"):
        Score(Header(), (Part((WHOLE,), name="A"), Part((WHOLE, WHOLE), name="B")))


def test_the_harmony_lane_is_in_order_and_inside_the_score() -> None:
    melody = (Part((WHOLE,)),)
    with pytest.raises(ScoreError, match="starts before the one before it ends"):
        Score(
            Header(),
            melody,
            (
                ChordSymbol(Fraction(0), Fraction(3), "C"),
                ChordSymbol(Fraction(2), Fraction(2), "G"),
            ),
        )
    with pytest.raises(ScoreError, match="runs to 5 quarter notes, past the score's end at 4"):
        Score(Header(), melody, (ChordSymbol(Fraction(0), Fraction(5), "C"),))
    with pytest.raises(ScoreError, match="unknown chord symbol 'H7'"):
        ChordSymbol(Fraction(0), Fraction(1), "H7")


def test_repeats_are_in_order_inside_the_score() -> None:
    melody = (Part((WHOLE,) * 4),)
    with pytest.raises(ScoreError, match="0 <= ending < end - start"):
        Repeat(0, 2, 2)
    with pytest.raises(ScoreError, match="overlaps the repeat before it"):
        Score(Header(), melody, repeats=(Repeat(0, 3), Repeat(2, 4)))


def test_the_expanded_score_plays_repeats_and_endings_out_with_their_chords() -> None:
    score = parse("|: C4:w |1 D4:w :|2 E4:w | F4:w~ |: F4:w | G4:w :|\nharmony:\n"
                  "|: C:w |1 G:w :|2 Am:w | F:w |: r:w | G:w :|")  # fmt: skip
    played = score.expanded()
    assert played.repeats == ()
    notes = [str(bar.events[0].pitches[0]) for bar in played.melody.bars]
    assert notes == ["C4", "D4", "C4", "E4", "F4", "F4", "G4", "F4", "G4"]
    assert [(c.onset, c.figure) for c in played.harmony] == [
        (Fraction(0), "C"),
        (Fraction(4), "G"),
        (Fraction(8), "C"),
        (Fraction(12), "Am"),
        (Fraction(16), "F"),
        (Fraction(24), "G"),
        (Fraction(32), "G"),
    ]


def test_a_length_is_split_into_the_fewest_notation_durations() -> None:
    assert split_duration(Fraction(5, 4)) == (Fraction(1), Fraction(1, 4))
    assert split_duration(Fraction(7, 2)) == (Fraction(7, 2),)  # a double-dotted half
    assert split_duration(Fraction(5, 12)) == (Fraction(1, 3), Fraction(1, 12))


def test_a_tie_out_of_a_repeat_holds_only_into_the_bar_written_after_it() -> None:
    played = parse("|: F4:w | G4:w~ :| G4:w |").expanded().melody.bars
    assert [bar.events[0].tie for bar in played] == [False, False, False, True, False]
