"""MIDI export: what a DAW reads back is exactly the score: every part, tempo, meter, key."""

from __future__ import annotations

import io
import itertools
import os
import random
import warnings
from fractions import Fraction
from pathlib import Path

import mido
import pretty_midi
import pytest
from hypothesis import given, settings

from strategies import scores, tunes
from tunesmith import ExportError, RequestError
from tunesmith.io.midi import _humanized, midi_bytes, read_midi_notes, sounding_notes, write_midi
from tunesmith.io.read import read_score
from tunesmith.io.write import write_score
from tunesmith.model.header import Header, Key
from tunesmith.model.notation import parse, parse_tune
from tunesmith.model.score import Bar, Event, Part, Score, Tune, split_duration

JIG = Header("6/8", Key.parse("D"), tempo=112, title="Jig")
COMMON = Header("4/4", tempo=120, title="t")


def melody(text: str, header: Header = COMMON, *, program: int = 73, name: str = "Flute") -> Score:
    return Score.of_tune(parse_tune(text), header, name=name, program=program)


def midi_of(score: Score, **options: float) -> mido.MidiFile:
    return mido.MidiFile(file=io.BytesIO(midi_bytes(score, **options)), charset="utf-8")  # type: ignore[arg-type]


def pretty(data: bytes) -> pretty_midi.PrettyMIDI:
    """pretty_midi's reading: it warns about the key signature each track carries for
    importers such as MuseScore's; the Standard MIDI File allows it in any track."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Tempo, Key or Time signature", RuntimeWarning)
        return pretty_midi.PrettyMIDI(io.BytesIO(data))


def velocities(data: bytes, track: int = 1) -> list[int]:
    return [
        m.velocity
        for m in mido.MidiFile(file=io.BytesIO(data)).tracks[track]
        if m.type == "note_on"
    ]


BAND = parse("""title: Reel
meter: 4/4
key: G major
tempo: q=110

part: Fiddle
role: melody
program: 40
G4:e A4:e B4:e G4:e D5:q B4:q |

part: Guitar
role: chords
program: 24
[G3 B3 D4]:h [G3 B3 D4]:h |

part: Bass
role: bass
program: 32
G2:h D2:h |

part: Drums
role: drums
kick:q closed-hat:q [kick snare]:q closed-hat:q |""")


# -- the file's bytes and structure -----------------------------------------------------


def test_a_one_bar_tune_is_pinned_byte_for_byte() -> None:
    data = midi_bytes(melody("A4:q. C#5:e~ C#5:e r:e |", JIG))
    assert data.hex(" ") == " ".join(
        [
            # header: "MThd", length 6, type 1, two tracks, 480 ticks per quarter note
            "4d 54 68 64  00 00 00 06  00 01  00 02  01 e0",
            # conductor track: "MTrk", 32 bytes
            "4d 54 72 6b  00 00 00 20",
            "00 ff 03 03 4a 69 67",  # track name "Jig"
            "00 ff 51 03 05 73 17",  # tempo 357143 us a quarter: 112 dotted quarters, 168 qpm
            "00 ff 58 04 06 03 24 08",  # time signature 6/8 (2^3), a click every 36 clocks (q.)
            "00 ff 59 02 02 00",  # key signature: 2 sharps, major (D)
            "00 ff 2f 00",  # end of track
            # melody track: "MTrk", 41 bytes
            "4d 54 72 6b  00 00 00 29",
            "00 ff 03 05 46 6c 75 74 65",  # track name "Flute"
            "00 ff 59 02 02 00",  # the key signature again, for importers that read it here
            "00 c0 49",  # program change, channel 0: 73 (flute)
            "00 90 45 60",  # A4 on, velocity 96: the downbeat
            "85 50 80 45 00",  # 720 ticks (a dotted quarter) later: A4 off
            "00 90 49 50",  # C#5 on, velocity 80: beat two of 6/8
            "83 60 80 49 00",  # the eighth tied to an eighth: one note of 480 ticks
            "81 70 ff 2f 00",  # the eighth rest (240 ticks), then end of track
        ]
    ).replace("  ", " ")


def test_a_conductor_track_and_one_named_track_per_part_drums_on_channel_10() -> None:
    midi = midi_of(BAND)
    assert midi.type == 1
    conductor, *tracks = midi.tracks
    assert [m.type for m in conductor] == [
        "track_name",
        "set_tempo",
        "time_signature",
        "key_signature",
        "end_of_track",
    ]
    names = [next(m.name for m in t if m.type == "track_name") for t in tracks]
    assert names == ["Fiddle", "Guitar", "Bass", "Drums"]
    channels = [{m.channel for m in t if not m.is_meta} for t in tracks]
    assert channels == [{0}, {1}, {2}, {9}]
    programs = [next(m.program for m in t if m.type == "program_change") for t in tracks]
    assert programs == [40, 24, 32, 0]
    drums = [m.note for m in tracks[3] if m.type == "note_on"]
    assert drums == [36, 42, 36, 38, 42]  # kick, closed hat, kick and snare, closed hat


def test_every_pitched_track_carries_the_key_signature() -> None:
    """MuseScore's MIDI import reads the key per track: without it, a jig in A with C# and
    F# comes in as G major with a printed sharp on every C# (issue 10, item 17)."""
    tracks = midi_of(BAND).tracks
    keys = [[m.key for m in t if m.type == "key_signature"] for t in tracks]
    assert keys == [["G"], ["G"], ["G"], ["G"], []]  # the drum track has no key


