"""MIDI export: what a DAW reads back is exactly the tune, with tempo, meter, key and program."""

from __future__ import annotations

import io
import os
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import mido
import pretty_midi
import pytest
from hypothesis import given, settings

from strategies import tunes
from tunesmith import ExportError, RequestError
from tunesmith.io.midi import (
    MidiSettings,
    meter_beat,
    midi_bytes,
    read_midi_meta,
    read_midi_notes,
    sounding_notes,
    write_midi,
)
from tunesmith.notation import parse
from tunesmith.score import Tune

JIG = MidiSettings(
    tempo_qpm=168,
    numerator=6,
    denominator=8,
    program=73,
    track_name="Jig",
    key_sharps=2,
    instrument_name="Flute",
)
COMMON = MidiSettings(tempo_qpm=120, numerator=4, denominator=4, program=0, track_name="t")


def velocities(data: bytes) -> list[int]:
    return [
        m.velocity for m in mido.MidiFile(file=io.BytesIO(data)).tracks[1] if m.type == "note_on"
    ]


# -- the file's bytes and structure -----------------------------------------------------


def test_a_one_bar_tune_is_pinned_byte_for_byte() -> None:
    data = midi_bytes(parse("A4:q. C#5:e~ C#5:q r:e |"), JIG)
    assert data.hex(" ") == " ".join(
        [
            # header: "MThd", length 6, type 1, two tracks, 480 ticks per quarter note
            "4d 54 68 64  00 00 00 06  00 01  00 02  01 e0",
            # conductor track: "MTrk", 32 bytes
            "4d 54 72 6b  00 00 00 20",
            "00 ff 03 03 4a 69 67",  # track name "Jig"
            "00 ff 51 03 05 73 17",  # tempo 357143 us a quarter: 168 qpm
            "00 ff 58 04 06 03 18 08",  # time signature 6/8 (2^3), 24 clocks, 8 32nds
            "00 ff 59 02 02 00",  # key signature: 2 sharps, major (D)
            "00 ff 2f 00",  # end of track
            # melody track: "MTrk", 35 bytes
            "4d 54 72 6b  00 00 00 23",
            "00 ff 03 05 46 6c 75 74 65",  # track name "Flute"
            "00 c0 49",  # program change, channel 0: 73 (flute)
            "00 90 45 60",  # A4 on, velocity 96: the downbeat
            "85 50 80 45 00",  # 720 ticks (a dotted quarter) later: A4 off
            "00 90 49 50",  # C#5 on, velocity 80: beat two of 6/8
            "85 50 80 49 00",  # the eighth tied to a quarter: one note of 720 ticks
            "81 70 ff 2f 00",  # the eighth rest (240 ticks), then end of track
        ]
    ).replace("  ", " ")


def test_the_file_is_type_1_with_a_conductor_track_and_a_melody_track() -> None:
    midi = mido.MidiFile(file=io.BytesIO(midi_bytes(parse("A4:h. |"), JIG)))
    assert midi.type == 1
    conductor, melody = midi.tracks
    assert [m.type for m in conductor] == [
        "track_name",
        "set_tempo",
        "time_signature",
        "key_signature",
        "end_of_track",
    ]
    assert [m.type for m in melody] == [
        "track_name",
        "program_change",
        "note_on",
        "note_off",
        "end_of_track",
    ]
    assert {m.channel for m in melody if not m.is_meta} == {0}


def test_tempo_meter_key_program_and_track_names_are_set_for_a_daw() -> None:
    meta = read_midi_meta(midi_bytes(parse("A4:h. |"), JIG))
    assert meta.tempo_qpm == 168
    assert meta.time_signature == (6, 8)
    assert meta.key == "D"
    assert meta.program == 73
    assert meta.track_names == ("Jig", "Flute")


@pytest.mark.parametrize(
    ("sharps", "minor", "name"),
    [(0, False, "C"), (-3, True, "Cm"), (2, True, "Bm"), (-7, False, "Cb"), (7, True, "A#m")],
    ids=["C major", "C minor", "B minor", "C flat major", "A sharp minor"],
)
def test_key_signatures_use_midos_key_names(sharps: int, minor: bool, name: str) -> None:
    keyed = replace(COMMON, key_sharps=sharps, key_minor=minor)
    assert read_midi_meta(midi_bytes(parse("C4:w"), keyed)).key == name


def test_without_key_sharps_no_key_signature_is_written() -> None:
    midi = mido.MidiFile(file=io.BytesIO(midi_bytes(parse("C4:w"), COMMON)))
    assert "key_signature" not in {m.type for m in midi.tracks[0]}
    assert read_midi_meta(midi_bytes(parse("C4:w"), COMMON)).track_names == ("t", "t")


