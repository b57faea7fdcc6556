"""Chords for a melody, and a melody's score finished with its chords and band.

:func:`harmonise_score` puts chords and a band under any melody (what
:func:`tunesmith.harmonise` does to a file or a score): the chords of its key that best fit
the notes (a best-fit path through the bars, the strong-beat notes weighing most, none
against a held note, a change earned by the melody, the last cadence V-I where the melody
allows), then
:func:`~tunesmith.band.arrange.accompany` plays them in the style's patterns.

For :func:`~tunesmith.compose`, :func:`heard_harmony` says which chords a composed melody
stands on (the ones given, the model's chord marks, or the best fit when a server wrote
no marks) and :func:`finish` gives its score the harmony lane and the band.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import replace
from fractions import Fraction
from typing import TYPE_CHECKING, Literal, NamedTuple

from tunesmith.band.arrange import accompany
from tunesmith.errors import RequestError
from tunesmith.model.header import Key
from tunesmith.model.meter import Meter, meter_of
from tunesmith.model.score import ChordSymbol, PitchClass, Score, Tune
from tunesmith.music.chords import Chord, key_chords
from tunesmith.music.harmony import BarHarmony, chord_at, lane_of, read_marks, strong_beats
from tunesmith.music.progression import request_key

if TYPE_CHECKING:
    from tunesmith.requests.request import ComposeRequest
    from tunesmith.writing.script import Writing

__all__ = ["Rhythm", "best_fit", "clashes", "finish", "harmonise_score", "heard_harmony"]

Rhythm = Literal["bar", "strong", "beat"]
_CADENCE_BONUS = 3.0
"""What the tonic earns on each segment from the tune's arrival home to its end."""
_AUTHENTIC_BONUS = 1.0
"""What the dominant (a major triad, the leading tone in it) earns resolving to that arrival."""
_PRIMARY, _PRIMARY_BONUS = {0, 5, 7}, 0.15
_MISS = 0.6
"""A note outside the chord costs this share of what a chord tone of its length earns."""
_CHANGE = 0.5
"""What a chord change costs: what the best root motion earns, so the melody must move it
(without it, i-iv-i outscored a held i; measured on the Nottingham Music Database, see
``bench/harmonise_nottingham.py``)."""
_CLASH = 10.0
"""A held note that clashes with the chord costs this: more than any chord can earn."""
_EXTENSIONS = {"major": frozenset({2, 9, 10, 11}), "minor": frozenset({2, 5, 10})}
"""Notes a triad takes without a clash, in semitones above its root: the added ninth, the
sixth (major), the eleventh (minor) and the sevenths. Any other note not in the chord lies a
semitone or a tritone from one of its tones (A over C minor: a tritone from its E flat)."""


class _Segment(NamedTuple):
    bar: int
    offset: Fraction
    length: Fraction
    weights: dict[int, float]
    """The weight of each pitch class sounding in the segment."""
    held: frozenset[int]
    """The pitch classes of the notes held in it (long for the tune, and half of it or more)."""


def _segments(meter: Meter, rhythm: Rhythm) -> tuple[Fraction, ...]:
    if rhythm == "bar":
        return (Fraction(0),)
    return meter.beat_starts() if rhythm == "beat" else strong_beats(meter)


