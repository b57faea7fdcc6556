"""Standard MIDI Files for a DAW, written with mido.

A type-1 file: a conductor track (name, tempo, time signature, key signature) and one
melody track (name, program, notes). Ties become one sustained note; downbeats are
accented. Files are written atomically: a failed write leaves nothing behind.
"""

from __future__ import annotations

import io
import os
import random
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import mido

from tunesmith.errors import ExportError
from tunesmith.tune import Tune

__all__ = [
    "MidiMeta",
    "MidiSettings",
    "key_name",
    "midi_bytes",
    "read_midi_meta",
    "read_midi_notes",
    "sounding_notes",
    "write_atomically",
    "write_midi",
]

_MAJOR_KEYS = ["Cb", "Gb", "Db", "Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#"]
_MINOR_KEYS = [
    "Abm",
    "Ebm",
    "Bbm",
    "Fm",
    "Cm",
    "Gm",
    "Dm",
    "Am",
    "Em",
    "Bm",
    "F#m",
    "C#m",
    "G#m",
    "D#m",
    "A#m",
]
VELOCITY_DOWNBEAT, VELOCITY_BEAT, VELOCITY_OFFBEAT = 96, 84, 72
MELODY_CHANNEL = 0


@dataclass(frozen=True)
class MidiSettings:
    """Everything besides the notes that goes into the file."""

    tempo_qpm: float
    """Quarter notes per minute."""
    numerator: int
    denominator: int
    program: int
    """General MIDI program, 0-127."""
    track_name: str
    """The song's title, on the conductor track."""
    instrument_name: str = ""
    """The melody track's name; default: the title."""
    key_sharps: int | None = None
    """Key signature as sharps (negative: flats), or None for none."""
    key_minor: bool = False
    beat_length: Fraction = Fraction(1)
    """Quarter notes per beat (a dotted quarter in 6/8), for accents."""
    ticks_per_beat: int = 480
    humanize: float = 0.0
    """0 (exact, the default) to 1: random timing (up to a 32nd note early or late) and
    velocity (up to 12 softer or louder) jitter, as a player's, scaled by this amount."""
    humanize_seed: int = 0
    """Seed of the jitter: the same seed gives the same file."""


def _velocity(offset: Fraction, settings: MidiSettings) -> int:
    """Accent by metrical position: the downbeat, other beats, and everything in between."""
    if offset == 0:
        return VELOCITY_DOWNBEAT
    return VELOCITY_BEAT if offset % settings.beat_length == 0 else VELOCITY_OFFBEAT


def _ticks(quarters: Fraction, settings: MidiSettings) -> int:
    ticks = quarters * settings.ticks_per_beat
    if ticks.denominator != 1:
        raise ExportError(
            f"a duration of {quarters} quarter notes does not land on a whole MIDI tick at "
            f"{settings.ticks_per_beat} ticks per quarter note"
        )
    return int(ticks)


def _notes(tune: Tune, settings: MidiSettings) -> list[tuple[int, int, int, int]]:
    """(start tick, end tick, key, velocity) of every sounding note, ties merged."""
    notes: list[tuple[int, int, int, int]] = []
    sounding: dict[int, tuple[int, int]] = {}  # key -> (start tick, velocity) of a tied note
    now = Fraction(0)
    for bar in tune.bars:
        offset = Fraction(0)
        for event in bar.events:
            start, end = _ticks(now, settings), _ticks(now + event.duration, settings)
            for pitch in event.pitches:
                first_start, velocity = sounding.pop(
                    pitch.midi, (start, _velocity(offset, settings))
                )
                if event.tie:
                    sounding[pitch.midi] = (first_start, velocity)
                else:
                    notes.append((first_start, end, pitch.midi, velocity))
            offset += event.duration
            now += event.duration
    end = _ticks(now, settings)
    notes += [(start, end, key, velocity) for key, (start, velocity) in sounding.items()]
    if settings.humanize:
        notes = _humanized(notes, settings)
    return sorted(notes)