@pytest.mark.parametrize(
    ("meter", "clocks"),
    [("4/4", 24), ("3/4", 24), ("2/2", 48), ("6/8", 36), ("9/8", 36), ("12/8", 36), ("7/8", 12)],
)
def test_the_metronome_clicks_on_the_beat_of_the_meter(meter: str, clocks: int) -> None:
    """A dotted-quarter beat is 36 MIDI clocks, a half-note beat 48 (issue 10, item 20)."""
    header = Header(meter)
    score = Score.of_tune(
        Tune((Bar(tuple(map(Event.rest, split_duration(header.bar_length)))),)), header
    )
    (signature,) = [m for m in midi_of(score).tracks[0] if m.type == "time_signature"]
    assert (f"{signature.numerator}/{signature.denominator}", signature.clocks_per_click) == (
        meter,
        clocks,
    )


@pytest.mark.parametrize(
    ("key", "name"),
    [("C", "C"), ("C minor", "Cm"), ("B minor", "Bm"), ("Cb", "Cb"), ("A# minor", "A#m")],
)
def test_key_signatures_use_midos_key_names(key: str, name: str) -> None:
    keys = [
        m.key
        for m in midi_of(melody("C4:w", Header(key=Key.parse(key)))).tracks[0]
        if m.type == "key_signature"
    ]
    assert keys == [name]


def test_a_mode_is_written_as_the_major_key_of_its_signature() -> None:
    keys = {
        m.key
        for t in midi_of(melody("E4:w", Header(key=Key.parse("E dorian")))).tracks
        for m in t
        if m.type == "key_signature"
    }
    assert keys == {"D"}


def test_without_a_key_no_key_signature_is_written() -> None:
    midi = midi_of(melody("C4:w"))
    assert "key_signature" not in {m.type for t in midi.tracks for m in t}


def test_titles_and_names_in_any_script_are_written_as_utf_8() -> None:
    """A title outside Latin-1 crashed every MIDI export (issue 10, item 4)."""
    score = melody("C4:w", Header(title="Ōdori Пісня"), name="笛")
    raw = midi_bytes(score)
    assert "Ōdori Пісня".encode() in raw
    assert [t.name for t in midi_of(score).tracks] == ["Ōdori Пісня", "笛"]
    assert pretty(raw).instruments[0].program == 73


def test_a_pickup_bar_gets_its_own_time_signature_and_the_meter_returns() -> None:
    score = parse("meter: 6/8\nA4:e | D5:q. D5:q. |")
    signatures = [
        (m.time, m.numerator, m.denominator)
        for m in midi_of(score).tracks[0]
        if m.type == "time_signature"
    ]
    assert signatures == [(0, 1, 8), (240, 6, 8)]


def test_repeats_are_played_out() -> None:
    score = parse("|: C4:w |1 D4:w :|2 E4:w |")
    assert [key for key, _, _ in read_midi_notes(midi_bytes(score))] == [60, 62, 60, 64]


def test_the_melody_plays_in_front_of_the_accompaniment() -> None:
    data = midi_bytes(BAND)
    fiddle, guitar = velocities(data, 1), velocities(data, 2)
    assert fiddle[0] == 96
    assert max(guitar) < fiddle[0]


# -- notes --------------------------------------------------------------------------------


