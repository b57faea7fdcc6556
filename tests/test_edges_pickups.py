"""Pickups, short bars and endings, kept by every reader and writer (issue 20, items 2 and 3).

MIDI has no bar lines: music21's MIDI writer, like many DAWs, writes a tune that starts with
a pickup as notes from time 0 under the meter's time signature alone, and a beat of silence
after its end. music21's MusicXML writer fills a short bar in mid-tune (the pickup into the
B part, a first ending) up to the meter with rests it does not print. Real tunes of music21's
corpus, written by music21, read back with the bars their ABC has.
"""

from __future__ import annotations

import io
import itertools
from fractions import Fraction
from pathlib import Path

import mido
import pytest

from corpus_tunes import abc_of
from grammar_walk import WalkingBackend
from tunesmith import continue_score, harmonise, read_score
from tunesmith.checks.corpus import corpus_tune
from tunesmith.io.abc import abc_text
from tunesmith.io.midi import midi_bytes, read_midi_notes, sounding_notes
from tunesmith.io.midi_read import _accent, _Contents, _end_with_the_music, _pickup
from tunesmith.io.write import write_score
from tunesmith.model.notation import unparse
from tunesmith.model.score import Key, Score
from tunesmith.music.rhythm import meter_of

JIG_IN_G_MINOR = "oneills1850/0001-0050.abc#5"
"""The Fun at Donnybrook: a pickup of an eighth, F# as the leading tone, a short last bar."""


def written_score(tune_id: str, folder: Path) -> Score:
    """The tune as its ABC writes it."""
    path = folder / "tune.abc"
    path.write_text(abc_of(tune_id), "utf-8")
    return read_score(path)


def music21_file(tune_id: str, folder: Path, suffix: str) -> Path:
    """The tune written by music21 (``.mid`` or ``.musicxml``)."""
    path = folder / f"by_music21{suffix}"
    corpus_tune(tune_id).write("midi" if suffix == ".mid" else "musicxml", fp=path)
    return path


def bar_lines(score: Score) -> set[Fraction]:
    return set(itertools.accumulate(score.bar_lengths))


def heard(score: Score) -> list[tuple[int, Fraction, Fraction]]:
    return sorted(note for part in score.parts for note in sounding_notes(part.tune))


# -- MIDI: the pickup found, the key as the file says ------------------------------------------

MIDI_TUNES = {
    "jig in G minor, its last bar short": JIG_IN_G_MINOR,
    "hornpipe, its last bar whole": "oneills1850/0001-0050.abc#42",
    "air in 3/4, a pickup of half a bar": "oneills1850/0001-0050.abc#12",
    "jig without a pickup, ending on a rest": "oneills1850/0201-0300.abc#244",
}


@pytest.mark.parametrize("tune_id", MIDI_TUNES.values(), ids=MIDI_TUNES.keys())
def test_a_music21_midi_file_reads_with_the_tunes_bar_lines_and_ends_with_its_music(
    tune_id: str, tmp_path: Path
) -> None:
    written = written_score(tune_id, tmp_path)
    path = music21_file(tune_id, tmp_path, ".mid")
    score = read_score(path)
    assert score.bar_lengths[0] == written.bar_lengths[0]  # the pickup, or a whole first bar
    assert bar_lines(score) <= bar_lines(written)  # MIDI has no short bar in mid-tune
    assert score.duration == written.duration  # no beat of silence, no bar of rests after it
    assert heard(score) == sorted(read_midi_notes(path))  # every note when the file plays it


def test_a_pickup_the_reader_found_is_said_in_the_source(tmp_path: Path) -> None:
    score = read_score(music21_file(JIG_IN_G_MINOR, tmp_path, ".mid"))
    assert score.source is not None
    assert any("the first bar is a pickup of 1/2 quarter notes" in n for n in score.source.notes)


def test_a_grace_note_music21_writes_as_an_end_then_a_start_is_dropped_not_held_on(
    tmp_path: Path,
) -> None:
    tune_id = "oneills1850/0001-0050.abc#14"  # The Siege of Troy: three grace notes
    written = written_score(tune_id, tmp_path)
    score = read_score(music21_file(tune_id, tmp_path, ".mid"))
    assert all(len(event.pitches) <= 1 for event in score.melody.tune.events)  # one line
    assert score.source is not None
    assert "dropped 3 notes that end as they begin (music21 writes grace notes so)" in (
        score.source.notes
    )
    assert score.bar_lengths[0] == written.bar_lengths[0]
    assert bar_lines(score) <= bar_lines(written)
    assert score.duration == written.duration


