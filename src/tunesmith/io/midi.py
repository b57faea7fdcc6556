"""Standard MIDI Files for a DAW, written and read back with mido.

A type-1 file: a conductor track (name, tempo, time signature, key signature) and one
melody track (name, program, notes on channel 0). Ties become one sustained note, chords
sound together, rests advance time, and notes are accented by their place in the bar.
Times are exact: every note must start and end on a whole tick. Files are written
atomically, so a failed write leaves nothing behind.
"""

from __future__ import annotations

import io
import math
import os
import random
from dataclasses import KW_ONLY, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import mido

from tunesmith.errors import ExportError, RequestError
from tunesmith.io.files import write_atomically
from tunesmith.score import Tune

__all__ = [
    "MidiMeta",
    "MidiSettings",
    "key_name",
    "meter_beat",
    "midi_bytes",
    "read_midi_meta",
    "read_midi_notes",
    "sounding_notes",
    "write_midi",
]

_MAJOR_KEYS = ("Cb", "Gb", "Db", "Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#")
_MINOR_KEYS = (
    *("Abm", "Ebm", "Bbm", "Fm", "Cm", "Gm", "Dm"),
    *("Am", "Em", "Bm", "F#m", "C#m", "G#m", "D#m", "A#m"),
)
VELOCITY_DOWNBEAT, VELOCITY_BEAT, VELOCITY_OFFBEAT = 96, 80, 72
MELODY_CHANNEL = 0
_MAX_TEMPO_MICROSECONDS = 0xFFFFFF  # set_tempo holds 24 bits
_MAX_TICKS_PER_BEAT = 0x7FFF  # the header's division holds 15 bits

Note = tuple[int, Fraction, Fraction]
"""(MIDI key, onset, duration), both in quarter notes."""


def meter_beat(numerator: int, denominator: int) -> Fraction:
    """The beat of a meter in quarter notes, as music21 counts it.

    Compound meters (6/8, 9/8, 12/8, 3/8, 6/4) beat in dotted notes: a dotted quarter
    in 6/8. Others beat in their denominator: a quarter in 3/4, a half in 2/2.
    """
    unit = Fraction(4, denominator)
    compound = numerator % 3 == 0 and (numerator > 3 or denominator >= 8)
    return 3 * unit if compound else unit


@dataclass(frozen=True)
class MidiSettings:
    """Everything besides the notes that goes into the file.

    Raises :class:`~tunesmith.errors.RequestError` naming a field that a MIDI file
    cannot hold (e.g. a key of 9 sharps or a 3/5 meter).
    """

    tempo_qpm: float
    """Quarter notes per minute."""
    numerator: int
    denominator: int
    program: int
    """General MIDI program, 0-127 (73 is the flute)."""
    track_name: str
    """The song's title, on the conductor track (and the melody track's, by default)."""
    key_sharps: int | None = None
    """Key signature as sharps (negative: flats), -7 to 7, or None for no key signature."""
    key_minor: bool = False
    ticks_per_beat: int = 480
    """Ticks per quarter note."""
    _: KW_ONLY
    instrument_name: str = ""
    """The melody track's name; default: ``track_name``."""
    beat_length: Fraction = Fraction(1)
    """Quarter notes per beat for the tempo mark in sheet music (a dotted quarter, 3/2, in
    6/8). MIDI accents follow the meter instead; see :func:`meter_beat`."""
    humanize: float = 0.0
    """0 (exact, the default) to 1: random timing (up to a 32nd note early or late) and
    velocity (up to 12 softer or louder) jitter, as a player's, scaled by this amount."""
    humanize_seed: int = 0
    """Seed of the jitter: the same seed gives the same file."""

    def __post_init__(self) -> None:
        microseconds = 60e6 / self.tempo_qpm if self.tempo_qpm > 0 else math.inf
        _check(
            0.5 <= microseconds < _MAX_TEMPO_MICROSECONDS + 0.5,
            f"tempo_qpm must be between {60e6 / _MAX_TEMPO_MICROSECONDS:.2f} and 60000000 "
            f"quarter notes per minute (received {self.tempo_qpm})",
        )
        _check(
            1 <= self.numerator <= 255 and self.denominator in {2**n for n in range(8)},
            "the meter must be N/D with N from 1 to 255 and D a power of two up to 128 "
            f"(received {self.numerator}/{self.denominator})",
        )
        _check(
            0 <= self.program <= 127,
            f"program must be a General MIDI program 0-127 (received {self.program})",
        )
        _check(
            self.key_sharps is None or -7 <= self.key_sharps <= 7,
            f"key_sharps must be -7 (7 flats) to 7 sharps, or None (received {self.key_sharps})",
        )
        _check(
            1 <= self.ticks_per_beat <= _MAX_TICKS_PER_BEAT,
            f"ticks_per_beat must be 1-{_MAX_TICKS_PER_BEAT} (received {self.ticks_per_beat})",
        )
        _check(
            0 <= self.humanize <= 1,
            f"humanize must be between 0 and 1 (received {self.humanize})",
        )
        _check(
            self.beat_length > 0,
            f"beat_length must be positive (received {self.beat_length})",
        )


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise RequestError(message)