def test_notes_read_back_exactly_with_a_tie_a_chord_and_a_rest() -> None:
    tune = melody("A4:q~ A4:e r:e [D4 F#4]:h | G4:e3 A4:e3 B4:e3 C#5:h D5:q~ | D5:w |")
    assert read_midi_notes(midi_bytes(tune)) == [
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
    assert read_midi_notes(midi_bytes(melody("[D4 F#4]:h~ [D4 A4]:h |"))) == [
        (62, Fraction(0), Fraction(4)),
        (66, Fraction(0), Fraction(2)),
        (69, Fraction(2), Fraction(2)),
    ]


def test_a_tie_into_a_rest_or_another_pitch_ends_the_note_where_it_was_written() -> None:
    assert read_midi_notes(midi_bytes(melody("A4:q~ r:q A4:q~ B4:q | A4:w |"))) == [
        (69, Fraction(0), Fraction(1)),
        (69, Fraction(2), Fraction(1)),
        (71, Fraction(3), Fraction(1)),
        (69, Fraction(4), Fraction(4)),
    ]


def test_a_trailing_rest_lengthens_the_track() -> None:
    assert midi_of(melody("A4:q r:h. |")).length == pytest.approx(2.0)  # 4 quarters at 120


@settings(max_examples=60, deadline=None)
@given(tunes)
def test_reading_the_file_back_gives_exactly_the_tunes_notes(tune: Tune) -> None:
    assert read_midi_notes(midi_bytes(Score.of_tune(tune, JIG))) == sounding_notes(tune)


def test_pretty_midi_reads_every_part_with_its_program_and_drum_flag() -> None:
    midi = pretty(midi_bytes(BAND))
    assert [(i.name, i.program, i.is_drum) for i in midi.instruments] == [
        ("Fiddle", 40, False),
        ("Guitar", 24, False),
        ("Bass", 32, False),
        ("Drums", 0, True),
    ]
    seconds_per_quarter = 60 / 110
    assert [
        (n.pitch, round(n.start / seconds_per_quarter, 4)) for n in midi.instruments[2].notes
    ] == [
        (43, 0),
        (38, 2),
    ]


def test_a_duration_off_the_tick_grid_is_an_export_error_that_says_what_would_fit() -> None:
    triplets = melody("A4:t3 A4:t3 A4:t3")
    assert read_midi_notes(midi_bytes(triplets, ticks_per_beat=96))[1][1] == Fraction(1, 12)
    with pytest.raises(ExportError, match=r"at 1/12 quarter notes .* use ticks_per_beat=12"):
        midi_bytes(triplets, ticks_per_beat=4)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"ticks_per_beat": 0}, r"ticks_per_beat must be 1-32767 \(received 0\)"),
        ({"humanize": 1.5}, r"humanize must be between 0 and 1 \(received 1.5\)"),
    ],
)
def test_options_a_midi_file_cannot_hold_are_a_request_error(
    options: dict[str, float], message: str
) -> None:
    with pytest.raises(RequestError, match=message):
        midi_bytes(melody("C4:w"), **options)  # type: ignore[arg-type]


# -- accents ------------------------------------------------------------------------------


def test_downbeats_are_accented_over_beats_and_beats_over_offbeats() -> None:
    four_four = midi_bytes(melody("A4:q A4:e A4:e A4:q A4:q | A4:q |"))
    assert velocities(four_four) == [96, 80, 72, 80, 80, 96]


def test_compound_meters_beat_every_dotted_quarter() -> None:
    jig = midi_bytes(melody("A4:e A4:e A4:e A4:e A4:e A4:e |", JIG))
    assert velocities(jig) == [96, 72, 72, 80, 72, 72]
    assert velocities(jig) == [n.velocity for n in pretty(jig).instruments[0].notes]


# -- files -----------------------------------------------------------------------------------


def test_write_midi_writes_the_same_bytes_and_reads_back_from_the_path(tmp_path: Path) -> None:
    score = melody("A4:q. C#5:e~ C#5:q r:e |", JIG)
    path = write_midi(score, tmp_path / "tune.mid")
    assert path.read_bytes() == midi_bytes(score)
    assert read_midi_notes(path) == read_midi_notes(str(path)) == sounding_notes(score.melody.tune)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left beside it


def test_a_missing_folder_is_an_export_error_naming_it_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    target = tmp_path / "missing" / "tune.mid"
    with pytest.raises(ExportError, match=r"cannot write .*tune.mid: the folder .*missing does"):
        write_score(melody("A4:w"), target)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_rename_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "tune.mid"
    target.mkdir()  # a folder where the file should go: the rename fails
    with pytest.raises(ExportError, match=r"cannot write .*tune.mid: Is a directory"):
        write_score(melody("A4:w"), target)
    assert list(tmp_path.iterdir()) == [target]
    assert list(target.iterdir()) == []


