"""Deterministic repairs that make any tune satisfy a request, each change logged.

In order: octave-shift notes that leave the range, snap pitches outside the set to the
nearest allowed pitch (ties broken towards the previous note), drop ties that lead nowhere,
trim overfull bars and pad underfull ones, add or drop bars to reach the bar count, move a
strong beat's note to the nearest tone of its chord (with a harmony lane), and end on the
tonic. Repairing a tune that already satisfies the request changes nothing.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from fractions import Fraction
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict

from tunesmith.checks.validate import played_melody
from tunesmith.errors import NotationError
from tunesmith.model.meter import meter_of
from tunesmith.model.notation import format_event
from tunesmith.model.score import Bar, ChordSymbol, Event, Pitch, Score, Tune, split_duration
from tunesmith.music.chords import Chord
from tunesmith.music.harmony import chord_at, strong_beats
from tunesmith.requests.request import ComposeRequest
from tunesmith.requests.theory import Constraints

__all__ = ["Repair", "Repaired", "repair"]


class Repair(BaseModel):
    """One change made to a tune: where (1-based bar), what it was and what it became."""

    model_config = ConfigDict(frozen=True)

    kind: str
    bar: int | None
    before: str
    after: str

    def __str__(self) -> str:
        place = f"bar {self.bar}" if self.bar is not None else "tune"
        return f"{place}: {self.kind}: {self.before} -> {self.after}"


class _Repairer:
    def __init__(self, constraints: Constraints) -> None:
        self.constraints = constraints
        self.allowed = list(constraints.pitches)
        self.allowed_midi = [pitch.midi for pitch in self.allowed]
        self.log: list[Repair] = []

    def note(self, kind: str, bar: int | None, before: str, after: str) -> None:
        self.log.append(Repair(kind=kind, bar=bar, before=before, after=after))

    def nearest(self, midi: int, previous: int | None, candidates: list[Pitch]) -> Pitch:
        """The candidate closest to ``midi``; among equals, the one closest to ``previous``."""
        return min(
            candidates,
            key=lambda p: (
                abs(p.midi - midi),
                abs(p.midi - (previous if previous is not None else midi)),
                p.midi,
            ),
        )

    def fix_pitch(self, pitch: Pitch, previous: int | None) -> Pitch:
        """The pitch as it is when allowed (in any spelling), else the nearest allowed one."""
        constraints = self.constraints
        low, high = constraints.low.midi, constraints.high.midi
        midi = pitch.midi
        if midi % 12 in constraints.semitones and low <= midi <= high:
            return pitch  # valid as written: Gb4 for an F# stays Gb4, as validation agrees
        while midi < low:
            midi += 12
        while midi > high:
            midi -= 12
        if midi % 12 in constraints.semitones and low <= midi <= high:
            spelling = next(pc for pc in constraints.pitch_classes if pc.semitone == midi % 12)
            return Pitch.from_midi(midi, spelling)
        position = bisect.bisect_left(self.allowed_midi, pitch.midi)
        window = self.allowed[max(0, position - 2) : position + 2]
        return self.nearest(pitch.midi, previous, window)

    def pitches(self, tune: Tune) -> Tune:
        previous: int | None = None
        bars = []
        for index, bar in enumerate(tune.bars, 1):
            events = []
            for event in bar.events:
                fixed = tuple(self.fix_pitch(pitch, previous) for pitch in event.pitches)
                if fixed != event.pitches:
                    changed = Event(fixed, event.duration, event.tie)
                    kind = (
                        "pitch"
                        if any(
                            p.midi % 12 != q.midi % 12
                            for p, q in zip(fixed, event.pitches, strict=True)
                        )
                        else "octave"
                    )
                    self.note(kind, index, format_event(event), format_event(changed))
                    event = changed  # noqa: PLW2901 - the repaired event replaces the original
                if event.pitches:
                    previous = event.pitches[-1].midi
                events.append(event)
            bars.append(Bar(tuple(events)))
        return Tune(tuple(bars))

    def ties(self, tune: Tune) -> Tune:
        events = list(tune.events)
        bars, cursor = [], 0
        for index, bar in enumerate(tune.bars, 1):
            fixed = []
            for event in bar.events:
                cursor += 1
                following = events[cursor] if cursor < len(events) else None
                if event.tie and (following is None or following.pitches != event.pitches):
                    untied = Event(event.pitches, event.duration)
                    self.note("tie", index, format_event(event), format_event(untied))
                    event = untied  # noqa: PLW2901 - the repaired event replaces the original
                fixed.append(event)
            bars.append(Bar(tuple(fixed)))
        return Tune(tuple(bars))

    def bar_lengths(self, tune: Tune, wanted: int) -> Tune:
        target = self.constraints.bar_length
        bars = []
        pickup = tune.has_pickup(target, wanted)  # else an underfull bar
        for index, bar in enumerate(tune.bars, 1):
            if bar.duration == target or (pickup and index == 1):
                bars.append(bar)
                continue
            fixed = self.fit(bar, target)
            self.note(
                "trim" if bar.duration > target else "pad",
                index,
                f"{bar.duration} quarter notes",
                f"{fixed.duration} quarter notes",
            )
            bars.append(fixed)
        return Tune(tuple(bars))

    def fit(self, bar: Bar, target: Fraction) -> Bar:
        """The bar cut or extended to exactly ``target`` quarter notes."""
        events: list[Event] = []
        total = Fraction(0)
        for event in bar.events:
            if total + event.duration == target:
                return Bar((*events, event))
            if total + event.duration > target:
                pieces = _split_or_none(target - total)
                if pieces is not None:
                    events.extend(_held(event.pitches, pieces, tie_last=False))
                    return Bar(tuple(events))
                break
            events.append(event)
            total += event.duration
        gap = target - sum((e.duration for e in events), Fraction(0))
        pieces = _split_or_none(gap)
        if pieces is None:  # odd tuplets left a gap no duration fills: hold the bar's first note
            pitches = next((e.pitches for e in bar.events if e.pitches), ())
            return Bar(tuple(_held(pitches, split_duration(target), tie_last=False)))
        if events and events[-1].pitches and _split_or_none(events[-1].duration + gap) is not None:
            last = events.pop()
            lengths = split_duration(last.duration + gap, triplets=False)
            events.extend(_held(last.pitches, lengths, tie_last=False))
        else:
            events.extend(Event.rest(piece) for piece in pieces)
        return Bar(tuple(events))

    def bar_count(self, tune: Tune, wanted: int) -> Tune:
        bars = list(tune.bars)
        pickup = tune.has_pickup(self.constraints.bar_length, wanted)
        wanted += pickup  # a pickup is not counted
        if len(bars) > wanted:
            self.note("drop bars", wanted + 1, f"{len(bars)} bars", f"{wanted} bars")
            bars = bars[:wanted]
        elif len(bars) < wanted:
            self.note(
                "add bars",
                len(bars) + 1,
                f"{len(bars)} bars",
                f"{wanted} bars (repeating from bar 1)",
            )
            source = list(bars)
            while len(bars) < wanted:
                bars.append(source[len(bars) % len(source)])
            bars[-1] = _untie_last(bars[-1])
        return Tune(tuple(bars))

    def ending(self, tune: Tune) -> Tune:
        constraints = self.constraints
        bars = list(tune.bars)
        for bar_index in range(len(bars) - 1, -1, -1):
            events = list(bars[bar_index].events)
            for event_index in range(len(events) - 1, -1, -1):
                event = events[event_index]
                if event.is_rest:
                    continue
                top = event.pitches[-1]
                if top.midi % 12 == constraints.tonic.semitone:
                    return tune
                tonic = self.nearest(top.midi, None, list(constraints.tonic_pitches))
                changed = Event((*event.pitches[:-1], tonic), event.duration, event.tie)
                events[event_index] = changed
                self.note("final", bar_index + 1, format_event(event), format_event(changed))
                bars[bar_index] = Bar(tuple(events))
                return Tune(tuple(bars))
        return tune

    def chord_tones(self, tune: Tune, harmony: Sequence[ChordSymbol], meter: str) -> Tune:
        """Each note sounding on a strong beat moved to the nearest tone of its chord; a note
        held over chords that share no allowed tone is cut at their strong beats.
        """  # noqa: D205
        beats = strong_beats(meter_of(meter))
        bars, start, previous = [], Fraction(0), None
        for index, bar in enumerate(tune.bars, 1):
            events: list[Event] = []
            offset = Fraction(0)
            for event in bar.events:
                covered = [b for b in beats if offset <= b < offset + event.duration]
                chords = [(b, chord) for b in covered if (chord := chord_at(harmony, start + b))]
                fixed = [event]
                if event.pitches and chords:
                    common = frozenset.intersection(*(chord.semitones for _, chord in chords))
                    if event.pitches[-1].midi % 12 not in common:
                        fixed = self.fit_chords(event, offset, chords, common, previous)
                        after = " ".join(map(format_event, fixed))
                        self.note("chord tone", index, format_event(event), after)
                events += fixed
                if event.pitches:
                    previous = fixed[-1].pitches[-1].midi
                offset += event.duration
            bars.append(Bar(tuple(events)))
            start += bar.duration
        return Tune(tuple(bars))

    def fit_chords(
        self,
        event: Event,
        offset: Fraction,
        chords: list[tuple[Fraction, Chord]],
        common: frozenset[int],
        previous: int | None,
    ) -> list[Event]:
        """The event on the nearest allowed tone of every chord under it, or cut at each."""
        top = event.pitches[-1]
        fitting = [p for p in self.allowed if p.midi % 12 in common]
        if fitting:
            pitch = self.nearest(top.midi, previous, fitting)
            return [Event((*event.pitches[:-1], pitch), event.duration, event.tie)]
        cuts = [offset, *(b for b, _ in chords if b > offset), offset + event.duration]
        pieces: list[Event] = []
        for begin, end in itertools.pairwise(cuts):
            under = next((chord for b, chord in reversed(chords) if b <= begin), None)
            choices = [p for p in self.allowed if under is None or p.midi % 12 in under.semitones]
            pitch = self.nearest(top.midi, previous, choices) if under else top
            lengths = split_duration(end - begin)
            pieces += _held((pitch,), lengths, tie_last=False)
        return pieces

    def fill_empty(self, tune: Tune, wanted: int) -> Tune:
        tonic = self.constraints.tonic_pitches[0]
        bar = Bar(
            tuple(_held((tonic,), split_duration(self.constraints.bar_length), tie_last=False))
        )
        self.note("fill", None, "no notes", f"{wanted} bars holding the tonic {tonic}")
        return Tune((bar,) * wanted)


def _split_or_none(length: Fraction) -> Sequence[Fraction] | None:
    """Plain and dotted lengths that fill ``length``: repair invents no triplet."""
    try:
        return split_duration(length, triplets=False)
    except NotationError:
        return None


def _held(
    pitches: tuple[Pitch, ...], lengths: Sequence[Fraction], *, tie_last: bool
) -> list[Event]:
    """``pitches`` sounding for each of ``lengths`` in turn, tied together (rests untied)."""
    return [
        Event(pitches, length, bool(pitches) and (tie_last or i < len(lengths) - 1))
        for i, length in enumerate(lengths)
    ]


def _untie_last(bar: Bar) -> Bar:
    last = bar.events[-1]
    if not last.tie:
        return bar
    return Bar((*bar.events[:-1], Event(last.pitches, last.duration)))


class Repaired(NamedTuple):
    """What :func:`repair` returns: the tune and each change made; ``tune, repairs = ...``."""

    tune: Tune
    repairs: list[Repair]


def repair(
    music: Score | Tune, request: ComposeRequest, *, harmony: Sequence[ChordSymbol] | None = None
) -> Repaired:
    """Return a melody that satisfies every hard constraint of ``request``, and what changed.

    ``music`` is a score (its melody as played is repaired) or a tune; ``harmony`` is the
    lane of chords it stands on, as for :func:`~tunesmith.validate`.
    """
    tune, harmony = played_melody(music, harmony)
    repairer = _Repairer(request.constraints)
    if tune.notes:
        tune = repairer.pitches(tune)
        tune = repairer.bar_lengths(tune, request.bars)
        tune = repairer.bar_count(tune, request.bars)
        if harmony:
            tune = repairer.chord_tones(tune, harmony, request.meter)
    if not tune.notes:  # nothing sounds, before or after trimming
        return Repaired(repairer.fill_empty(tune, request.bars), repairer.log)
    tune = repairer.ending(tune)
    tune = repairer.ties(tune)
    return Repaired(tune, repairer.log)