def key_name(settings: MidiSettings) -> str | None:
    """The key signature's name as mido spells it ('D', 'Bb', 'F#m'), or None for none."""
    if settings.key_sharps is None:
        return None
    names = _MINOR_KEYS if settings.key_minor else _MAJOR_KEYS
    return names[settings.key_sharps + 7]


def _sounding(tune: Tune) -> list[tuple[Fraction, Fraction, int, Fraction]]:
    """(onset, end, key, onset's offset in its bar) of every note, ties merged.

    A tie joins an event's pitch to the same pitch in the next event. A tie into an event
    without that pitch (a rest, another note) is ignored: the note ends where it was
    written to end.
    """
    notes: list[tuple[Fraction, Fraction, int, Fraction]] = []
    held: dict[int, tuple[Fraction, Fraction]] = {}  # key -> (onset, offset) of a tied note
    now = Fraction(0)
    for bar in tune.bars:
        offset = Fraction(0)
        for event in bar.events:
            keys = sorted({pitch.midi for pitch in event.pitches})  # E#4 and F4 are one key
            for key in [key for key in held if key not in keys]:
                onset, onset_offset = held.pop(key)
                notes.append((onset, now, key, onset_offset))
            for key in keys:
                onset, onset_offset = held.pop(key, (now, offset))
                if event.tie:
                    held[key] = (onset, onset_offset)
                else:
                    notes.append((onset, now + event.duration, key, onset_offset))
            offset += event.duration
            now += event.duration
    notes += [(onset, now, key, onset_offset) for key, (onset, onset_offset) in held.items()]
    return sorted(notes)


def sounding_notes(tune: Tune) -> list[Note]:
    """(key, onset, duration) in quarter notes of each note the tune sounds, ties merged.

    The same form and order as :func:`read_midi_notes`, so a file can be checked
    against its tune.
    """
    notes = [(key, onset, end - onset) for onset, end, key, _ in _sounding(tune)]
    return sorted(notes, key=_note_order)


def _note_order(note: Note) -> tuple[Fraction, int, Fraction]:
    key, onset, duration = note
    return onset, key, duration


def _ticks(quarters: Fraction, settings: MidiSettings, what: str) -> int:
    ticks = quarters * settings.ticks_per_beat
    if ticks.denominator != 1:
        needed = math.lcm(settings.ticks_per_beat, quarters.denominator)
        raise ExportError(
            f"{what} at {quarters} quarter notes does not land on a whole MIDI tick at "
            f"{settings.ticks_per_beat} ticks per quarter note; use ticks_per_beat={needed}"
        )
    return int(ticks)


def _velocity(offset: Fraction, beat: Fraction) -> int:
    """Accent by metrical position: the downbeat, other beats, and everything in between."""
    if offset == 0:
        return VELOCITY_DOWNBEAT
    return VELOCITY_BEAT if offset % beat == 0 else VELOCITY_OFFBEAT


def _tick_notes(tune: Tune, settings: MidiSettings) -> list[tuple[int, int, int, int]]:
    """(start tick, end tick, key, velocity) of every sounding note."""
    beat = meter_beat(settings.numerator, settings.denominator)
    notes = [
        (
            _ticks(onset, settings, "a note's start"),
            _ticks(end, settings, "a note's end"),
            key,
            _velocity(offset, beat),
        )
        for onset, end, key, offset in _sounding(tune)
    ]
    return _humanized(notes, settings) if settings.humanize else notes