def test_a_midi_file_that_ends_on_a_bar_line_keeps_its_bar_lines_from_the_start(
    tmp_path: Path,
) -> None:
    path = music21_file(JIG_IN_G_MINOR, tmp_path, ".mid")
    midi = mido.MidiFile(path)
    bar = 3 * midi.ticks_per_beat
    for track in midi.tracks:  # the same notes, the file's end moved onto a bar line
        ticks = sum(message.time for message in track[:-1])
        track[-1] = track[-1].copy(time=-ticks % bar or bar)
    midi.save(path)
    score = read_score(path)
    assert set(score.bar_lengths) == {3}
    assert score.source is not None
    assert not any("pickup" in note for note in score.source.notes)


def test_the_jig_reads_in_g_minor_with_its_f_sharps(tmp_path: Path) -> None:
    score = read_score(music21_file(JIG_IN_G_MINOR, tmp_path, ".mid"))
    assert score.header.key == Key.parse("G minor")
    assert "F#4" in unparse(score)
    assert "Gb" not in unparse(score)


def tune_in(signature: str, keys: list[int]) -> bytes:
    """A 3/4 MIDI file of quarter notes under the key signature ``signature`` (mido's name)."""
    track = mido.MidiTrack(
        [
            mido.MetaMessage("key_signature", key=signature),
            mido.MetaMessage("time_signature", numerator=3, denominator=4),
            mido.MetaMessage("set_tempo", tempo=500000),
        ]
    )
    for key in keys:
        track += [
            mido.Message("note_on", note=key, velocity=80, time=0),
            mido.Message("note_off", note=key, velocity=0, time=480),
        ]
    midi = mido.MidiFile(type=0, ticks_per_beat=480, tracks=[track])
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def test_a_minor_key_signature_is_the_key_whatever_note_the_tune_ends_on(tmp_path: Path) -> None:
    path = tmp_path / "ends_on_b_flat.mid"
    path.write_bytes(tune_in("Gm", [67, 66, 67, 70, 72, 70]))  # G minor, ending on its third
    score = read_score(path)
    assert score.header.key == Key.parse("G minor")
    assert "F#4:q" in unparse(score)
    continued = continue_score(path, bars=1, backend=WalkingBackend(), seed=1)
    assert "key G minor (from the file)" in continued.report.context  # type: ignore[attr-defined]


def test_a_major_signature_ending_off_its_tonic_gives_a_mode_reported_as_estimated(
    tmp_path: Path,
) -> None:
    path = tmp_path / "g_dorian.mid"
    path.write_bytes(tune_in("F", [67, 69, 70, 72, 70, 67]))  # F major's notes, ending on G
    score = read_score(path)
    assert score.header.key == Key.parse("G dorian")
    assert score.source is not None
    assert "key G dorian (the signature of F major, ending on G)" in score.source.estimated
    continued = continue_score(path, bars=1, backend=WalkingBackend(), seed=1)
    assert any(
        line.startswith("key G dorian (estimated: ")
        for line in continued.report.context  # type: ignore[attr-defined]
    )


@pytest.mark.parametrize(
    ("key", "midi", "spelled"),
    [
        ("G minor", 66, "F#4"),
        ("D minor", 61, "C#4"),
        ("F# minor", 65, "E#4"),
        ("D dorian", 61, "C#4"),
        ("C# minor", 0, "C-1"),  # B#-2 is below MIDI's range
        ("G minor", 63, "Eb4"),
        ("G minor", 68, "Ab4"),
        ("Bb major", 66, "Gb4"),
    ],
)
def test_the_note_a_semitone_below_the_tonic_is_spelled_as_the_leading_tone(
    key: str, midi: int, spelled: str
) -> None:
    assert str(Key.parse(key).spell(midi)) == spelled


def test_harmonise_plays_under_a_midi_tune_with_a_pickup_in_its_bars_and_no_further(
    tmp_path: Path,
) -> None:
    path = music21_file(JIG_IN_G_MINOR, tmp_path, ".mid")
    melody = read_score(path)
    band = harmonise(path).score
    assert band.bar_lengths == melody.bar_lengths
    assert band.melody.bars[-1].events[0].pitches  # the tune's last bar, not a bar of rest
    assert band.harmony[-1].end == melody.duration