# -- notes --------------------------------------------------------------------------------


def test_notes_read_back_exactly_with_a_tie_a_chord_and_a_rest() -> None:
    tune = parse("A4:q~ A4:e r:e [D4 F#4]:h | G4:e3 A4:e3 B4:e3 C#5:h D5:q~ | D5:w |")
    assert read_midi_notes(midi_bytes(tune, COMMON)) == [
        (69, Fraction(0), Fraction(3, 2)),  # the quarter tied to an eighth: one note
        (62, Fraction(2), Fraction(2)),  # after the eighth rest, the chord's notes together
        (66, Fraction(2), Fraction(2)),
        (67, Fraction(4), Fraction(1, 3)),  # a triplet lands on whole ticks (160)
        (69, Fraction(13, 3), Fraction(1, 3)),
        (71, Fraction(14, 3), Fraction(1, 3)),
        (73, Fraction(5), Fraction(2)),
        (74, Fraction(7), Fraction(5)),  # tied across the bar line
    ]


def test_a_tied_chord_sustains_only_the_pitches_that_continue() -> None:
    tune = parse("[D4 F#4]:h~ [D4 A4]:h |")
    assert read_midi_notes(midi_bytes(tune, COMMON)) == [
        (62, Fraction(0), Fraction(4)),
        (66, Fraction(0), Fraction(2)),
        (69, Fraction(2), Fraction(2)),
    ]


def test_a_tie_into_a_rest_or_another_pitch_ends_the_note_where_it_was_written() -> None:
    tune = parse("A4:q~ r:q A4:q~ B4:q | A4:w |")
    assert read_midi_notes(midi_bytes(tune, COMMON)) == [
        (69, Fraction(0), Fraction(1)),
        (69, Fraction(2), Fraction(1)),
        (71, Fraction(3), Fraction(1)),
        (69, Fraction(4), Fraction(4)),
    ]


def test_a_trailing_rest_lengthens_the_track() -> None:
    midi = mido.MidiFile(file=io.BytesIO(midi_bytes(parse("A4:q r:h. |"), COMMON)))
    assert midi.length == pytest.approx(2.0)  # four quarter notes at 120 qpm


@settings(max_examples=60, deadline=None)
@given(tunes)
def test_reading_the_file_back_gives_exactly_the_tunes_notes(tune: Tune) -> None:
    assert read_midi_notes(midi_bytes(tune, JIG)) == sounding_notes(tune)


def test_pretty_midi_reads_the_same_notes_and_instrument() -> None:
    tune = parse("A4:q. C#5:e~ C#5:q r:e | [D5 F#5]:h. |")
    score = pretty_midi.PrettyMIDI(io.BytesIO(midi_bytes(tune, JIG)))
    (flute,) = score.instruments
    assert (flute.program, flute.name) == (73, "Flute")
    seconds_per_quarter = 60 / 168
    assert [
        (n.pitch, round(n.start / seconds_per_quarter, 4), round(n.end / seconds_per_quarter, 4))
        for n in flute.notes
    ] == [(69, 0, 1.5), (73, 1.5, 3), (74, 3.5, 6.5), (78, 3.5, 6.5)]
    assert score.get_end_time() == pytest.approx(6.5 * seconds_per_quarter)


def test_a_duration_off_the_tick_grid_is_an_export_error_that_says_what_would_fit() -> None:
    coarse = replace(COMMON, ticks_per_beat=96)  # a 32nd-note triplet is 1/12: 8 ticks, fine
    assert read_midi_notes(midi_bytes(parse("A4:t3 A4:t3 A4:t3"), coarse))[1][1] == Fraction(1, 12)
    with pytest.raises(ExportError, match=r"at 1/12 quarter notes .* use ticks_per_beat=12"):
        midi_bytes(parse("A4:t3 A4:t3 A4:t3"), replace(COMMON, ticks_per_beat=4))


# -- accents ------------------------------------------------------------------------------


def test_downbeats_are_accented_over_beats_and_beats_over_offbeats() -> None:
    four_four = midi_bytes(parse("A4:q A4:e A4:e A4:q A4:q | A4:q |"), COMMON)
    assert velocities(four_four) == [96, 80, 72, 80, 80, 96]


def test_compound_meters_beat_every_dotted_quarter() -> None:
    jig = midi_bytes(parse("A4:e A4:e A4:e A4:e A4:e A4:e |"), JIG)
    assert velocities(jig) == [96, 72, 72, 80, 72, 72]
    assert velocities(jig) == [
        n.velocity for n in pretty_midi.PrettyMIDI(io.BytesIO(jig)).instruments[0].notes
    ]