def _humanized(
    notes: list[tuple[int, int, int, int]], settings: MidiSettings
) -> list[tuple[int, int, int, int]]:
    """Notes nudged in time and velocity, seeded; repeated notes on a key never overlap."""
    rng = random.Random(settings.humanize_seed)
    shift = round(settings.ticks_per_beat / 8 * settings.humanize)  # up to a 32nd note
    spread = round(12 * settings.humanize)
    free_from: dict[int, int] = {}  # key -> tick where its previous note ended
    nudged = []
    for start, end, key, velocity in notes:
        new_start = max(0, free_from.get(key, 0), start + rng.randint(-shift, shift))
        new_end = max(new_start + max(1, (end - start) // 2), end + rng.randint(-shift, shift))
        free_from[key] = new_end
        loudness = min(127, max(1, velocity + rng.randint(-spread, spread)))
        nudged.append((new_start, new_end, key, loudness))
    return sorted(nudged)


def midi_bytes(tune: Tune, settings: MidiSettings) -> bytes:
    """The tune as a type-1 Standard MIDI File.

    Raises
    ------
    ExportError
        If a note does not start or end on a whole tick at ``settings.ticks_per_beat``.
    """
    conductor = mido.MidiTrack(
        [
            mido.MetaMessage("track_name", name=settings.track_name),
            mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(settings.tempo_qpm)),
            mido.MetaMessage(
                "time_signature", numerator=settings.numerator, denominator=settings.denominator
            ),
        ]
    )
    if (key := key_name(settings)) is not None:
        conductor.append(mido.MetaMessage("key_signature", key=key))
    conductor.append(mido.MetaMessage("end_of_track"))

    timed: list[tuple[int, int, int, mido.Message]] = []
    for start, end, key_number, velocity in _tick_notes(tune, settings):
        on = mido.Message("note_on", channel=MELODY_CHANNEL, note=key_number, velocity=velocity)
        off = mido.Message("note_off", channel=MELODY_CHANNEL, note=key_number, velocity=0)
        timed += [(start, 1, key_number, on), (end, 0, key_number, off)]  # offs first at a tick
    melody = mido.MidiTrack(
        [
            mido.MetaMessage("track_name", name=settings.instrument_name or settings.track_name),
            mido.Message("program_change", channel=MELODY_CHANNEL, program=settings.program),
        ]
    )
    now = 0
    for tick, _, _, message in sorted(timed, key=lambda item: item[:3]):
        melody.append(message.copy(time=tick - now))
        now = tick
    end_tick = _ticks(tune.duration, settings, "the tune's end")
    melody.append(mido.MetaMessage("end_of_track", time=max(0, end_tick - now)))

    midi = mido.MidiFile(type=1, ticks_per_beat=settings.ticks_per_beat)
    midi.tracks += [conductor, melody]
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def write_midi(tune: Tune, path: str | os.PathLike[str], settings: MidiSettings) -> Path:
    """Write the tune as a MIDI file at ``path``, atomically; see :func:`write_atomically`."""
    return write_atomically(path, midi_bytes(tune, settings))


def _open(data: bytes | str | os.PathLike[str]) -> mido.MidiFile:
    source = "the MIDI data" if isinstance(data, bytes) else str(data)
    try:
        if isinstance(data, bytes):
            return mido.MidiFile(file=io.BytesIO(data))
        return mido.MidiFile(os.fspath(data))
    except (OSError, EOFError, ValueError, KeyError) as error:
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        raise ExportError(f"cannot read {source} as a MIDI file: {reason}") from error


def read_midi_notes(data: bytes | str | os.PathLike[str]) -> list[Note]:
    """(key, onset, duration) in quarter notes of every note in a MIDI file, as a DAW sees it.

    ``data`` is the file's bytes or its path. Notes come sorted by onset, then key; a
    note left sounding ends where the file ends.
    """
    midi = _open(data)
    per_quarter = Fraction(midi.ticks_per_beat)
    notes: list[Note] = []
    sounding: dict[tuple[int, int], list[int]] = {}  # (channel, key) -> start ticks, oldest first
    now = 0
    for message in mido.merge_tracks(midi.tracks):
        now += message.time
        if message.type not in {"note_on", "note_off"}:
            continue
        starts = sounding.setdefault((message.channel, message.note), [])
        if message.type == "note_on" and message.velocity > 0:
            starts.append(now)
        elif starts:
            start = starts.pop(0)
            notes.append((message.note, start / per_quarter, (now - start) / per_quarter))
    for (_, key), starts in sounding.items():
        notes += [(key, start / per_quarter, (now - start) / per_quarter) for start in starts]
    return sorted(notes, key=_note_order)


@dataclass(frozen=True)
class MidiMeta:
    """Tempo, meter, key, program and track names of a MIDI file (None: not set)."""

    tempo_qpm: float | None
    """Quarter notes per minute, to three decimals."""
    time_signature: tuple[int, int] | None
    key: str | None
    """As mido names it: 'D', 'Bm'."""
    program: int | None
    track_names: tuple[str, ...]


def read_midi_meta(data: bytes | str | os.PathLike[str]) -> MidiMeta:
    """The first tempo, time signature, key and program of a MIDI file, and its track names."""
    midi = _open(data)
    first: dict[str, Any] = {}
    names = []
    for track in midi.tracks:
        for message in track:
            if message.type == "track_name":
                names.append(message.name)
            else:
                first.setdefault(message.type, message)
    tempo = first.get("set_tempo")
    signature = first.get("time_signature")
    key = first.get("key_signature")
    program = first.get("program_change")
    return MidiMeta(
        tempo_qpm=round(mido.tempo2bpm(tempo.tempo), 3) if tempo else None,
        time_signature=(signature.numerator, signature.denominator) if signature else None,
        key=key.key if key else None,
        program=program.program if program else None,
        track_names=tuple(names),
    )