def test_continuing_a_music21_midi_tune_locks_its_last_bar_as_written(tmp_path: Path) -> None:
    tune_id = "oneills1850/0001-0050.abc#3"  # a march in G minor with a pickup
    path = tmp_path / "first_half.mid"
    corpus_tune(tune_id).measures(0, 8).write("midi", fp=path)
    written = written_score(tune_id, tmp_path)
    given = read_score(path)
    assert given.bar_lengths == written.bar_lengths[:9]
    continued = continue_score(path, bars=2, backend=WalkingBackend(), seed=1)
    assert continued.score.melody.bars[8] == written.melody.bars[8]  # no rest at the join


# -- MusicXML, ABC and notation: short bars stay short, endings distinct ----------------------

SHORT_BARS = {
    "jig with a pickup into its B part": "oneills1850/0001-0050.abc#14",
    "reel with a triplet pickup into its B part": "oneills1850/1176-1275.abc#1219",
    "air with first and second endings": "oneills1850/0101-0200.abc#183",
    "march with endings of two bars": "oneills1850/0051-0100.abc#97",
}


@pytest.mark.parametrize("tune_id", SHORT_BARS.values(), ids=SHORT_BARS.keys())
def test_music21s_musicxml_of_a_tune_reads_with_its_short_bars_and_endings(
    tune_id: str, tmp_path: Path
) -> None:
    written = written_score(tune_id, tmp_path)
    score = read_score(music21_file(tune_id, tmp_path, ".musicxml"))
    bar = written.header.bar_length
    assert any(length < bar for length in written.bar_lengths[1:-1])  # a short bar in mid-tune
    assert score == written
    assert abc_text(score) == abc_text(written)


@pytest.mark.parametrize("tune_id", SHORT_BARS.values(), ids=SHORT_BARS.keys())
def test_short_bars_and_endings_come_back_from_every_format(tune_id: str, tmp_path: Path) -> None:
    score = written_score(tune_id, tmp_path)
    for suffix in (".musicxml", ".mxl", ".abc", ".txt"):
        copy = tmp_path / f"copy{suffix}"
        write_score(score, copy)
        assert read_score(copy) == score, suffix
    played = score.expanded()  # MIDI has no bars to keep: its notes sound as the tune is played
    assert sorted(read_midi_notes(midi_bytes(score))) == heard(played)
    write_score(score, tmp_path / "copy.mid")
    assert read_score(tmp_path / "copy.mid").bar_lengths == played.bar_lengths


def test_first_and_second_endings_of_different_notes_stay_different(tmp_path: Path) -> None:
    tune_id = SHORT_BARS["march with endings of two bars"]
    score = read_score(music21_file(tune_id, tmp_path, ".musicxml"))
    (_, repeat) = score.repeats
    first = score.melody.bars[repeat.end - repeat.ending : repeat.end]
    second = score.melody.bars[repeat.end : repeat.end + repeat.ending]
    assert first != second
    assert [bar.duration for bar in first] == [bar.duration for bar in second] == [4, 7 / 2]


# -- the rules that place the bar lines of a MIDI file -----------------------------------------

JIG_TIME = (Fraction(0), 6, 8, 36)
COMMON_TIME = (Fraction(0), 4, 4, 24)
Span = tuple[Fraction, Fraction]
"""A note's (onset, end), in quarter notes."""


def contents(spans: list[Span], *meters: tuple[Fraction, int, int, int]) -> _Contents:
    """What the reader finds in a file of these notes under these time signatures."""
    notes = [(onset, end, 60) for onset, end in spans]
    return _Contents(meters=list(meters), notes={(0, 0): notes}, end=max(e for _, e in spans))


def eighths(start: Fraction, end: Fraction) -> list[Span]:
    """Eighth notes one after another from ``start`` to ``end``."""
    return [
        (start + Fraction(n, 2), start + Fraction(n + 1, 2))
        for n in range(int(2 * end - 2 * start))
    ]


