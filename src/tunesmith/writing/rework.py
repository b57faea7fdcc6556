"""The user's bars and the bars to write, in one plan: locked, new and varied bars.

A :class:`Rework` says which bars of the user's part the model writes: new bars after
the user's (a continuation), bars rewritten in place (an infill), or variations of the
user's bars that keep their rhythm or contour. Every other bar is **locked**: the user's.
:func:`writing_for` makes the :class:`~tunesmith.writing.script.Writing` of the whole part: a
plan over every bar (its phrases and cadences), rhythm cells taken from the user's bars,
and a spelling that writes the user's pitches exactly. :class:`ReworkScript` drives the
decoding loop through it: locked bars are decoded as they are (the user's notes, in the
model's spelling), a new bar is sampled under its own grammar, starting within a leap of
the note before it and ending within a leap of the next locked note, and a varied bar
under a grammar of its original's rhythm (and the direction of each of its moves).
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Literal

from tunesmith.decoding.segments import Forced, Free, Segment
from tunesmith.errors import ConstraintError, NotationError
from tunesmith.model.score import DURATIONS, Bar, Event, Pitch
from tunesmith.music.plan import GENERIC_PHRASES, Plan, PlannedBar, plan_for
from tunesmith.music.rhythm import Cell, Rhythm
from tunesmith.requests.request import ComposeRequest
from tunesmith.writing.grammar import BarSpec, bars_gbnf
from tunesmith.writing.plan_script import PlanScript
from tunesmith.writing.script import Writing
from tunesmith.writing.spelling import AbcSpelling, Spelling

__all__ = ["Keep", "Rework", "ReworkScript", "first_pitch", "melodic_text", "writing_for"]

Keep = Literal["rhythm", "contour"]
Shape = Literal["rhythm", "contour", "inner"] | None
"""What a bar's grammar keeps of the original: "inner" is a contour without its first move."""
FOLK = {"part_bars": 8, "phrases": GENERIC_PHRASES, "shared_ending": 2}
"""The plan where no style in the meter gives one: 8-bar parts, each a phrase and its answer,
and later parts ending as the first one does (the last two bars), as the dance presets do."""
_LENGTHS = frozenset(DURATIONS.values())


@dataclass(frozen=True)
class Rework:
    """Which bars of a part the model writes; the others are the user's, locked."""

    bars: tuple[Bar, ...]
    """The user's bars of the part, as written."""
    written: frozenset[int]
    """Indices of the bars the model writes (at or past ``len(bars)``: new bars after)."""
    total: int
    """Bars in the result."""
    kind: Literal["continue", "infill", "vary"] = "continue"
    keep: Keep | None = None
    """What a varied bar keeps of its original (None: nothing, a free variation)."""

    @property
    def first(self) -> int:
        """The first bar the model writes."""
        return min(self.written)

    @property
    def last(self) -> int:
        """The last bar the model writes."""
        return max(self.written)

    @property
    def locked(self) -> tuple[int, ...]:
        """Indices of the user's bars kept as they are."""
        return tuple(i for i in range(len(self.bars)) if i not in self.written)


def first_pitch(bar: Bar) -> Pitch | None:
    """The bar's first sounding pitch (a chord's top note)."""
    return next((e.pitches[-1] for e in bar.events if e.pitches), None)


def _last_pitch(bar: Bar) -> Pitch | None:
    return next((e.pitches[-1] for e in reversed(bar.events) if e.pitches), None)


def melodic_text(spelling: Spelling, bar: Bar) -> str:
    """A user's bar in the model's spelling, as the model reads it: a chord's top note."""
    events = tuple(Event(e.pitches[-1:], e.duration, e.tie) for e in bar.events)
    try:
        return spelling.write(Bar(events))
    except NotationError:  # a length the spelling cannot write: the bar's time as a rest
        return spelling.rest_text(bar.duration)


def _cells(bars: Sequence[Bar], rhythm: Rhythm) -> tuple[set[Cell], set[Fraction]]:
    """The user's rhythm cells (patterns filling one cell) and long notes (from a beat)."""
    cells: set[Cell] = set()
    longs: set[Fraction] = set()
    length, bar_length = rhythm.cell_length, rhythm.meter.bar_length
    beats = set(rhythm.meter.beat_starts())
    for bar in bars:
        if bar.duration != bar_length:
            continue
        timed, now = [], Fraction(0)
        for event in bar.events:
            timed.append((now, event))
            now += event.duration
        for start, event in timed:
            long = event.duration > length and event.duration % length == 0
            if long and start in beats and event.pitches:
                longs.add(event.duration)
        for number in range(int(bar_length / length)):
            low, high = number * length, (number + 1) * length
            inside = [(s, e) for s, e in timed if low <= s < high]
            if not inside or inside[0][0] != low or inside[-1][0] + inside[-1][1].duration != high:
                continue
            cell = Cell(tuple(e.duration for _, e in inside), tuple(e.is_rest for _, e in inside))
            plain = all(d.denominator in {1, 2, 4, 8} for d in cell.durations)
            if set(cell.durations) <= _LENGTHS and (plain or cell.is_triplet):
                cells.add(cell)
    return cells, longs