def _humanized(
    notes: list[tuple[int, int, int, int]], settings: MidiSettings
) -> list[tuple[int, int, int, int]]:
    """Notes nudged in time and velocity, seeded; no note gets shorter than half its length."""
    if not 0 <= settings.humanize <= 1:
        raise ExportError(f"humanize must be between 0 and 1 (received {settings.humanize})")
    rng = random.Random(settings.humanize_seed)
    shift = round(settings.ticks_per_beat / 8 * settings.humanize)  # up to a 32nd note
    spread = round(12 * settings.humanize)
    nudged = []
    for start, end, key, velocity in notes:
        new_start = max(0, start + rng.randint(-shift, shift))
        new_end = max(new_start + (end - start) // 2, end + rng.randint(-shift, shift))
        loudness = min(127, max(1, velocity + rng.randint(-spread, spread)))
        nudged.append((new_start, new_end, key, loudness))
    return nudged


def key_name(settings: MidiSettings) -> str | None:
    """The key signature's name as MIDI files spell it: 'D', 'Bb', 'F#m'."""
    if settings.key_sharps is None or not -7 <= settings.key_sharps <= 7:
        return None
    names = _MINOR_KEYS if settings.key_minor else _MAJOR_KEYS
    return names[settings.key_sharps + 7]


def midi_bytes(tune: Tune, settings: MidiSettings) -> bytes:
    """The tune as a type-1 Standard MIDI File."""
    midi = mido.MidiFile(type=1, ticks_per_beat=settings.ticks_per_beat)
    conductor = mido.MidiTrack(
        [
            mido.MetaMessage("track_name", name=settings.track_name, time=0),
            mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(settings.tempo_qpm), time=0),
            mido.MetaMessage(
                "time_signature", numerator=settings.numerator, denominator=settings.denominator
            ),
        ]
    )
    if (key := key_name(settings)) is not None:
        conductor.append(mido.MetaMessage("key_signature", key=key, time=0))
    conductor.append(mido.MetaMessage("end_of_track", time=0))
    events: list[tuple[int, int, mido.Message]] = []
    for start, end, key_number, velocity in _notes(tune, settings):
        on = mido.Message("note_on", channel=MELODY_CHANNEL, note=key_number, velocity=velocity)
        off = mido.Message("note_off", channel=MELODY_CHANNEL, note=key_number, velocity=0)
        events += [(start, 1, on), (end, 0, off)]  # at equal ticks, offs before ons
    melody = mido.MidiTrack(
        [
            mido.MetaMessage(
                "track_name", name=settings.instrument_name or settings.track_name, time=0
            ),
            mido.Message("program_change", channel=MELODY_CHANNEL, program=settings.program),
        ]
    )
    now = 0
    for tick, _, message in sorted(events, key=lambda item: (item[0], item[1])):
        melody.append(message.copy(time=tick - now))
        now = tick
    end_tick = _ticks(tune.duration, settings)
    melody.append(mido.MetaMessage("end_of_track", time=max(0, end_tick - now)))
    midi.tracks += [conductor, melody]
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def write_atomically(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename; never half a file."""
    folder = path.parent
    if not folder.is_dir():
        raise ExportError(
            f"cannot write {path}: the folder {folder} does not exist; create it first"
        )
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    except OSError as error:
        raise ExportError(f"cannot write {path}: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes 0600; give the usual mode
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise ExportError(f"cannot write {path}: {error.strerror or error}") from None
    return path


def write_midi(tune: Tune, path: Path, settings: MidiSettings) -> Path:
    """Write the tune as a MIDI file at ``path`` (atomically)."""
    return write_atomically(Path(path), midi_bytes(tune, settings))


def sounding_notes(tune: Tune) -> list[tuple[int, Fraction, Fraction]]:
    """(key, onset, duration) in quarter notes of each note the tune sounds, ties merged.

    The same form as :func:`read_midi_notes`, so a file can be checked against its tune.
    """
    notes: list[tuple[int, Fraction, Fraction]] = []
    held: dict[int, Fraction] = {}
    now = Fraction(0)
    for event in tune.events:
        for pitch in event.pitches:
            start = held.pop(pitch.midi, now)
            if event.tie:
                held[pitch.midi] = start
            else:
                notes.append((pitch.midi, start, now + event.duration - start))
        now += event.duration
    notes += [(key, start, now - start) for key, start in held.items()]
    return sorted(notes, key=lambda note: (note[1], note[0]))


def _open(data: bytes | str | Path) -> mido.MidiFile:
    if isinstance(data, bytes):
        return mido.MidiFile(file=io.BytesIO(data))
    return mido.MidiFile(data)


def read_midi_notes(data: bytes | str | Path) -> list[tuple[int, Fraction, Fraction]]:
    """(key, onset, duration) in quarter notes of every note in a MIDI file, as a DAW sees it."""
    midi = _open(data)
    notes: list[tuple[int, Fraction, Fraction]] = []
    sounding: dict[tuple[int, int], int] = {}
    now = 0
    for message in mido.merge_tracks(midi.tracks):
        now += message.time
        if message.type == "note_on" and message.velocity > 0:
            sounding[(message.channel, message.note)] = now
        elif message.type in {"note_on", "note_off"}:
            start = sounding.pop((message.channel, message.note), None)
            if start is not None:
                quarters = Fraction(midi.ticks_per_beat)
                notes.append((message.note, start / quarters, (now - start) / quarters))
    return sorted(notes, key=lambda note: (note[1], note[0]))


@dataclass(frozen=True)
class MidiMeta:
    """Tempo, meter, key, program and track names of a MIDI file."""

    tempo_qpm: float | None
    time_signature: tuple[int, int] | None
    key: str | None
    program: int | None
    track_names: tuple[str, ...]


def read_midi_meta(data: bytes | str | Path) -> MidiMeta:
    """The first tempo, time signature, key and program of a MIDI file, and its track names."""
    midi = _open(data)
    found: dict[str, mido.Message | mido.MetaMessage] = {}
    names = []
    for track in midi.tracks:
        for message in track:
            if message.type == "track_name":
                names.append(message.name)
            else:
                found.setdefault(message.type, message)
    tempo = found.get("set_tempo")
    signature = found.get("time_signature")
    key = found.get("key_signature")
    program = found.get("program_change")
    return MidiMeta(
        tempo_qpm=round(mido.tempo2bpm(tempo.tempo), 6) if tempo else None,
        time_signature=(signature.numerator, signature.denominator) if signature else None,
        key=key.key if key else None,
        program=program.program if program else None,
        track_names=tuple(names),
    )
