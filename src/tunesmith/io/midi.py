"""Standard MIDI Files for a DAW, written from a score and read back with mido.

A type-1 file: a conductor track (title, tempo, time signature with the beat as its
metronome click, key signature) and one named track per part, with its program, the key
signature (so that importers which read it per track, as MuseScore does, spell the notes
right) and its notes on a channel of its own; drum parts play on channel 10. Repeats are
played out, ties become one sustained note, chords sound together, and notes are accented
by their place in the bar, the melody above the accompaniment. Text is UTF-8. Every note
must start and end on a whole tick. See :mod:`tunesmith.io.read` for reading files.
"""

from __future__ import annotations

import functools
import io
import math
import os
import random
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import mido

from tunesmith.errors import ExportError, RequestError
from tunesmith.io.files import write_atomically
from tunesmith.model.general_midi import gm_instruments
from tunesmith.model.score import Key, Part, Score, Tune

__all__ = [
    "DRUM_CHANNEL",
    "NoteSpan",
    "midi_bytes",
    "mido_key",
    "open_midi",
    "read_midi_notes",
    "sounding_notes",
    "track_notes",
    "write_midi",
]

VELOCITY_DOWNBEAT, VELOCITY_BEAT, VELOCITY_OFFBEAT = 96, 80, 72
ACCOMPANIMENT_LEVEL = 0.8
"""Velocity of parts other than the melody, relative to the melody's: the melody in front."""
LEVELS = {"counter": 0.8, "bass": 0.8, "drums": 0.7, "chords": 0.6}
"""Velocity by role, relative to the melody's: chords, struck several notes at once, softest."""
DRUM_CHANNEL = 9
"""MIDI channel 10, counted from 0 as mido does."""
_MAX_TICKS_PER_BEAT = 0x7FFF  # the header's division holds 15 bits

Note = tuple[int, Fraction, Fraction]
"""(MIDI key, onset, duration), both in quarter notes."""
_Timed = tuple[Fraction, Fraction, int, Fraction]
"""(onset, end, key, the onset's offset in its bar)."""


def _sounding(tune: Tune) -> list[_Timed]:
    """(onset, end, key, onset's offset in its bar) of every note, ties merged.

    A tie joins an event's pitch to the same pitch in the next event. A tie into an event
    without that pitch (a rest, another note) is ignored: the note ends where it was
    written to end. Drum hits sound for their event's length.
    """
    notes: list[_Timed] = []
    held: dict[int, tuple[Fraction, Fraction]] = {}  # key -> (onset, offset) of a tied note
    now = Fraction(0)
    for bar in tune.bars:
        offset = Fraction(0)
        for event in bar.events:
            keys = sorted({p.midi for p in event.pitches} | {d.midi for d in event.drums})
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


def _ticks(quarters: Fraction, ticks_per_beat: int, what: str) -> int:
    ticks = quarters * ticks_per_beat
    if ticks.denominator != 1:
        needed = math.lcm(ticks_per_beat, quarters.denominator)
        raise ExportError(
            f"{what} at {quarters} quarter notes does not land on a whole MIDI tick at "
            f"{ticks_per_beat} ticks per quarter note; use ticks_per_beat={needed}"
        )
    return int(ticks)


def _velocity(offset: Fraction, beat: Fraction, level: float) -> int:
    """Accent by metrical position: the downbeat, other beats, and everything in between."""
    if offset == 0:
        velocity = VELOCITY_DOWNBEAT
    else:
        velocity = VELOCITY_BEAT if offset % beat == 0 else VELOCITY_OFFBEAT
    return round(velocity * level)


