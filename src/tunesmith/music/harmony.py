"""Harmony over a tune: strong beats, lanes of chords, and the notes that fit them.

**Strong beats** come from the meter (:func:`strong_beats`): the note sounding on each
must be a tone of the chord sounding there. The grammar puts one there
(:class:`~tunesmith.writing.grammar.ChordChoice`, from :mod:`tunesmith.music.progression`),
validation checks it (:func:`misfits`) and repair makes it so. A harmony lane is the score's chord
symbols (:class:`~tunesmith.model.score.ChordSymbol`); :func:`lane_of` lays bars of chords out as
one, :func:`chord_at` reads it, :func:`read_marks` reads the chord marks a model wrote.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction

from tunesmith.errors import ChordError
from tunesmith.model.meter import Meter
from tunesmith.model.score import ChordSymbol, Event, Pitch, Tune
from tunesmith.music.chords import Chord

__all__ = [
    "BarHarmony",
    "Misfit",
    "chord_at",
    "chord_tone_share",
    "held_too_long",
    "lane_of",
    "misfits",
    "read_marks",
    "strong_beats",
    "strong_events",
]

BarHarmony = tuple[tuple[Fraction, Chord], ...]
"""The chords of one bar: (offset from the bar line, chord), in order, the first at 0."""
_BAR_LINE = re.compile(r"\|\]|\|\||:\||\|:|\|")
_MARK = re.compile(r'"([^"\n]*)"')
_BEGUN = re.compile(r'"([^"\n]*)("?)')


def strong_beats(meter: Meter) -> tuple[Fraction, ...]:
    """Where a bar's strong beats fall, in quarter notes from the bar line.

    Four beats (4/4, 12/8): beats 1 and 3; three equal simple beats (3/4, 3/8): beat 1;
    otherwise every beat (2/4, 2/2, 6/8, 9/8, and 5/8 or 7/8 by their grouping).
    """
    starts = meter.beat_starts()
    if len(starts) > 4 and len(starts) % 2 and not meter.compound:  # 5/8, 7/8: by grouping
        return _groups(meter.text)
    if len(starts) == 4:
        return (starts[0], starts[2])
    if len(starts) == 3 and len(set(meter.beats)) == 1 and not meter.compound:
        return starts[:1]
    return starts


@functools.cache
def _groups(meter: str) -> tuple[Fraction, ...]:
    """Where the beat groups of an odd meter start: music21's beaming (7/8: 2+2+3), else
    groups of two beats and a last of three.
    """  # noqa: D205
    from music21 import meter as music21_meter  # noqa: PLC0415 - music21 is slow to import

    signature = music21_meter.TimeSignature(meter)
    lengths = [Fraction(part.duration.quarterLength) for part in signature.beamSequence]
    if len(lengths) < 2:
        beat = Fraction(signature.beatDuration.quarterLength)
        count = signature.beatCount
        lengths = [2 * beat] * ((count - 3) // 2) + [3 * beat]
    starts, now = [], Fraction(0)
    for length in lengths:
        starts.append(now)
        now += length
    return tuple(starts)


def read_marks(text: str) -> list[Chord | None]:
    """The chord mark that opens each bar of ``text`` (``|:"D" dfa afd|``), None where none."""
    chords: list[Chord | None] = []
    for chunk in _BAR_LINE.split(text):
        if not _MARK.sub("", chunk).strip():
            continue
        mark = _MARK.match(chunk.strip())
        try:
            chords.append(Chord.parse(mark.group(1)) if mark else None)
        except ChordError:
            chords.append(None)
    return chords


def held_too_long(before: Sequence[str], segment: str, limit: int, figures: Iterable[str]) -> bool:
    """Whether the chord mark begun in ``segment`` can only be the chord marked in each of
    the ``limit`` bars ``before`` it (their texts): one chord held more than ``limit`` bars.

    ``figures`` are the chords the mark may name: ``"A`` is refused when only ``A`` can
    follow, not while ``Am`` still can.
    """  # noqa: D205
    begun = _BEGUN.search(segment)
    marks = [found[1] for text in before[-limit:] if (found := _MARK.search(text))]
    if begun is None or len(marks) < limit or len(set(marks)) != 1:
        return False
    if begun[2]:  # the mark is whole
        return begun[1] == marks[0]
    return {figure for figure in figures if figure.startswith(begun[1])} == {marks[0]}


def lane_of(bars: Sequence[BarHarmony], lengths: Sequence[Fraction]) -> tuple[ChordSymbol, ...]:
    """A harmony lane over bars of ``lengths``: a chord held across bar lines is one symbol."""
    lane: list[ChordSymbol] = []
    start = Fraction(0)
    for harmony, length in zip(bars, lengths, strict=True):
        for position, (offset, chord) in enumerate(harmony):
            end = harmony[position + 1][0] if position + 1 < len(harmony) else length
            onset = start + offset
            if lane and lane[-1].figure == chord.figure and lane[-1].end == onset:
                lane[-1] = ChordSymbol(
                    lane[-1].onset, lane[-1].duration + end - offset, chord.figure
                )
            else:
                lane.append(ChordSymbol(onset, end - offset, chord.figure))
        start += length
    return tuple(lane)


def chord_at(lane: Sequence[ChordSymbol], time: Fraction) -> Chord | None:
    """The chord of ``lane`` sounding at ``time`` (quarter notes), None where none does."""
    index = bisect.bisect_right([chord.onset for chord in lane], time) - 1
    if index < 0 or lane[index].end <= time:
        return None
    return Chord.parse(lane[index].figure)


@dataclass(frozen=True)
class Misfit:
    """A note sounding on a strong beat that is not a tone of the chord sounding there."""

    bar: int
    """0-based bar index."""
    offset: Fraction
    """The strong beat, in quarter notes from the bar line."""
    event: int
    """Index of the event in its bar."""
    pitch: Pitch
    chord: Chord


def strong_events(tune: Tune, meter: Meter) -> Iterator[tuple[int, Fraction, Fraction, int, Event]]:
    """(bar index, bar start, strong beat, event index, event) for each strong beat of each bar."""
    beats = strong_beats(meter)
    start = Fraction(0)
    for index, bar in enumerate(tune.bars):
        offset = Fraction(0)
        for position, event in enumerate(bar.events):
            for beat in beats:
                if offset <= beat < offset + event.duration:
                    yield index, start, beat, position, event
            offset += event.duration
        start += bar.duration


def misfits(tune: Tune, lane: Sequence[ChordSymbol], meter: Meter) -> list[Misfit]:
    """Every note on a strong beat that is not a tone of the chord of ``lane`` sounding there."""
    found = []
    for index, start, beat, position, event in strong_events(tune, meter):
        chord = chord_at(lane, start + beat)
        if chord is None or not event.pitches:
            continue
        pitch = event.pitches[-1]
        if pitch.midi % 12 not in chord.semitones:
            found.append(Misfit(index, beat, position, pitch, chord))
    return found


def chord_tone_share(tune: Tune, lane: Sequence[ChordSymbol], meter: Meter) -> float | None:
    """The share of strong beats whose note is a tone of its chord (None: no such beat)."""
    judged = [
        event
        for _, start, beat, _, event in strong_events(tune, meter)
        if event.pitches and chord_at(lane, start + beat) is not None
    ]
    if not judged:
        return None
    return 1 - len(misfits(tune, lane, meter)) / len(judged)