@pytest.mark.parametrize(
    ("meter", "beat"),
    [
        ((4, 4), 1),
        ((3, 4), 1),
        ((2, 2), 2),
        ((6, 8), "3/2"),
        ((9, 8), "3/2"),
        ((3, 8), "3/2"),
        ((6, 4), 3),
        ((7, 8), "1/2"),
        ((12, 16), "3/4"),
    ],
    ids=lambda value: "/".join(map(str, value)) if isinstance(value, tuple) else str(value),
)
def test_the_beat_comes_from_the_meter_as_music21_counts_it(
    meter: tuple[int, int], beat: int | str
) -> None:
    assert meter_beat(*meter) == Fraction(beat)


# -- settings a MIDI file cannot hold -------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tempo_qpm": 0}, "tempo_qpm must be between 3.58 and 60000000"),
        ({"denominator": 6}, r"D a power of two up to 128 \(received 4/6\)"),
        ({"program": 128}, r"program must be a General MIDI program 0-127 \(received 128\)"),
        ({"key_sharps": 8}, r"key_sharps must be -7 \(7 flats\) to 7 sharps"),
        ({"ticks_per_beat": 0}, r"ticks_per_beat must be 1-32767 \(received 0\)"),
        ({"humanize": 1.5}, r"humanize must be between 0 and 1 \(received 1.5\)"),
    ],
    ids=["tempo", "meter", "program", "key", "ticks", "humanize"],
)
def test_settings_a_midi_file_cannot_hold_are_a_request_error(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(RequestError, match=message):
        replace(COMMON, **change)


# -- files -----------------------------------------------------------------------------------


def test_write_midi_writes_the_same_bytes_and_reads_back_from_the_path(tmp_path: Path) -> None:
    tune = parse("A4:q. C#5:e~ C#5:q r:e |")
    path = write_midi(tune, tmp_path / "tune.mid", JIG)
    assert path.read_bytes() == midi_bytes(tune, JIG)
    assert read_midi_notes(path) == read_midi_notes(str(path)) == sounding_notes(tune)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left beside it


def test_a_missing_folder_is_an_export_error_naming_it_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    target = tmp_path / "missing" / "tune.mid"
    with pytest.raises(ExportError, match=r"cannot write .*tune.mid: the folder .*missing does"):
        write_midi(parse("A4:w"), target, JIG)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_rename_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "tune.mid"
    target.mkdir()  # a folder where the file should go: the rename fails
    with pytest.raises(ExportError, match=r"cannot write .*tune.mid: Is a directory"):
        write_midi(parse("A4:w"), target, JIG)
    assert list(tmp_path.iterdir()) == [target]
    assert list(target.iterdir()) == []


def test_a_failed_write_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "tune.mid"
    write_midi(parse("A4:w"), target, JIG)
    before = target.read_bytes()
    with pytest.raises(ExportError, match="ticks_per_beat"):
        write_midi(parse("A4:t3 A4:t3 A4:t3"), target, replace(JIG, ticks_per_beat=4))
    assert target.read_bytes() == before
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_folder_is_an_export_error_naming_the_reason(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(ExportError, match=r"cannot write .*tune.mid: Permission denied"):
            write_midi(parse("A4:w"), tmp_path / "tune.mid", JIG)
    finally:
        tmp_path.chmod(0o700)
    assert list(tmp_path.iterdir()) == []


def test_data_that_is_not_midi_is_an_export_error() -> None:
    with pytest.raises(ExportError, match="cannot read the MIDI data as a MIDI file"):
        read_midi_notes(b"RIFF....WAVE")


# -- humanize ----------------------------------------------------------------------------------


def test_humanize_nudges_timing_and_velocity_repeatably_and_is_off_by_default() -> None:
    tune = parse("A4:e B4:e C#5:e F#5:q. | G5:e F#5:e C#5:e B4:q. |")
    exact = read_midi_notes(midi_bytes(tune, JIG))
    assert exact == sounding_notes(tune)
    human = replace(JIG, humanize=1.0, humanize_seed=3)
    nudged = read_midi_notes(midi_bytes(tune, human))
    assert nudged != exact
    assert nudged == read_midi_notes(midi_bytes(tune, human))  # the same seed, the same file
    assert [key for key, _, _ in nudged] == [key for key, _, _ in exact]
    assert all(abs(a[1] - b[1]) <= Fraction(1, 8) for a, b in zip(nudged, exact, strict=True))