def _humanized(
    notes: list[tuple[int, int, int, int]], rng: random.Random, ticks_per_beat: int, amount: float
) -> list[tuple[int, int, int, int]]:
    """Notes nudged in time and velocity, seeded; repeated notes on a key never overlap."""
    shift = round(ticks_per_beat / 8 * amount)  # up to a 32nd note
    spread = round(12 * amount)
    free_from: dict[int, int] = {}  # key -> tick where its previous note ended
    nudged = []
    for start, end, key, velocity in notes:
        new_start = max(0, free_from.get(key, 0), start + rng.randint(-shift, shift))
        new_end = max(new_start + max(1, (end - start) // 2), end + rng.randint(-shift, shift))
        free_from[key] = new_end
        loudness = min(127, max(1, velocity + rng.randint(-spread, spread)))
        nudged.append((new_start, new_end, key, loudness))
    return sorted(nudged)


@functools.cache
def mido_key(key: Key) -> tuple[str, bool]:
    """The key signature as mido names it ('D', 'Bm') and whether it is written as minor.

    A mode other than major and minor is written as the major key with its signature
    (E dorian as D): a MIDI key signature holds only sharps and major or minor.
    """
    from music21 import key as music21_key  # noqa: PLC0415 - music21 is slow to import

    minor = key.mode == "minor"
    tonic = music21_key.KeySignature(key.sharps).asKey("minor" if minor else "major").tonic
    return tonic.name.replace("-", "b") + ("m" if minor else ""), minor


def _channels(parts: tuple[Part, ...]) -> list[int]:
    free = [channel for channel in range(16) if channel != DRUM_CHANNEL]
    pitched = sum(1 for part in parts if not part.is_drum)
    if pitched > len(free):
        raise ExportError(
            f"a MIDI file has 15 channels for pitched parts and this score has {pitched}; "
            "merge some parts"
        )
    channels = iter(free)
    return [DRUM_CHANNEL if part.is_drum else next(channels) for part in parts]


def _meter_events(score: Score, ticks_per_beat: int) -> list[tuple[int, mido.MetaMessage]]:
    """The time signature, and a change at each bar of another length (a pickup) and back."""
    header = score.header
    events = []
    now, current = Fraction(0), None
    for length in score.bar_lengths:
        wanted = (header.numerator, header.denominator)
        if length != header.bar_length:
            denominator = max(4, (length / 4).denominator)
            numerator = length * denominator / 4
            if denominator in {2**n for n in range(8)} and numerator <= 255:
                wanted = (int(numerator), denominator)
        if wanted != current:
            beat = header.beat if wanted == (header.numerator, header.denominator) else None
            clocks = int(24 * (beat or Fraction(4, wanted[1])))
            message = mido.MetaMessage(
                "time_signature", numerator=wanted[0], denominator=wanted[1],
                clocks_per_click=clocks, notated_32nd_notes_per_beat=8,
            )  # fmt: skip
            events.append((_ticks(now, ticks_per_beat, "a bar"), message))
            current = wanted
        now += length
    return events


def _track(
    part: Part, channel: int, score: Score, options: tuple[int, float, random.Random]
) -> mido.MidiTrack:
    ticks_per_beat, humanize, rng = options
    level = 1.0 if part is score.melody else LEVELS.get(part.role, ACCOMPANIMENT_LEVEL)
    timed = [
        (
            _ticks(onset, ticks_per_beat, "a note's start"),
            _ticks(end, ticks_per_beat, "a note's end"),
            key,
            _velocity(offset, score.header.beat, level),
        )
        for onset, end, key, offset in _sounding(part.tune)
    ]
    if humanize:
        timed = _humanized(timed, rng, ticks_per_beat, humanize)
    messages: list[tuple[int, int, int, mido.Message]] = []
    for start, end, key, velocity in timed:
        on = mido.Message("note_on", channel=channel, note=key, velocity=velocity)
        off = mido.Message("note_off", channel=channel, note=key, velocity=0)
        messages += [(start, 1, key, on), (end, 0, key, off)]  # offs first at a tick
    default = "Drums" if part.is_drum else gm_instruments()[part.program]
    track = mido.MidiTrack([mido.MetaMessage("track_name", name=part.name or default)])
    if score.header.key is not None and not part.is_drum:
        track.append(mido.MetaMessage("key_signature", key=mido_key(score.header.key)[0]))
    track.append(mido.Message("program_change", channel=channel, program=part.program))
    now = 0
    for tick, _, _, message in sorted(messages, key=lambda item: item[:3]):
        track.append(message.copy(time=tick - now))
        now = tick
    end = _ticks(part.tune.duration, ticks_per_beat, "the score's end")
    track.append(mido.MetaMessage("end_of_track", time=max(0, end - now)))
    return track


def midi_bytes(
    score: Score, *, ticks_per_beat: int = 480, humanize: float = 0.0, seed: int = 0
) -> bytes:
    """The score as a type-1 Standard MIDI File, repeats played out.

    ``humanize`` (0, exact, to 1) adds seeded timing (up to a 32nd note) and velocity (up
    to 12) jitter, as a player's; the same ``seed`` gives the same file.

    Raises
    ------
    ExportError
        If a note does not start or end on a whole tick at ``ticks_per_beat``, or the
        score has more pitched parts than MIDI has channels.
    RequestError
        For ``ticks_per_beat`` or ``humanize`` out of range.
    """
    if not 1 <= ticks_per_beat <= _MAX_TICKS_PER_BEAT:
        raise RequestError(
            f"ticks_per_beat must be 1-{_MAX_TICKS_PER_BEAT} (received {ticks_per_beat})"
        )
    if not 0 <= humanize <= 1:
        raise RequestError(f"humanize must be between 0 and 1 (received {humanize})")
    played = score.expanded()
    header = played.header
    conductor = mido.MidiTrack(
        [
            mido.MetaMessage("track_name", name=header.title),
            mido.MetaMessage("set_tempo", tempo=round(60e6 / header.qpm)),
        ]
    )
    meters = _meter_events(played, ticks_per_beat)
    conductor.append(meters[0][1])
    if header.key is not None:
        conductor.append(mido.MetaMessage("key_signature", key=mido_key(header.key)[0]))
    now = 0
    for tick, message in meters[1:]:
        conductor.append(message.copy(time=tick - now))
        now = tick
    conductor.append(mido.MetaMessage("end_of_track"))
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat, charset="utf-8")
    midi.tracks.append(conductor)
    rng = random.Random(seed)
    for part, channel in zip(played.parts, _channels(played.parts), strict=True):
        midi.tracks.append(_track(part, channel, played, (ticks_per_beat, humanize, rng)))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def write_midi(score: Score, path: str | os.PathLike[str], **options: float) -> Path:
    """Write the score as a MIDI file at ``path``, atomically; options as :func:`midi_bytes`."""
    return write_atomically(path, midi_bytes(score, **options))  # type: ignore[arg-type]


def open_midi(data: bytes | str | os.PathLike[str]) -> mido.MidiFile:
    """A MIDI file parsed by mido, its text read as UTF-8 (Latin-1 where that fails).

    Raises :class:`ExportError` for data that is not a MIDI file.
    """
    source = "the MIDI data" if isinstance(data, bytes) else str(data)
    for charset in ("utf-8", "latin1"):
        try:
            if isinstance(data, bytes):
                return mido.MidiFile(file=io.BytesIO(data), charset=charset)
            return mido.MidiFile(os.fspath(data), charset=charset)
        except UnicodeDecodeError:
            continue
        except (OSError, EOFError, ValueError, KeyError, IndexError) as error:
            reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
            raise ExportError(f"cannot read {source} as a MIDI file: {reason}") from error
    raise AssertionError("latin1 decodes every byte")  # pragma: no cover


@dataclass(frozen=True)
class NoteSpan:
    """A note of a MIDI track: where it starts and ends, in ticks."""

    channel: int
    key: int
    start: int
    end: int


def track_notes(track: Iterable[Any], *, graces: bool = True) -> tuple[list[NoteSpan], int, int]:
    """The notes of one track (or of tracks merged), paired on and off per channel and key.

    An off pairs with the oldest sounding note of its key; a note left sounding ends where
    the track ends. ``graces=False`` drops a note that begins as an unpaired off of its key
    ends (music21 writes a grace note so). Returns the notes, the track's length in ticks,
    and how many notes were dropped.
    """
    notes: list[NoteSpan] = []
    held: dict[tuple[int, int], list[int]] = {}  # (channel, key) -> starts, oldest first
    unstarted: dict[tuple[int, int], int] = {}  # (channel, key) -> an off with no on, when
    dropped = ticks = 0
    for message in track:
        ticks += message.time
        if message.type not in {"note_on", "note_off"}:
            continue
        sound = (message.channel, message.note)
        starts = held.setdefault(sound, [])
        if message.type == "note_on" and message.velocity > 0:
            if not graces and unstarted.pop(sound, None) == ticks:  # else it sounds on
                dropped += 1
                continue
            starts.append(ticks)
        elif starts:
            notes.append(NoteSpan(message.channel, message.note, starts.pop(0), ticks))
        else:
            unstarted[sound] = ticks
    for (channel, key), starts in held.items():
        notes += [NoteSpan(channel, key, start, ticks) for start in starts]
    return notes, ticks, dropped


def read_midi_notes(data: bytes | str | os.PathLike[str]) -> list[Note]:
    """(key, onset, duration) in quarter notes of every note in a MIDI file, as a DAW sees it.

    ``data`` is the file's bytes or its path. Notes come sorted by onset, then key; a
    note left sounding ends where the file ends.
    """
    midi = open_midi(data)
    per_quarter = Fraction(midi.ticks_per_beat)
    spans, _, _ = track_notes(mido.merge_tracks(midi.tracks))
    notes = [(n.key, n.start / per_quarter, (n.end - n.start) / per_quarter) for n in spans]
    return sorted(notes, key=_note_order)