def _user_rhythm(rhythm: Rhythm, bars: Sequence[Bar]) -> Rhythm:
    """The rhythm with the user's own cells and long notes, where their bars have some.

    Where they have fewer than two cells, the rhythm's cells join them, but none with a
    note shorter than the user's shortest (a tune of half notes gets no sixteenths).
    """
    cells, longs = _cells(bars, rhythm)
    if len(cells) < 2:
        lengths = [e.duration for bar in bars for e in bar.events]
        shortest = min(lengths, default=Fraction(0))
        cells |= {cell for cell in rhythm.cells if min(cell.durations) >= shortest}
        cells = cells or {Cell((rhythm.cell_length,), (False,))}
        longs |= set(rhythm.long)
    order = {cell: index for index, cell in enumerate(rhythm.cells)}
    chosen = sorted(cells, key=lambda c: (order.get(c, len(order)), c.durations, c.rests))
    return replace(rhythm, cells=tuple(chosen), long=tuple(sorted(longs)))


def _plan(rework: Rework, style: dict[str, Any], meter: str, request: ComposeRequest) -> Plan:
    """The plan of the whole part: a style's parts and phrases, the user's bars locked.

    In a continuation a new bar may echo an earlier bar as the phrase plan asks (a user's
    bar only if it keeps the request); in an infill or a variation every bar is written
    anew, with the cadence its place in the form asks for. A pickup is bar 0 of the plan.
    """
    pickup = int(len(rework.bars) > 1 and _short(rework.bars[0], request))
    length = rework.total - pickup
    if style.get("meter") != meter:
        style = {**FOLK, "meter": meter}
    part_bars = int(style.get("part_bars", length))
    count = length // part_bars
    if length % part_bars or count > len(string.ascii_uppercase):
        count = 1
    plan = plan_for(length, form=string.ascii_uppercase[:count], style=style)
    shifted = [
        replace(bar, source=None if bar.source is None else bar.source + pickup)
        for bar in plan.bars
    ]
    plan = replace(
        plan, bars=(PlannedBar(0, 0, None, None),) * pickup + tuple(shifted), pickup=bool(pickup)
    )
    bars: list[PlannedBar] = []
    for index, planned in enumerate(plan.bars):
        source = planned.source
        if index not in rework.written:
            bars.append(replace(planned, source=None, cadence=None))
            continue
        cadence = planned.cadence if source is None else plan.bars[source].cadence
        if (
            source is not None
            and rework.kind == "continue"
            and (source in rework.written or _keeps(rework.bars[source], request, cadence))
        ):
            bars.append(planned)
        else:
            bars.append(replace(planned, source=None, cadence=cadence))
    return replace(plan, bars=tuple(bars))


def _short(bar: Bar, request: ComposeRequest) -> bool:
    """Whether a bar is shorter than the meter's (a pickup, or the bar a pickup completes)."""
    return bar.duration < request.constraints.bar_length


def _keeps(bar: Bar, request: ComposeRequest, cadence: str | None) -> bool:
    """Whether a user's bar may be echoed by a new one: it keeps every constraint."""
    constraints = request.constraints
    allowed = {p.midi for p in constraints.pitches}
    if bar.duration != constraints.bar_length or any(e.tie or e.is_chord for e in bar.events):
        return False
    if any(p.midi not in allowed for e in bar.events for p in e.pitches):
        return False
    last = _last_pitch(bar)
    return cadence != "full" or (last is not None and last in constraints.tonic_pitches)


def writing_for(request: ComposeRequest, rework: Rework, spelling: str) -> Writing:
    """The writing of the whole part: plan, the user's rhythm cells, a spelling of their pitches."""
    base = Writing.of(request, spelling)
    locked = [rework.bars[i] for i in rework.locked]
    chosen: Spelling = base.spelling
    if isinstance(chosen, AbcSpelling):
        heard = {p for bar in rework.bars for e in bar.events for p in e.pitches[-1:]}
        constraints = request.constraints
        pitches = sorted({*constraints.pitches, *heard}, key=lambda p: (p.midi, p.step))
        chosen = AbcSpelling.for_pitches(chosen.meter, constraints.key_sharps, pitches)
    return replace(
        base,
        plan=_plan(rework, base.style, request.meter, request),
        rhythm=_user_rhythm(base.rhythm, locked),
        spelling=chosen,
        slots=(),  # the user's rhythm, not a drawn real tune's
        harmony=None if base.harmony is None or base.harmony.implied else base.harmony,
    )


