"""MIDI export: what a DAW reads back is exactly the tune, with tempo, meter, key and program."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import pretty_midi
import pytest
from hypothesis import given, settings

from strategies import tunes
from tunesmith import ExportError
from tunesmith.export.midi import (
    MidiSettings,
    midi_bytes,
    read_midi_meta,
    read_midi_notes,
    sounding_notes,
    write_midi,
)
from tunesmith.notation import parse
from tunesmith.tune import Tune

JIG = MidiSettings(
    tempo_qpm=168,
    numerator=6,
    denominator=8,
    program=73,
    track_name="Jig",
    instrument_name="Flute",
    key_sharps=2,
    beat_length=Fraction(3, 2),
)


def test_a_tiny_tune_is_pinned_byte_for_byte() -> None:
    data = midi_bytes(parse("A4:q. C#5:e~ C#5:q r:e |"), JIG)
    assert data.hex(" ") == (
        # header: MThd, length 6, type 1, two tracks, 480 ticks per quarter
        "4d 54 68 64 00 00 00 06 00 01 00 02 01 e0 "
        # conductor: MTrk, length 32; name "Jig"; tempo 357143 us (168 qpm); 6/8; key D (2#)
        "4d 54 72 6b 00 00 00 20 00 ff 03 03 4a 69 67 00 ff 51 03 05 73 17 "
        "00 ff 58 04 06 03 18 08 00 ff 59 02 02 00 00 ff 2f 00 "
        # melody: MTrk, length 35; name "Flute"; program 73; A4 on (96: downbeat) for 720
        # ticks; C#5 on (84: beat two) held through the tie for 720 ticks; rest; end
        "4d 54 72 6b 00 00 00 23 00 ff 03 05 46 6c 75 74 65 00 c0 49 "
        "00 90 45 60 85 50 80 45 00 00 90 49 54 85 50 80 49 00 81 70 ff 2f 00"
    )


def test_tempo_meter_key_program_and_track_names_are_set_for_a_daw() -> None:
    meta = read_midi_meta(midi_bytes(parse("A4:h. |"), JIG))
    assert meta.tempo_qpm == pytest.approx(168, abs=0.001)
    assert meta.time_signature == (6, 8)
    assert meta.key == "D"
    assert meta.program == 73
    assert meta.track_names == ("Jig", "Flute")


def test_minor_and_flat_keys_use_their_names() -> None:
    flats = MidiSettings(
        tempo_qpm=100,
        numerator=4,
        denominator=4,
        program=0,
        track_name="t",
        key_sharps=-3,
        key_minor=True,
    )
    assert read_midi_meta(midi_bytes(parse("C4:w"), flats)).key == "Cm"


def test_ties_become_one_sustained_note_and_chords_sound_together() -> None:
    tune = parse("A4:q~ A4:e r:e [D4 F#4]:h~ | [D4 F#4]:w |")
    notes = read_midi_notes(midi_bytes(tune, JIG))
    assert notes == [
        (69, Fraction(0), Fraction(3, 2)),
        (62, Fraction(2), Fraction(6)),
        (66, Fraction(2), Fraction(6)),
    ]


def test_downbeats_are_accented_over_beats_and_offbeats() -> None:
    data = midi_bytes(parse("A4:e A4:e A4:e A4:e A4:e A4:e |"), JIG)
    velocities = [m.velocity for m in pretty_midi.PrettyMIDI(io.BytesIO(data)).instruments[0].notes]
    assert velocities == [96, 72, 72, 84, 72, 72]


@settings(max_examples=60, deadline=None)
@given(tunes)
def test_reading_the_file_back_gives_exactly_the_tunes_notes(tune: Tune) -> None:
    data = midi_bytes(tune, JIG)
    assert read_midi_notes(data) == sounding_notes(tune)


def test_pretty_midi_reads_the_same_notes() -> None:
    tune = parse("A4:q. C#5:e~ C#5:q r:e | F#5:h. |")
    score = pretty_midi.PrettyMIDI(io.BytesIO(midi_bytes(tune, JIG)))
    (flute,) = score.instruments
    assert flute.program == 73
    seconds_per_quarter = 60 / 168
    assert [(n.pitch, round(n.start / seconds_per_quarter, 4)) for n in flute.notes] == [
        (69, 0),
        (73, 1.5),
        (78, 3.5),
    ]


def test_a_missing_folder_is_an_export_error_and_nothing_is_written(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "tune.mid"
    with pytest.raises(ExportError, match=r"folder .*missing does not exist"):
        write_midi(parse("A4:w"), target, JIG)
    assert not target.parent.exists()


def test_a_failed_write_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "tune.mid"
    target.mkdir()  # a folder where the file should go: the rename fails
    with pytest.raises(ExportError, match="cannot write"):
        write_midi(parse("A4:w"), target, JIG)
    assert list(tmp_path.iterdir()) == [target]
    assert list(target.iterdir()) == []


def test_humanize_nudges_timing_and_velocity_repeatably_and_is_off_by_default() -> None:
    from dataclasses import replace

    tune = parse("A4:e B4:e C#5:e F#5:q. | G5:e F#5:e C#5:e B4:q. |")
    exact = read_midi_notes(midi_bytes(tune, JIG))
    human = replace(JIG, humanize=1.0, humanize_seed=3)
    nudged = read_midi_notes(midi_bytes(tune, human))
    assert nudged != exact
    assert nudged == read_midi_notes(midi_bytes(tune, human))  # the same seed, the same file
    assert [key for key, _, _ in sorted(nudged, key=lambda n: n[1])] == [k for k, _, _ in exact]
    assert all(
        abs(a[1] - b[1]) <= Fraction(1, 8)
        for a, b in zip(sorted(nudged, key=lambda n: n[1]), exact, strict=True)
    )
