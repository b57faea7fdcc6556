"""A Standard MIDI File read into a :class:`Score`: tracks and channels become parts.

Channel 10 is drums. Tempo, time signatures (bars of other lengths, such as a pickup,
included) and the key signature make the header; the metronome click gives the beat. A
pickup the file does not mark (music21 and many DAWs write none) is read from where the
notes fall, and the bars end with the music, not with the silence a file may add after it.
Times a program wrote on the notation's grid are kept exactly; a performance is quantised
part by part, and ``score.source`` counts what moved. What the file does not say (key,
meter, tempo) is estimated and named in ``score.source.estimated``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from tunesmith.errors import ExportError, ReadError, ScoreError
from tunesmith.io.limits import MAX_SCORE_BARS, check_extent
from tunesmith.io.midi import DRUM_CHANNEL, open_midi, track_notes
from tunesmith.io.timeline import (
    Timed,
    analysed_key,
    choose_grid,
    exact,
    key_ending_on,
    quantise,
    roles,
    to_bars,
)
from tunesmith.model.header import Header, Key, clean_text
from tunesmith.model.meter import Meter, meter_of
from tunesmith.model.score import DURATIONS, Drum, Part, Pitch, PitchClass, Score, Source

__all__ = ["open_midi_file", "read_midi"]

PartKey = tuple[int, int]
"""(track, channel): one part."""


def open_midi_file(data: bytes, path: Path) -> Any:
    """The file parsed by mido; a :class:`ReadError` for anything else."""
    if data[:4] != b"MThd":
        looks = "text" if data[:64].isascii() else "another kind of file"
        raise ReadError(
            path, f"not a MIDI file: it does not start with 'MThd' (it looks like {looks})"
        )
    try:
        midi = open_midi(data)
    except ExportError as error:
        reason = error.__cause__ or error
        raise ReadError(path, f"corrupt or truncated MIDI file ({reason})") from error
    if midi.type == 2 or midi.ticks_per_beat <= 0:
        raise ReadError(path, "type-2 and SMPTE-timed MIDI files are not supported; save as type 1")
    return midi


@dataclass
class _Contents:
    """What one pass over a MIDI file finds; times in quarter notes."""

    tempos: list[tuple[Fraction, int]] = field(default_factory=list)
    meters: list[tuple[Fraction, int, int, int]] = field(default_factory=list)
    keys: list[tuple[Fraction, str]] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)
    programs: dict[PartKey, int] = field(default_factory=dict)
    notes: dict[PartKey, list[tuple[Fraction, Fraction, int]]] = field(default_factory=dict)
    end: Fraction = Fraction(0)
    graces: int = 0
    """Notes ended, then begun, at one time: music21 writes a grace note so."""

    def take(self, index: int, message: Any, now: Fraction) -> None:
        if message.type == "set_tempo":
            self.tempos.append((now, message.tempo))
        elif message.type == "time_signature":
            signature = (message.numerator, message.denominator, message.clocks_per_click)
            self.meters.append((now, *signature))
        elif message.type == "key_signature":
            self.keys.append((now, message.key))
        elif message.type == "track_name":
            self.names.setdefault(index, clean_text(message.name))
        elif message.type == "program_change":
            self.programs.setdefault((index, message.channel), message.program)


def _contents(midi: Any) -> _Contents:
    found = _Contents()
    per_quarter = Fraction(midi.ticks_per_beat)
    for index, track in enumerate(midi.tracks):
        ticks = 0
        for message in track:
            ticks += message.time
            found.take(index, message, ticks / per_quarter)
        spans, length, dropped = track_notes(track, graces=False)
        for span in spans:
            notes = found.notes.setdefault((index, span.channel), [])
            notes.append((span.start / per_quarter, span.end / per_quarter, span.key))
        found.graces += dropped
        found.end = max(found.end, length / per_quarter)
    return found


def _bars(
    found: _Contents, path: Path, estimated: list[str], remarks: list[str]
) -> tuple[list[Fraction], str, Fraction]:
    """Bar starts (and the end), the meter that holds the most music, and its beat."""
    meters = sorted(found.meters)
    if not meters:
        meters = [(Fraction(0), 4, 4, 24)]
        estimated.append("meter 4/4 (the file has no time signature)")
    for when, numerator, denominator, _ in meters:
        try:
            Header(f"{numerator}/{denominator}")
        except ScoreError as error:
            raise ReadError(
                path,
                f"its time signature {numerator}/{denominator} at quarter note {when} is not a "
                f"meter ({error}); correct it in a MIDI editor",
            ) from error
    starts, counts = _bar_starts(found, meters, Fraction(0), path)
    pickup = Fraction(0)
    if found.meters and found.end not in starts and (pickup := _pickup(found, meters)):
        starts, counts = _bar_starts(found, meters, pickup, path)
        remarks.append(
            f"the first bar is a pickup of {pickup} quarter notes, read from where the notes "
            "fall: the file's time signature puts a bar line only at its start"
        )
    if found.end not in starts:  # the file ends off the bar lines: bars end with its music
        _end_with_the_music(found, starts, pickup)
    # the meter of the most music; of two with as much, the longer bar (the other, a pickup's)
    numerator, denominator, clocks = max(counts, key=lambda m: (counts[m], Fraction(*m[:2])))
    meter = f"{numerator}/{denominator}"
    beat = Header(meter).beat
    click = Fraction(clocks, 24)
    if clocks not in {24, 24 * beat} and click in DURATIONS.values():  # 24: beat ignored
        beat = click
    return starts, meter, beat


def _bar_starts(
    found: _Contents, meters: list[tuple[Fraction, int, int, int]], pickup: Fraction, path: Path
) -> tuple[list[Fraction], dict[tuple[int, int, int], Fraction]]:
    """Each bar's start to the file's end, a time signature starting a bar; how much music
    each meter holds. A pickup, if given, is the first bar.
    """  # noqa: D205
    starts: list[Fraction] = [Fraction(0)]
    counts: dict[tuple[int, int, int], Fraction] = {}  # meter -> quarter notes in it
    while starts[-1] < found.end or len(starts) == 1:
        if len(starts) > MAX_SCORE_BARS:  # one bar more than the most read: stop counting
            check_extent(path, bars=len(starts), quarters=float(found.end))
        now = starts[-1]
        _, numerator, denominator, clocks = ([m for m in meters if m[0] <= now] or meters)[-1]
        step = pickup if now == 0 and pickup else Fraction(4 * numerator, denominator)
        changes = [m[0] for m in meters if now < m[0] < now + step]  # a bar cut short
        starts.append(changes[0] if changes else now + step)
        meter_of_bar = (numerator, denominator, clocks)
        counts[meter_of_bar] = counts.get(meter_of_bar, Fraction(0)) + starts[-1] - now
    return starts, counts


PICKUP_ACCENT = Fraction(7, 5)
"""How many times better bar lines after a pickup must accent the notes than bar lines from
the start, where the end of the music does not say so too (see :func:`_pickup`)."""


def _accent(notes: list[tuple[Fraction, Fraction, int]], meter: Meter, phase: Fraction) -> Fraction:
    """How well bar lines at ``phase`` (plus whole bars) accent the notes: each note's length,
    twice where it starts on a bar line, once on another beat of the meter.
    """  # noqa: D205
    bar, beats = meter.bar_length, set(meter.beat_starts())
    total = Fraction(0)
    for onset, end, _ in notes:
        place = (onset - phase) % bar
        total += (end - onset) * (2 if place == 0 else int(place in beats))
    return total


def _pickup(found: _Contents, meters: list[tuple[Fraction, int, int, int]]) -> Fraction:
    """The length of a pickup the file does not mark, or 0: music21 and many DAWs write one as
    notes from time 0 under the meter's time signature, so its bar lines fall a pickup early.

    Asked only of a file that does not end on a bar line of its own (tunesmith's files do),
    whose first note is at 0 under a time signature. The first bar line goes on a note in
    the first half bar: where the next time signature (a bar line), or else the last
    note's end, falls as far after a bar line counted from the start (the music ends at a
    full bar only if the first bar is short) and the notes are accented no worse; else where
    they are accented :data:`PICKUP_ACCENT` times better. Of music21's MIDI files of the
    1,609 tunes of O'Neill's 1850 with regular bars, this read 323 of 1,259 pickups (12 of
    the wrong length) and gave none to the 350 tunes without one.
    """  # noqa: D205
    every = [n for part in found.notes.values() for n in part]
    if meters[0][0] != 0 or min(every)[0] != 0:
        return Fraction(0)
    notes = [
        n for (_, channel), part in found.notes.items() if channel != DRUM_CHANNEL for n in part
    ]
    meter = meter_of(f"{meters[0][1]}/{meters[0][2]}")
    bar = meter.bar_length
    places = sorted({onset for onset, _, _ in notes if 0 < onset <= bar / 2})
    plain = _accent(notes, meter, Fraction(0))
    ending = (meters[1][0] if len(meters) > 1 else max(end for _, end, _ in every)) % bar
    if ending in places and _accent(notes, meter, ending) >= plain:
        return ending
    best = max(places, key=lambda place: _accent(notes, meter, place), default=Fraction(0))
    return best if best and _accent(notes, meter, best) > PICKUP_ACCENT * plain else Fraction(0)


def _end_with_the_music(found: _Contents, starts: list[Fraction], pickup: Fraction) -> None:
    """Drop the bars after the last note (music21 adds a beat of silence to a file's end);
    after a pickup, end the last bar with its music where the two make one bar.
    """  # noqa: D205
    every = [n for part in found.notes.values() for n in part]
    last_onset = max(onset for onset, _, _ in every)
    last_end = max(end for _, end, _ in every)
    while len(starts) > 2 and starts[-2] >= last_end and starts[-2] > last_onset:
        starts.pop()
    short = starts[-1] - pickup
    if pickup and short >= last_end and short > last_onset:
        starts[-1] = short


def _key(
    found: _Contents, timed: dict[PartKey, list[Timed]], estimated: list[str], melody: PartKey
) -> Key | None:
    pitched = sorted(
        (n.end, n.onset, n.sound.midi) for p, f in timed.items() if p[1] != DRUM_CHANNEL for n in f
    )
    tune = sorted((n.end, n.onset, n.sound.midi) for n in timed.get(melody, []))
    last = tune or pitched  # the highest of the melody's last notes
    final = last[-1][2] if last else None
    if not found.keys:
        ordered = [note for note in pitched if note != last[-1]] + last[-1:]  # ends on the tune's
        key = analysed_key([(k, end - onset) for end, onset, k in ordered])
        if key is not None:
            estimated.append(f"key {key} (music21's key analysis; the file has no key signature)")
        return key
    name = sorted(found.keys)[0][1]
    written = Key(PitchClass.parse(name.rstrip("m")), "minor" if name.endswith("m") else "major")
    if written.mode == "minor":  # said so: a MIDI key signature is major or minor
        return written
    key = key_ending_on(written, final)  # other modes are written as the major signature
    if key != written:
        estimated.append(f"key {key} (the signature of {written}, ending on {key.tonic})")
    return key


def _timed(
    found: _Contents, starts: list[Fraction]
) -> tuple[dict[PartKey, list[Timed]], int, Fraction]:
    """Each part's notes, quantised where a performance needs it; what moved and how far."""
    timed, moved, largest = {}, 0, Fraction(0)
    for part, notes in sorted(found.notes.items()):
        drums = part[1] == DRUM_CHANNEL
        sound = Drum.from_midi if drums else Pitch.from_midi
        timed[part] = [Timed(onset, end, sound(key)) for onset, end, key in notes]
        times = [t for n in timed[part] for t in ((n.onset,) if drums else (n.onset, n.end))]
        if not exact(times, starts):  # a performance, not a file a program wrote
            timed[part], count, shift = quantise(timed[part], choose_grid(times))
            moved, largest = moved + count, max(largest, shift)
    return timed, moved, largest


def _spelled(notes: list[Timed], key: Key | None) -> list[Timed]:
    """Pitches spelled in the key (MIDI has only key numbers): F# in D major, Gb in Db."""
    if key is None:
        return notes
    spelled = {midi: key.spell(midi) for midi in range(128)}  # spell() asks music21 each time
    return [
        Timed(n.onset, n.end, spelled[n.sound.midi]) if isinstance(n.sound, Pitch) else n
        for n in notes
    ]


def read_midi(data: bytes, path: Path) -> Score:
    """The MIDI file's bytes as a score; ``path`` names it in errors and ``score.source``."""
    midi = open_midi_file(data, path)
    found = _contents(midi)
    if not found.notes:
        raise ReadError(path, "the file has no notes")
    check_extent(path, notes=sum(len(notes) for notes in found.notes.values()))
    for part in found.programs:  # a part that rests throughout is still a part
        found.notes.setdefault(part, [])
    estimated: list[str] = []
    remarks = ["the tempo changes; kept the first"] if len({t for _, t in found.tempos}) > 1 else []
    if found.graces:
        remarks.append(
            f"dropped {found.graces} notes that end as they begin (music21 writes grace notes so)"
        )
    starts, meter, beat = _bars(found, path, estimated, remarks)
    timed, moved, largest = _timed(found, starts)
    unspelled = [
        to_bars(notes, starts, drums=part[1] == DRUM_CHANNEL) for part, notes in timed.items()
    ]
    assigned = roles([(b, p[1] == DRUM_CHANNEL) for b, p in zip(unspelled, timed, strict=True)])
    melody = next((p for p, role in zip(timed, assigned, strict=True) if role == "melody"), (0, 0))
    key = _key(found, timed, estimated, melody)
    bars = [
        to_bars(_spelled(notes, key), starts, drums=part[1] == DRUM_CHANNEL)
        for part, notes in timed.items()
    ]
    channels = Counter(track for track, _ in timed)
    parts = []
    for (track, channel), part_bars, role in zip(timed, bars, assigned, strict=True):
        name = found.names.get(track, "")
        if channels[track] > 1:
            name = f"{name} (channel {channel + 1})".strip()
        same_channel = (p for (_, c), p in found.programs.items() if c == channel)
        program = found.programs.get((track, channel), next(same_channel, 0))
        parts.append(Part(part_bars, name=name, role=role, program=program))
    conductor = midi.type == 0 or not any(track == 0 for track, _ in timed)
    title = found.names.get(0, "") if conductor else ""
    if found.tempos and found.tempos[0][1] == 0:
        raise ReadError(
            path, "its tempo is 0 microseconds a quarter note; correct it in a MIDI editor"
        )
    qpm = 60e6 / found.tempos[0][1] if found.tempos else 120.0
    if not found.tempos:
        estimated.append("tempo 120 quarter notes a minute (the file has none)")
    try:
        header = Header(meter, key, round(qpm / float(beat), 2), beat, title)
    except ScoreError as error:
        raise ReadError(
            path, f"its header cannot be read: {error}; correct it in a MIDI editor"
        ) from error
    source = Source(str(path), "midi", tuple(estimated), moved, largest, tuple(remarks))
    return Score(header, tuple(parts), source=source)