class ReworkScript(PlanScript):
    """A :class:`~tunesmith.writing.plan_script.PlanScript` whose locked bars are the user's.

    The loop starts at the first bar to write (the user's bars before it are in the prompt)
    and stops after the last: nothing after it is decoded.
    """

    def __init__(
        self,
        writing: Writing,
        rework: Rework,
        *,
        forbidden: frozenset[tuple[Any, ...]] = frozenset(),
    ) -> None:
        super().__init__(writing, forbidden=forbidden)
        self.rework = rework
        self.start = self.index = rework.first
        self.bars = list(rework.bars[: rework.first])
        self.texts = [melodic_text(writing.spelling, bar) for bar in self.bars]
        self.notes: list[str] = []
        """Where a bar's grammar had to give something up, in words."""

    def _record(self, text: str) -> None:
        index = self.index - 1
        source = self.writing.plan.bars[index].source
        if index in self.rework.written and source is None:
            super()._record(text)
            return
        bar = self.rework.bars[index] if source is None else self.bars[source]
        self.bars.append(bar)
        self.texts.append(melodic_text(self.writing.spelling, bar))

    def next_segment(self, text: str) -> Segment | None:
        """The next bar: the user's as it is, an echo, or a new bar under its grammar."""
        if self.index > self.start:
            self._record(text)
        if self.index > self.rework.last:
            return None
        index = self.index
        self.index += 1
        self.mark = len(text)
        prefix, separator = self.writing.layout(index)
        source = self.writing.plan.bars[index].source
        if index not in self.rework.written:
            text = melodic_text(self.writing.spelling, self.rework.bars[index])
            return Forced(prefix + text + separator)
        if source is not None:
            return Forced(prefix + self.texts[source] + separator)
        return Free(self._grammar(index))

    def _following(self, index: int) -> Pitch | None:
        """The note after the bar when it is known: a locked bar's, or an echo's."""
        after = index + 1
        if after >= self.rework.total:
            return None
        if after not in self.rework.written:
            return first_pitch(self.rework.bars[after])
        source = self.writing.plan.bars[after].source
        return first_pitch(self.bars[source]) if source is not None and source < index else None

    def _grammar(self, index: int) -> str:
        """The bar's grammar; where none fits, the closest that does, noted in words.

        Given up in this order: the floor of a later part's register, what a variation
        keeps (its contour's first move, then its contour), the join to the next bar,
        and last the join to the note before.
        """
        following, start = self._following(index), self._last_pitch()
        keeps: list[Shape] = [None]
        if self.rework.keep == "contour":
            keeps = ["contour", "inner", "rhythm"]
        elif self.rework.keep == "rhythm" or self._short(index):
            keeps = ["rhythm"]  # a short bar is rewritten in its own rhythm
        floors = dict.fromkeys((self._floor(index), None))
        leap = self.writing.request.constraints.max_leap
        for starting in dict.fromkeys((start, None)):
            for near in dict.fromkeys((following, None)):
                for keep in keeps:
                    for floor in floors:
                        spec = self._spec(index, keep, near, floor)
                        try:
                            grammar = bars_gbnf(
                                [spec], self.writing.spelling, start=starting, max_leap=leap
                            )
                        except ConstraintError:
                            continue
                        self._note(index, keeps[0], keep, starting != start, near != following)
                        return grammar
        raise ConstraintError(f"no bar fits at bar {index + 1} (a tunesmith bug)")

    def _short(self, index: int) -> bool:
        return index < len(self.rework.bars) and _short(
            self.rework.bars[index], self.writing.request
        )

    def _note(self, index: int, wanted: Shape, kept: Shape, unjoined: bool, open_end: bool) -> None:
        number = index + 1
        if kept == "rhythm" and self.rework.keep is None:
            self.notes.append(f"bar {number}: a short bar, rewritten in its own rhythm")
        elif kept != wanted:
            lost = "its first move" if kept == "inner" else "its contour"
            self.notes.append(f"bar {number}: no variation within reach keeps {lost}")
        if unjoined:
            self.notes.append(
                f"bar {number}: no bar that fits starts within a leap of the note before"
            )
        if open_end:
            self.notes.append(f"bar {number}: no bar that fits ends within a leap of the next")

    def _spec(self, index: int, keep: Shape, following: Pitch | None, floor: int | None) -> BarSpec:
        spec = self.writing.spec(index, following=following, floor=floor)
        if keep is None:
            return spec
        original = self.rework.bars[index]
        events = original.events
        cell = Cell(tuple(e.duration for e in events), tuple(e.is_rest for e in events))
        meter = replace(self.writing.rhythm.meter, bar_length=original.duration)
        rhythm = Rhythm(meter, original.duration, (cell,), (), (cell,))
        before = self.rework.bars[index - 1] if index and keep == "contour" else None
        contour = _contour(before, original) if keep in {"contour", "inner"} else ()
        return replace(spec, rhythm=rhythm, contour=contour)


def _contour(before: Bar | None, bar: Bar) -> tuple[tuple[Fraction, int], ...]:
    """(offset, direction) of each note of ``bar`` from the note before it."""
    previous = _last_pitch(before) if before is not None else None
    shape, offset = [], Fraction(0)
    for event in bar.events:
        if event.pitches:
            pitch = event.pitches[-1].midi
            if previous is not None:
                shape.append((offset, (pitch > previous.midi) - (pitch < previous.midi)))
            previous = event.pitches[-1]
        offset += event.duration
    return tuple(shape)
