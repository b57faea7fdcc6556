"""Chords for a melody, and a melody's score finished with its chords and band.

:func:`harmonise` puts chords and a band under any melody (a score, or a file
:func:`~tunesmith.read_score` reads): the chords of its key that best fit the notes (a
best-fit path through the bars, the strong-beat notes weighing most, cadences rewarded),
then :func:`~tunesmith.arrange.accompany` plays them in the style's patterns.

For :func:`~tunesmith.compose`, :func:`heard_harmony` says which chords a composed melody
stands on (the ones given, the model's chord marks, or the best fit when a server wrote
no marks) and :func:`finish` gives its score the harmony lane and the band.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from fractions import Fraction
from typing import TYPE_CHECKING, Literal

from tunesmith.arrange import accompany
from tunesmith.chords import Chord, key_chords
from tunesmith.errors import RequestError
from tunesmith.harmony import BarHarmony, chord_at, lane_of, read_marks, strong_beats
from tunesmith.header import Key
from tunesmith.progression import request_key
from tunesmith.rhythm import Meter, meter_of
from tunesmith.score import ChordSymbol, PitchClass, Score, Tune

if TYPE_CHECKING:
    from tunesmith.request import ComposeRequest
    from tunesmith.writing import Writing

__all__ = ["best_fit", "finish", "harmonise", "heard_harmony"]

Rhythm = Literal["bar", "strong", "beat"]
_CADENCE_BONUS = 3.0
_PRIMARY, _PRIMARY_BONUS = {0, 5, 7}, 0.15
_MISS = 0.6
"""A note outside the chord costs this share of what a chord tone of its length earns."""


def _segments(meter: Meter, rhythm: Rhythm) -> tuple[Fraction, ...]:
    if rhythm == "bar":
        return (Fraction(0),)
    return meter.beat_starts() if rhythm == "beat" else strong_beats(meter)


def _fit(
    tune: Tune, meter: Meter, rhythm: Rhythm
) -> list[tuple[int, Fraction, Fraction, dict[int, float]]]:
    """(bar, offset, length, weight of each pitch class) for each segment of each bar.

    A note earns its length in the segment, twice over where it sounds at the segment's start.
    """
    starts = _segments(meter, rhythm)
    segments = []
    for index, bar in enumerate(tune.bars):
        cuts = [s for s in starts if s < bar.duration] or [Fraction(0)]
        for position, begin in enumerate(cuts):
            end = cuts[position + 1] if position + 1 < len(cuts) else bar.duration
            weights: dict[int, float] = {}
            onset = Fraction(0)
            for event in bar.events:
                overlap = min(end, onset + event.duration) - max(begin, onset)
                if event.pitches and overlap > 0:
                    semitone = event.pitches[-1].midi % 12
                    head = 2.0 if onset <= begin < onset + event.duration else 1.0
                    weights[semitone] = weights.get(semitone, 0.0) + float(overlap) * head
                onset += event.duration
            segments.append((index, begin, end - begin, weights))
    return segments


def _motion(before: Chord, after: Chord) -> float:
    """What a chord change earns: a fifth down most (V-I, ii-V), then a fourth, a step."""
    step = (after.root.semitone - before.root.semitone) % 12
    return {0: 0.0, 5: 0.5, 7: 0.2, 2: 0.1, 10: 0.1}.get(step, -0.1)


def best_fit(
    tune: Tune,
    meter: Meter,
    chords: Sequence[Chord],
    *,
    tonic: Chord | None = None,
    rhythm: Rhythm = "strong",
) -> list[BarHarmony]:
    """The chords of ``chords`` that best fit ``tune``: one a segment of ``rhythm``.

    Each chord earns the length of the notes it holds (a segment's first note twice) and
    loses part of it for the others; I, IV and V earn a little more; changes earn by root
    motion; opening and ending on ``tonic`` earn a cadence. The best path through the tune
    is found by dynamic programming.
    """
    segments = _fit(tune, meter, rhythm)
    if not segments:
        return []

    def earns(index: int, chord: Chord) -> float:
        weights = segments[index][3]
        held = sum(w for s, w in weights.items() if s in chord.semitones)
        score = held - _MISS * (sum(weights.values()) - held)
        if tonic is not None and (chord.root.semitone - tonic.root.semitone) % 12 in _PRIMARY:
            score += _PRIMARY_BONUS  # I, IV and V, where the notes fit others as well
        if index == len(segments) - 1 and chord == tonic:
            score += _CADENCE_BONUS
        if index == 0 and chord == tonic:
            score += 1.0
        return score

    paths = [(earns(0, chord), [chord]) for chord in chords]
    for index in range(1, len(segments)):
        paths = [
            max(
                (
                    (score + _motion(path[-1], chord) + earns(index, chord), [*path, chord])
                    for score, path in paths
                ),
                key=lambda item: item[0],
            )
            for chord in chords
        ]
    _, best = max(paths, key=lambda item: item[0])
    bars: list[list[tuple[Fraction, Chord]]] = [[] for _ in tune.bars]
    for (bar, offset, _, _), chord in zip(segments, best, strict=True):
        if not bars[bar] or bars[bar][-1][1] != chord:
            bars[bar].append((offset, chord))
    return [tuple(harmony) for harmony in bars]


def _key_of(score: Score) -> Key:
    """The score's key, or music21's estimate from its melody (of two relative keys, the
    one whose tonic the melody ends on).
    """  # noqa: D205
    if score.header.key is not None:
        return score.header.key
    from music21 import note, stream  # noqa: PLC0415

    line = stream.Stream()
    for event in score.melody.tune.events:
        for pitch in event.pitches:
            line.append(note.Note(pitch.midi, quarterLength=float(event.duration)))
    if not line.notes:
        return Key(PitchClass("C"))
    guess = line.analyze("key")
    if line.notes[-1].pitch.pitchClass == guess.relative.tonic.pitchClass:
        guess = guess.relative  # relative keys share their notes: the one the tune ends on
    mode = guess.mode if guess.mode in {"major", "minor"} else "major"
    return Key(PitchClass.parse(guess.tonic.name.replace("-", "b")), mode)


def harmonise(
    score_or_path: Score | str | os.PathLike[str],
    *,
    style: str = "folk",
    parts: Sequence[str] = ("chords", "bass", "drums"),
    instruments: Mapping[str, str | int] | None = None,
    rhythm: Rhythm = "strong",
    keep_chords: bool = True,
) -> Score:
    """Chords and a band under a melody: the score with a harmony lane and ``parts``.

    ``score_or_path`` is a :class:`~tunesmith.score.Score` or a file (MIDI, MusicXML, ABC,
    notation). The chords are the key's triads (and the major dominant in a minor key)
    that best fit its melody, one a strong beat (``rhythm="beat"``: a beat, ``"bar"``: a
    bar); a score that has chord symbols keeps them unless ``keep_chords=False``. Parts of
    the roles in ``parts`` that the score had are played anew.
    ``style`` picks the band's patterns and instruments; ``instruments`` changes them
    (``{"chords": "accordion"}``).

    Raises :class:`~tunesmith.errors.ReadError` for a file that cannot be read and
    :class:`~tunesmith.errors.RequestError` for an unknown part or instrument.
    """
    if rhythm not in {"bar", "strong", "beat"}:
        raise RequestError(f"rhythm must be 'bar', 'strong' or 'beat' (received {rhythm!r})")
    if isinstance(score_or_path, Score):
        score = score_or_path
    else:
        from tunesmith.io.read import read_score  # noqa: PLC0415

        score = read_score(score_or_path)
    key = _key_of(score)
    if not (keep_chords and score.harmony):
        chords = harmony_chords(key)
        meter = meter_of(score.header.meter)
        bars = best_fit(score.melody.tune, meter, chords, tonic=chords[0], rhythm=rhythm)
        score = replace(score, harmony=lane_of(bars, score.bar_lengths))
    if not parts:
        return score
    kept = tuple(part for part in score.parts if part.role not in parts or part is score.melody)
    score = replace(score, parts=kept)  # the band's parts are played anew
    return accompany(score, parts, style=style, instruments=instruments, key=key)


def harmony_chords(key: Key) -> tuple[Chord, ...]:
    """The tonic, then the key's other major and minor triads; a minor key's dominant is
    major, as in common-practice harmony (measured on Bach's chorales: see benchmarks).
    """  # noqa: D205
    vocabulary, tonic, dominant = key_chords(key.scale, key)
    chords = [tonic, *vocabulary, dominant]
    if key.mode == "minor":
        major = Chord.parse(str(key.scale[4]))
        chords = [chord for chord in chords if chord.root != major.root] + [major]
    return tuple(dict.fromkeys(chords))


def heard_harmony(writing: Writing, text: str, tune: Tune) -> tuple[ChordSymbol, ...]:
    """The lane of chords a composed tune (as heard) stands on: the chords given, the chord
    marks the model wrote, or (a server that wrote none) the key's chords that fit it best.
    """  # noqa: D205
    harmony = writing.harmony
    request = writing.request
    if harmony is None:
        return ()
    bars = harmony.bars
    if bars is None:
        marks = read_marks(text)
        if len(marks) == len(writing.plan.bars) and all(marks):
            bars = tuple(((Fraction(0), mark),) for mark in marks if mark is not None)
    length = request.constraints.bar_length
    if bars is not None:
        heard = [bars[index] for index in writing.plan.played()]
    else:
        tonic = harmony.tonic or harmony.vocabulary[0]
        meter = meter_of(request.meter)
        fitted = best_fit(tune, meter, harmony.vocabulary, tonic=tonic, rhythm="bar")
        ending: BarHarmony = ((Fraction(0), tonic),)
        heard = [*fitted[: request.bars - 1], *[ending] * max(request.bars - len(fitted), 1)]
    return lane_of(heard, [length] * len(heard))


def finish(score: Score, request: ComposeRequest, heard: Sequence[ChordSymbol]) -> Score:
    """A composed score with its chords (``heard``, as played) as written, and its band."""
    if not heard:
        return score
    played = score.played_bars()
    lengths = score.bar_lengths
    first: dict[int, Fraction] = {}
    now = Fraction(0)
    for index in played:
        first.setdefault(index, now)
        now += lengths[index]
    bars = []
    for index, length in enumerate(lengths):
        begin = first[index]
        harmony = [(Fraction(0), chord_at(heard, begin))]
        harmony += [
            (c.onset - begin, chord_at(heard, c.onset))
            for c in heard
            if begin < c.onset < begin + length
        ]
        bars.append(tuple((offset, chord) for offset, chord in harmony if chord is not None))
    score = replace(score, harmony=lane_of(bars, lengths))
    parts = request.part_names[1:]
    if not parts:
        return score
    return accompany(
        score,
        parts,
        style=request.style,
        instruments=request.part_instruments,
        key=request_key(request),
    )
