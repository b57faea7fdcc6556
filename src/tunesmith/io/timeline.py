"""Notes on a timeline to bars of events: what every reader of performed or layered music needs.

A MIDI track (or a measure with several voices) is notes with onsets and ends, not events
in a row. :func:`choose_grid` and :func:`quantise` move the times onto the notation's grid
(32nd notes, or the triplet grid of 1/12 quarter notes), counting what moved;
:func:`to_bars` cuts the notes at every onset, end and bar line into events: a chord of
what sounds, tied to the next where a note goes on, a rest where nothing sounds. Drums
are struck: each hit lasts until the next one or the bar line.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from statistics import fmean

from tunesmith.errors import NotationError, TunesmithError
from tunesmith.model.header import MODES, Key
from tunesmith.model.score import Bar, Drum, Event, Pitch, PitchClass, Role, split_duration

__all__ = [
    "GRIDS",
    "Timed",
    "analysed_key",
    "choose_grid",
    "exact",
    "key_ending_on",
    "quantise",
    "roles",
    "to_bars",
]

GRIDS = (Fraction(1, 8), Fraction(1, 12))
"""A 32nd note, and a 32nd-note triplet (which also holds 16th notes and eighth triplets)."""


@dataclass(frozen=True, slots=True)
class Timed:
    """A note (or drum hit) from ``onset`` to ``end``, in quarter notes."""

    onset: Fraction
    end: Fraction
    sound: Pitch | Drum


def _error(times: Iterable[Fraction], grid: Fraction) -> Fraction:
    return sum((abs(t - round(t / grid) * grid) for t in times), Fraction(0))


def choose_grid(times: Sequence[Fraction]) -> Fraction:
    """The grid that moves ``times`` least: 1/8 unless the triplet grid fits better."""
    return min(GRIDS, key=lambda grid: (_error(times, grid), grid != GRIDS[0]))


def exact(times: Sequence[Fraction], bar_starts: Sequence[Fraction]) -> bool:
    """Whether notes at ``times`` can be written as they are: every gap between two of them
    (and the bar lines) is a sum of notation durations, as in any file tunesmith wrote.
    """  # noqa: D205
    points = sorted(set(times) | set(bar_starts))
    try:
        for a, b in itertools.pairwise(points):
            split_duration(b - a)
    except NotationError:
        return False
    return True


def quantise(notes: Sequence[Timed], grid: Fraction) -> tuple[list[Timed], int, Fraction]:
    """The notes with onsets and ends on ``grid``; how many times moved and the largest move.

    A note shorter than half the grid keeps one grid step.
    """
    moved, largest, placed = 0, Fraction(0), []
    for note in notes:
        onset, end = round(note.onset / grid) * grid, round(note.end / grid) * grid
        end = max(end, onset + grid)
        for before, after in ((note.onset, onset), (note.end, end)):
            if before != after:
                moved += 1
                largest = max(largest, abs(after - before))
        placed.append(Timed(Fraction(onset), Fraction(end), note.sound))
    return placed, moved, largest


def _rests(length: Fraction) -> list[Event]:
    return [Event.rest(piece) for piece in split_duration(length)] if length else []


def _pitched_bar(notes: Sequence[Timed], start: Fraction, end: Fraction) -> list[Event]:
    cuts = sorted({start, end} | {t for n in notes for t in (n.onset, n.end) if start < t < end})
    events: list[Event] = []
    rest = Fraction(0)
    for a, b in itertools.pairwise(cuts):
        sounding = [n for n in notes if n.onset <= a < n.end]
        if not sounding:
            rest += b - a
            continue
        events += _rests(rest)
        rest = Fraction(0)
        by_key: dict[int, Pitch] = {}
        for note in sorted(sounding, key=lambda n: (n.sound.midi, n.onset)):
            by_key.setdefault(note.sound.midi, note.sound)  # type: ignore[arg-type]
        tie = any(n.end > b for n in sounding)
        pieces = split_duration(b - a)
        for number, piece in enumerate(pieces, 1):
            events.append(Event(tuple(by_key.values()), piece, tie or number < len(pieces)))
    return events + _rests(rest)


def _drum_bar(notes: Sequence[Timed], start: Fraction, end: Fraction) -> list[Event]:
    onsets = sorted({n.onset for n in notes if start <= n.onset < end})
    events = _rests((onsets[0] if onsets else end) - start)
    for onset, stop in zip(onsets, [*onsets[1:], end], strict=False):
        keys = sorted({n.sound.midi for n in notes if n.onset == onset})
        drums = tuple(Drum.from_midi(key) for key in keys)
        pieces = split_duration(stop - onset)
        events.append(Event((), pieces[0], drums=drums))
        events += [Event.rest(piece) for piece in pieces[1:]]
    return events


def to_bars(
    notes: Sequence[Timed], bar_starts: Sequence[Fraction], *, drums: bool
) -> tuple[Bar, ...]:
    """The notes cut into bars: ``bar_starts`` holds each bar's start and, last, the end.

    Every time must be on a grid of :data:`GRIDS`; see :func:`quantise`.
    """
    count = len(bar_starts) - 1
    inside: list[list[Timed]] = [[] for _ in range(count)]
    for note in notes:  # each note to the bars it sounds in: one pass, not one per bar
        first = bisect.bisect_right(bar_starts, note.onset)
        last = max(bisect.bisect_left(bar_starts, note.end), first)
        for index in range(max(first - 1, 0), min(last, count)):
            inside[index].append(note)
    bar_of = _drum_bar if drums else _pitched_bar
    return tuple(
        Bar(tuple(bar_of(bar, start, end)))
        for bar, (start, end) in zip(inside, itertools.pairwise(bar_starts), strict=True)
    )


def roles(parts: Sequence[tuple[Sequence[Bar], bool]]) -> list[Role]:
    """Roles for parts read from a file (their bars, and whether they are drums).

    Drums are drums; of the others the highest-sounding is the melody, the lowest (of two
    or more) the bass, a part sounding chords at least half the time the chords, the rest
    counter-melodies.
    """
    heights: dict[int, float] = {}
    chordal: set[int] = set()
    for index, (bars, is_drum) in enumerate(parts):
        events = [e for bar in bars for e in bar.events if e.pitches]
        if is_drum or not events:
            continue
        heights[index] = fmean(p.midi for e in events for p in e.pitches)
        if sum(e.is_chord for e in events) * 2 >= len(events):
            chordal.add(index)
    ranked = sorted(heights, key=lambda i: (-heights[i], i))
    result: list[Role] = ["drums" if is_drum else "counter" for _, is_drum in parts]
    for index in chordal:
        result[index] = "chords"
    if len(ranked) >= 2:
        result[ranked[-1]] = "bass"
    if ranked:
        melodic = [i for i in ranked if i not in chordal] or ranked
        result[melodic[0]] = "melody"
    return result


# -- estimates -------------------------------------------------------------------------------


def key_ending_on(key: Key, final: int | None) -> Key:
    """The mode of ``key``'s signature whose tonic is the final note, if it is a scale note."""
    if final is None or key.tonic.semitone == final % 12:
        return key
    for pitch_class in key.scale:
        if pitch_class.semitone == final % 12:
            for mode in MODES:
                try:
                    candidate = Key(pitch_class, mode)
                except TunesmithError:
                    continue
                if candidate.sharps == key.sharps:
                    return candidate
    return key


def analysed_key(pitches: list[tuple[int, Fraction]]) -> Key | None:
    """music21's key analysis (Krumhansl-Schmuckler) of (MIDI key, length) pairs.

    Given in the mode of its signature that ends on the last pitch, as a written signature
    is read (see :func:`key_ending_on`).
    """
    from music21 import note, stream  # noqa: PLC0415 - music21 is slow to import

    if not pitches:
        return None
    line = stream.Stream(
        [note.Note(midi=key, quarterLength=float(length)) for key, length in pitches]
    )
    found = line.analyze("key")
    try:
        key = Key(PitchClass.parse(found.tonic.name), found.mode)
    except TunesmithError:  # more than seven sharps or flats
        return None
    return key_ending_on(key, pitches[-1][0])  # as a written signature would be read