def test_bar_lines_accent_a_notes_length_twice_on_a_bar_line_and_once_on_another_beat() -> None:
    spans = [(Fraction(0), Fraction(1, 2)), (Fraction(1, 2), Fraction(1))]
    spans += [(Fraction(3, 2), Fraction(2)), (Fraction(6), Fraction(13, 2))]
    notes = [(onset, end, 60) for onset, end in spans]
    jig = meter_of("6/8")  # beats at 0 and 3/2 of each bar of 3
    assert _accent(notes, jig, Fraction(0)) == Fraction(5, 2)  # 2 * 1/2 + 1/2 + 2 * 1/2
    assert _accent(notes, jig, Fraction(1, 2)) == Fraction(1)  # only the second on a bar line


def test_a_tune_that_starts_after_a_rest_has_no_pickup() -> None:
    found = contents(eighths(Fraction(1, 2), Fraction(19, 2)), JIG_TIME)
    assert _pickup(found, found.meters) == 0


def test_the_pickup_is_as_long_as_the_music_ends_after_a_bar_line_where_it_accents_as_well() -> (
    None
):
    spans = [(Fraction(0), Fraction(1, 2)), (Fraction(1, 2), Fraction(1))]  # two eighths,
    spans += [(Fraction(1), Fraction(5, 2)), (Fraction(5, 2), Fraction(7, 2))]  # q. and q
    found = contents(spans, JIG_TIME)  # ends half a beat after a bar line
    assert _pickup(found, found.meters) == Fraction(1, 2)  # accents 1, as bar lines from 0 do


def test_a_second_time_signature_is_a_bar_line_that_gives_the_pickups_length() -> None:
    later = (Fraction(13, 2), 6, 8, 36)  # half a beat after a bar line; the music ends on one
    found = contents(eighths(Fraction(0), Fraction(9)), JIG_TIME, later)
    assert _pickup(found, found.meters) == Fraction(1, 2)


def test_a_first_note_longer_than_half_a_bar_leaves_no_place_for_a_pickup() -> None:
    held = [(Fraction(0), Fraction(3))]  # then notes a beat after each bar line from the start
    found = contents([*held, *[(Fraction(n), Fraction(n + 2)) for n in (4, 7, 10)]], JIG_TIME)
    assert _pickup(found, found.meters) == 0


def test_a_pickup_the_end_does_not_mark_must_accent_the_notes_more_than_seven_fifths_as_well() -> (
    None
):
    quavers = [(Fraction(0), Fraction(1, 2)), (Fraction(1, 2), Fraction(1))]
    # bar lines a quarter late accent these 7/2, bar lines from the start 5/2: 7/5 as well
    as_well = contents([*quavers, (Fraction(1), Fraction(5, 2))], COMMON_TIME)
    assert _pickup(as_well, as_well.meters) == 0
    better = contents([*quavers, (Fraction(1), Fraction(3))], COMMON_TIME)  # 9/2 against 3
    assert _pickup(better, better.meters) == 1


def bar_lines_ending_with(spans: list[Span], starts: list[int], pickup: Fraction) -> list[Fraction]:
    """The bar starts (and end) counted to the file's end, cut back to end with its music."""
    ends = [Fraction(start) for start in starts]
    _end_with_the_music(contents(spans, JIG_TIME), ends, pickup)
    return ends


def test_the_bars_after_the_last_note_are_dropped() -> None:
    one_bar = eighths(Fraction(0), Fraction(3))  # then silence to the file's end, in bar 2
    assert bar_lines_ending_with(one_bar, [0, 3, 6], Fraction(0)) == [0, 3]


def test_a_last_note_held_over_a_bar_line_keeps_the_bar_it_ends_in() -> None:
    spans = [(Fraction(0), Fraction(5)), (Fraction(5), Fraction(7))]
    assert bar_lines_ending_with(spans, [0, 3, 6, 9], Fraction(0)) == [0, 3, 6, 9]


def test_a_drum_stroke_of_no_length_on_a_bar_line_keeps_the_bar_it_starts() -> None:
    spans = [(Fraction(0), Fraction(3)), (Fraction(6), Fraction(6))]
    assert bar_lines_ending_with(spans, [0, 3, 6, 9], Fraction(0)) == [0, 3, 6, 9]
    short = bar_lines_ending_with(spans, [0, 1, 4, 7], Fraction(1))  # a pickup of a quarter
    assert short == [0, 1, 4, 7]  # not cut back to 6, where the stroke would be after the end