def test_a_failed_write_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "tune.mid"
    write_score(melody("A4:w"), target)
    before = target.read_bytes()
    with pytest.raises(ExportError, match="ticks_per_beat"):
        write_midi(melody("A4:t3 A4:t3 A4:t3"), target, ticks_per_beat=4)
    assert target.read_bytes() == before
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_folder_is_an_export_error_naming_the_reason(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(ExportError, match=r"cannot write .*tune.mid: Permission denied"):
            write_score(melody("A4:w"), tmp_path / "tune.mid")
    finally:
        tmp_path.chmod(0o700)
    assert list(tmp_path.iterdir()) == []


def test_data_that_is_not_midi_is_an_export_error() -> None:
    with pytest.raises(ExportError, match="cannot read the MIDI data as a MIDI file"):
        read_midi_notes(b"RIFF....WAVE")


# -- humanize ----------------------------------------------------------------------------------


def test_humanize_nudges_timing_and_velocity_repeatably_and_is_off_by_default() -> None:
    score = melody("A4:e B4:e C#5:e F#5:q. | G5:e F#5:e C#5:e B4:q. |", JIG)
    exact = read_midi_notes(midi_bytes(score))
    assert exact == sounding_notes(score.melody.tune)
    nudged = read_midi_notes(midi_bytes(score, humanize=1.0, seed=3))
    assert nudged != exact
    assert nudged == read_midi_notes(midi_bytes(score, humanize=1.0, seed=3))  # same seed
    assert [key for key, _, _ in nudged] == [key for key, _, _ in exact]
    assert all(abs(a[1] - b[1]) <= Fraction(1, 8) for a, b in zip(nudged, exact, strict=True))


def timed_notes(score: Score, **options: float) -> tuple[int, list[tuple[int, int, int, int]]]:
    """Ticks per beat, and each note's (start tick, end tick, key, velocity) as written."""
    data = midi_of(score, **options)
    notes, now, sounding = [], 0, {}
    for message in data.tracks[1]:
        now += message.time
        if message.type == "note_on" and message.velocity:
            sounding[message.note] = (now, message.velocity)
        elif message.type in {"note_on", "note_off"}:
            start, velocity = sounding.pop(message.note)
            notes.append((start, now, message.note, velocity))
    return data.ticks_per_beat, sorted(notes)


# 48 bars of sixteenths and eighths, many on one key again and again
BUSY = melody("A4:s A4:s A4:s B4:s C#5:e C#5:e A4:e A4:e F#5:q | " * 48)


@pytest.mark.parametrize("amount", [1.0, 0.5])
def test_humanize_nudges_each_note_up_to_a_32nd_and_its_velocity_up_to_12_by_amount(
    amount: float,
) -> None:
    ticks, exact = timed_notes(BUSY)
    _, nudged = timed_notes(BUSY, humanize=amount, seed=5)
    bound, spread = round(ticks / 8 * amount), round(12 * amount)
    starts = [b[0] - a[0] for a, b in zip(exact, nudged, strict=True)]
    assert (min(starts), max(starts)) == (-bound, bound)  # the whole range is used
    louder = [b[3] - a[3] for a, b in zip(exact, nudged, strict=True)]
    assert (min(louder), max(louder)) == (-spread, spread)
    assert [note[2] for note in nudged] == [note[2] for note in exact]


def test_humanized_notes_start_no_earlier_than_zero_keep_half_their_length_and_never_overlap() -> (
    None
):
    _, exact = timed_notes(BUSY)
    _, nudged = timed_notes(BUSY, humanize=1.0, seed=3)
    assert nudged[0][0] == 0  # with this seed the first note is nudged early: held at 0
    kept = [(b[1] - b[0]) / (a[1] - a[0]) for a, b in zip(exact, nudged, strict=True)]
    assert min(kept) == 0.5  # a sixteenth nudged late and cut early keeps half its length
    by_key: dict[int, list[tuple[int, int]]] = {}
    for start, end, key, _ in nudged:
        by_key.setdefault(key, []).append((start, end))
    for spans in by_key.values():  # a repeated note starts after the one before it ends
        assert all(later[0] >= earlier[1] for earlier, later in itertools.pairwise(spans))


# -- every score -------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(scores())
def test_every_part_of_every_score_sounds_in_its_track(score: Score) -> None:
    tracks = midi_of(score).tracks[1:]
    played = score.expanded()
    assert len(tracks) == len(played.parts)
    for track, part in zip(tracks, played.parts, strict=True):
        data = mido.MidiFile(type=1, charset="utf-8")
        data.tracks.append(track)
        buffer = io.BytesIO()
        data.save(file=buffer)
        assert read_midi_notes(buffer.getvalue()) == sounding_notes(part.tune)


# -- reading back what was written -------------------------------------------------------------


def sounding(part: Part) -> list[tuple[int, Fraction, Fraction]]:
    """What a part sounds: drums by their strokes, notes by onset and length."""
    notes = sounding_notes(part.tune)
    return [(k, onset, Fraction(0)) for k, onset, _ in notes] if part.is_drum else notes


@settings(max_examples=40, deadline=None)
@given(score=scores())
def test_read_score_gives_back_every_part_as_played_with_its_header(
    score: Score, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("midi") / "score.mid"
    write_score(score, path)
    read = read_score(path)
    played = score.expanded()
    assert (read.header.meter, read.header.tempo, read.header.title) == (
        played.header.meter,
        played.header.tempo,
        played.header.title,
    )
    if played.header.key is None:
        assert read.header.key is None or "key" in str(read.source)  # estimated, and said so
    else:  # MIDI holds the signature; the mode is read from the final note
        assert read.header.key is not None
        assert read.header.key.sharps == played.header.key.sharps
    assert [(p.program, p.is_drum) for p in read.parts] == [
        (p.program, p.is_drum) for p in played.parts
    ]
    assert [sounding(p) for p in read.parts] == [sounding(p) for p in played.parts]
    assert read.bar_lengths == played.bar_lengths
    again = tmp_path_factory.mktemp("midi") / "again.mid"
    write_score(read, again)
    assert read_score(again) == read  # what the reader gives is the reader's fixed point


# -- reading what other programs write -----------------------------------------------------------


def midi_track(*messages: mido.Message | mido.MetaMessage) -> bytes:
    """A type-0 file of these messages, 480 ticks to the quarter note."""
    data = mido.MidiFile(type=0, ticks_per_beat=480, tracks=[mido.MidiTrack(messages)])
    buffer = io.BytesIO()
    data.save(file=buffer)
    return buffer.getvalue()


def test_a_note_off_with_a_release_velocity_or_a_note_on_at_velocity_0_ends_a_note() -> None:
    data = midi_track(
        mido.Message("note_on", note=60, velocity=80, time=0),
        mido.Message("note_off", note=60, velocity=64, time=480),  # a release velocity: an end
        mido.Message("note_on", note=62, velocity=1, time=0),  # the softest note is a note
        mido.Message("note_on", note=62, velocity=0, time=480),  # velocity 0: an end
    )
    assert read_midi_notes(data) == [(60, Fraction(0), Fraction(1)), (62, Fraction(1), Fraction(1))]


def test_a_note_left_sounding_ends_where_the_file_ends() -> None:
    data = midi_track(
        mido.Message("note_on", note=60, velocity=80, time=0),
        mido.Message("note_off", note=60, velocity=0, time=480),
        mido.Message("note_on", note=64, velocity=80, time=0),  # never ended
        mido.MetaMessage("end_of_track", time=960),
    )
    assert read_midi_notes(data) == [(60, Fraction(0), Fraction(1)), (64, Fraction(1), Fraction(2))]


def test_a_humanized_note_moves_its_start_end_and_velocity_by_the_seeds_next_three_draws() -> None:
    draws = random.Random(3)
    start, end, louder = draws.randint(-60, 60), draws.randint(-60, 60), draws.randint(-12, 12)
    assert (start, end, louder) == (-30, 15, 5)  # a 32nd note is 60 ticks; velocity up to 12
    nudged = _humanized([(960, 1920, 60, 80)], random.Random(3), 480, 1.0)
    assert nudged == [(960 - 30, 1920 + 15, 60, 80 + 5)]


def test_humanized_velocities_stay_within_midis_1_to_127() -> None:
    loud = [(480 * n, 480 * n + 240, 60, 127) for n in range(40)]
    soft = [(480 * n, 480 * n + 240, 72, 1) for n in range(40)]
    nudged = _humanized(loud + soft, random.Random(0), 480, 1.0)
    assert max(velocity for *_, key, velocity in nudged if key == 60) == 127
    assert min(velocity for *_, key, velocity in nudged if key == 72) == 1