def _typical_length(tune: Tune) -> Fraction:
    """The median length of the tune's notes (its running notes: a sixteenth in a slow air)."""
    lengths = sorted(event.duration for event in tune.events if event.pitches)
    return lengths[len(lengths) // 2] if lengths else Fraction(1)


def _fit(tune: Tune, meter: Meter, rhythm: Rhythm) -> list[_Segment]:
    """Each segment of each bar: the weight of each pitch class and the notes held in it.

    A note earns its length in the segment, twice over where it sounds at the segment's
    start. It is held when it lasts twice the tune's typical note or more and sounds
    through half the segment or more (an eighth of a slow air in sixteenths, a quarter
    of a reel in eighths, not a quarter of a waltz's bar).
    """
    starts = _segments(meter, rhythm)
    long = 2 * _typical_length(tune)
    segments = []
    for index, bar in enumerate(tune.bars):
        cuts = [s for s in starts if s < bar.duration] or [Fraction(0)]
        for position, begin in enumerate(cuts):
            end = cuts[position + 1] if position + 1 < len(cuts) else bar.duration
            weights: dict[int, float] = {}
            held: set[int] = set()
            onset = Fraction(0)
            for event in bar.events:
                overlap = min(end, onset + event.duration) - max(begin, onset)
                if event.pitches and overlap > 0:
                    semitone = event.pitches[-1].midi % 12
                    head = 2.0 if onset <= begin < onset + event.duration else 1.0
                    weights[semitone] = weights.get(semitone, 0.0) + float(overlap) * head
                    if _sounds_for(tune, index, onset, event.duration) >= long and (
                        2 * overlap >= end - begin
                    ):
                        held.add(semitone)
                onset += event.duration
            segments.append(_Segment(index, begin, end - begin, weights, frozenset(held)))
    return segments


def _sounds_for(tune: Tune, bar: int, onset: Fraction, duration: Fraction) -> Fraction:
    """How long the note at ``onset`` of ``bar`` sounds, with the notes tied to it."""
    events = tune.bars[bar].events
    position, now = 0, Fraction(0)
    while now < onset:
        now += events[position].duration
        position += 1
    total = Fraction(0)
    for event in itertools.chain(
        events[position:], (e for later in tune.bars[bar + 1 :] for e in later.events)
    ):
        total += event.duration
        if not event.tie:
            break
    return max(total, duration)


def clashes(semitone: int, chord: Chord) -> bool:
    """Whether a note of ``semitone`` (0-11) clashes with ``chord``: not a chord tone, nor a
    ninth, sixth, eleventh or seventh the chord takes (see :data:`_EXTENSIONS`).
    """  # noqa: D205
    if semitone in chord.semitones:
        return False
    return (semitone - chord.root.semitone) % 12 not in _EXTENSIONS.get(chord.quality, frozenset())


def _motion(before: Chord, after: Chord) -> float:
    """What a chord change earns: a fifth down most (V-I, ii-V), then a fourth, a step,
    less what a change costs (:data:`_CHANGE`).
    """  # noqa: D205
    step = (after.root.semitone - before.root.semitone) % 12
    change = _CHANGE if before != after else 0.0
    return {0: 0.0, 5: 0.5, 7: 0.2, 2: 0.1, 10: 0.1}.get(step, -0.1) - change


def _arrival(tune: Tune, segments: Sequence[_Segment], tonic: Chord) -> int:
    """The segment where the tune comes home: where its last run of tonic notes starts
    (the G of a G minor tune's closing ``A G``), not before its last bar.
    """  # noqa: D205
    final_bar = segments[-1].bar
    home = Fraction(0)
    onset = Fraction(0)
    for event in tune.bars[final_bar].events:
        onset += event.duration
        if event.pitches and event.pitches[-1].midi % 12 != tonic.root.semitone:
            home = onset  # the run starts after this note
    return max(
        i for i, segment in enumerate(segments) if segment.bar < final_bar or segment.offset <= home
    )


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
    loses part of it for the others; a chord that clashes with a held note (A held over
    C minor) is chosen only where every chord does. I, IV and V earn a little more;
    changes earn by root motion; opening on ``tonic`` and ending on it, from where the
    melody comes home to the end, earn a cadence, and the dominant (a major triad a fifth
    above ``tonic``) resolving there earns more. The best path is found by dynamic
    programming.
    """
    segments = _fit(tune, meter, rhythm)
    if not segments:
        return []
    arrival = _arrival(tune, segments, tonic) if tonic is not None else len(segments) - 1
    dominant = next(
        (
            chord
            for chord in chords
            if tonic is not None
            and chord.quality == "major"
            and (chord.root.semitone - tonic.root.semitone) % 12 == 7
        ),
        None,
    )

    def earns(index: int, chord: Chord) -> float:
        segment = segments[index]
        weights = segment.weights
        fits = sum(w for s, w in weights.items() if s in chord.semitones)
        score = fits - _MISS * (sum(weights.values()) - fits)
        score -= _CLASH * sum(clashes(semitone, chord) for semitone in segment.held)
        if tonic is not None and (chord.root.semitone - tonic.root.semitone) % 12 in _PRIMARY:
            score += _PRIMARY_BONUS  # I, IV and V, where the notes fit others as well
        if index >= arrival and chord == tonic:
            score += _CADENCE_BONUS
        if index == 0 and chord == tonic:
            score += 1.0
        return score

    def moves(index: int, before: Chord, after: Chord) -> float:
        score = _motion(before, after)
        if index == arrival and before == dominant and after == tonic:
            score += _AUTHENTIC_BONUS
        return score

    paths = [(earns(0, chord), [chord]) for chord in chords]
    for index in range(1, len(segments)):
        paths = [
            max(
                (
                    (score + moves(index, path[-1], chord) + earns(index, chord), [*path, chord])
                    for score, path in paths
                ),
                key=lambda item: item[0],
            )
            for chord in chords
        ]
    _, best = max(paths, key=lambda item: item[0])
    bars: list[list[tuple[Fraction, Chord]]] = [[] for _ in tune.bars]
    for segment, chord in zip(segments, best, strict=True):
        if not bars[segment.bar] or bars[segment.bar][-1][1] != chord:
            bars[segment.bar].append((segment.offset, chord))
    return [tuple(harmony) for harmony in bars]


def _key_of(score: Score) -> Key:
    """The score's key, or music21's estimate from its melody (of two relative keys, the
    one whose tonic the melody ends on).
    """  # noqa: D205
    if score.header.key is not None:
        return score.header.key
    from music21 import note, stream  # noqa: PLC0415 - music21 is slow to import

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


def harmonise_score(
    score: Score,
    *,
    style: str = "folk",
    parts: Sequence[str] = ("chords", "bass", "drums"),
    instruments: Mapping[str, str | int] | None = None,
    rhythm: Rhythm = "strong",
    keep_chords: bool = True,
) -> Score:
    """The score with a harmony lane and ``parts``; see :func:`tunesmith.harmonise`."""
    if rhythm not in {"bar", "strong", "beat"}:
        raise RequestError(f"rhythm must be 'bar', 'strong' or 'beat' (received {rhythm!r})")
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
    if harmony is None or harmony.implied:
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
    if not heard:  # no chords: only drums can play (a chords or bass part implies chords)
        drums = tuple(name for name in request.part_names[1:] if name == "drums")
        if not drums:
            return score
        return accompany(score, drums, style=request.style, instruments=request.part_instruments)
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
