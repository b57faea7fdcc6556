"""How a planned tune is written by a model: bar by bar in tunesmith's loop, or whole.

:class:`Writing` ties a request's constraints, its :class:`~tunesmith.music.plan.Plan`, its
rhythm and a :class:`~tunesmith.writing.spelling.Spelling` together: the layout of each written
bar (repeat marks, line breaks), the grammar of one bar or of the whole tune, and reading
the model's text back; :class:`~tunesmith.writing.plan_script.PlanScript` drives the
decoding loop through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from tunesmith.errors import ConstraintError, GrammarError
from tunesmith.model.score import Pitch, Tune
from tunesmith.music.plan import Plan, request_plan
from tunesmith.music.progression import WrittenHarmony, implied_harmony, written_harmony
from tunesmith.music.rhythm import (
    CORPUS,
    Cell,
    Rhythm,
    corpus_rhythm,
    drawn_bars,
    drawn_cadence,
    drawn_index,
    meter_of,
    style_rhythm,
)
from tunesmith.requests.presets import style_preset
from tunesmith.requests.request import ComposeRequest
from tunesmith.writing.grammar import BarSpec, ChordChoice, bars_gbnf
from tunesmith.writing.rules import Rules, bar_key
from tunesmith.writing.spelling import AbcSpelling, NotationSpelling, Spelling

__all__ = ["Writing", "grammar_for"]

OCTAVE = 12
"""Semitones in an octave."""

BARS_PER_LINE = 4
DIGITS = frozenset("0123456789")
OPENING_BELOW, OPENING_ABOVE = 5, 9
"""Semitones below and above the home tonic the first bar keeps to (:meth:`Writing.opening`)."""
PICKUP_LEAP = 5
"""Semitones a pickup's notes move by at most (a fourth): they lead into the first bar."""
SCALE_NOTES = 8
"""An octave of a scale: the fewest pitches a first part's opening keeps (``first_part_top``)."""


@dataclass(frozen=True)
class Writing:
    """A request as a model writes it (see the module docstring)."""

    request: ComposeRequest
    plan: Plan
    rhythm: Rhythm
    spelling: Spelling
    rules: Rules
    style: dict[str, Any]
    harmony: WrittenHarmony | None = None
    """The chords of each written bar, or the chords the model chooses from (``chords=``)."""
    slots: tuple[tuple[Cell | None, ...] | None, ...] = ()
    """Each written bar's rhythm where drawn from real tunes: its slots from the bar line
    (a None slot: any cell). None, or no slots at all: the rhythm's cells, or its cadence."""

    @classmethod
    def of(cls, request: ComposeRequest, spelling: str = "abc") -> Writing:
        """The writing of ``request`` in the ``"abc"`` or ``"notation"`` spelling."""
        constraints = request.constraints
        style = style_preset(request.style) or {}
        meter = meter_of(request.meter)
        same_meter = style.get("meter") == request.meter
        rhythm = style_rhythm(meter, style if same_meter else None)
        plan = request_plan(request)
        chosen: Spelling
        if spelling == "abc":
            chosen = AbcSpelling.for_pitches(meter, constraints.key_sharps, constraints.pitches)
        else:
            chosen = NotationSpelling()
        measured = corpus_rhythm(str(style.get("name"))) if same_meter else None
        rules = Rules.from_data(style.get("rules"), measured["rules"] if measured else None)
        pickup = _drawn_pickup(request, style, measured, plan)
        if pickup is not None:
            plan = plan.with_pickup()
        harmony = written_harmony(request, plan)
        if harmony is None and measured and style.get("harmony") == CORPUS:
            cell = rhythm.cell_length if style.get("chord_tones") == "cells" else None
            harmony = implied_harmony(request, plan, measured["harmony"], request.seed, cell)
        if harmony is not None and harmony.bars is not None:
            chords = harmony.bars  # a bar is copied only where it has its source's chords
            plan = plan.copying_only(lambda index, source: chords[index] == chords[source])
        slots = (
            _drawn_slots(plan, rhythm, style, measured, request.seed, pickup=pickup)
            if measured
            else ()
        )
        if pickup is not None:
            slots = ((pickup,), *slots[1:])
        return cls(request, plan, rhythm, chosen, rules, style, harmony, slots)

    @property
    def pitches(self) -> tuple[Pitch, ...]:
        """The allowed pitches, low to high."""
        return self.request.constraints.pitches

    def layout(self, index: int) -> tuple[str, str]:
        """The text before and after written bar ``index``: repeat marks, bar lines."""
        bar = self.plan.bars[index]
        opens = bar.number == 0 or (bar.number == 1 and not (bar.part == 0 and self.plan.pickup))
        prefix = self.spelling.part_start() if opens else ""
        separator = self.spelling.separator(
            line_end=bar.number > 0 and bar.number % BARS_PER_LINE == 0,
            part_end=bar.number == self.plan.part_bars,
        )
        return prefix, separator

    def spec(
        self,
        index: int,
        *,
        following: Pitch | None = None,
        floor: int | None = None,
        ceiling: int | None = None,
    ) -> BarSpec:
        """What written bar ``index`` may hold.

        ``following`` is a known next note; ``floor`` the lowest MIDI key the bar may use
        (a later part's higher register), ``ceiling`` the highest (see :meth:`ceiling`).
        """
        constraints = self.request.constraints
        bar = self.plan.bars[index]
        owner = index if bar.source is None else bar.source
        cadence = self.plan.bars[owner].cadence
        rhythm = self.rhythm
        drawn = self.slots[owner] if self.slots else None
        if drawn is not None:
            rhythm = replace(rhythm, cadence=drawn)
        pickup = self.plan.pickup and index == 0
        if pickup:  # the pickup: its one cell, a bar of its own length
            rhythm = replace(rhythm, meter=replace(rhythm.meter, bar_length=self.bar_length(0)))
            low, high = self.opening()  # it leads into the first bar, in the opening's range
            floor = low if floor is None else max(floor, low)
            ceiling = high if ceiling is None else min(ceiling, high)
        final: frozenset[int] | None = None
        if cadence == "full":
            final = frozenset(p.midi for p in constraints.tonic_pitches)
        elif cadence == "half":
            final = frozenset(p.midi for p in constraints.half_cadence_pitches)
        if following is not None:
            leap = constraints.max_leap
            near = frozenset(p.midi for p in self.pitches if abs(p.midi - following.midi) <= leap)
            final = near if final is None else (final & near) or final
        prefix, separator = self.layout(index)
        pitches = self.pitches
        if floor is not None and (higher := tuple(p for p in pitches if p.midi >= floor)):
            pitches = higher
            final = final if final is None else (final & {p.midi for p in higher}) or final
        if ceiling is not None and (lower := tuple(p for p in pitches if p.midi <= ceiling)):
            pitches = lower
            final = final if final is None else (final & {p.midi for p in lower}) or final
        chords: tuple[ChordChoice, ...] = ()
        if self.harmony is not None and not pickup:  # a pickup's notes lead to the first chord
            chords, final = self.harmony.choices(index, cadence, final, pitches, rhythm)
        return BarSpec(
            rhythm=rhythm,
            pitches=pitches,
            cadence=cadence is not None or drawn is not None,
            final=final,
            prefix=prefix,
            separator=separator,
            chords=chords,
        )

    def ceiling(self, index: int) -> int | None:
        """The highest MIDI key written bar ``index`` may use (None: the whole range).

        The opening phrase of the first of several parts keeps to the lowest
        ``first_part_top`` share of the allowed pitches (at least eight), so a tune opens in
        the instrument's home register; later parts climb from there.
        """
        share, bar = self.rules.first_part_top, self.plan.bars[index]
        if share is None or bar.part != 0 or bar.number > self.plan.part_bars // 2:
            return None
        if len(self.plan.parts) < 2:
            return None
        kept = max(round(share * len(self.pitches)), min(SCALE_NOTES, len(self.pitches)))
        return self.pitches[kept - 1].midi

    def opening(self) -> tuple[int, int]:
        """The keys a tune's first bar keeps to: from a fourth below its home tonic to a sixth
        above, the home tonic being the tonic nearest a third of the way up the range (a
        fiddle reel in G opens around G4, not G3; a whistle air in E dorian around E5, not
        E6). Real tunes open on the fifth (36%), the tonic (33%) or the third (15%), a
        median 37% of the way up their span (Aird's, fife and Northumbrian books).
        """  # noqa: D205
        pitches = [p.midi for p in self.pitches]
        low, high = pitches[0], pitches[-1]
        middle = low + (high - low) / 3
        tonics = [p.midi for p in self.request.constraints.tonic_pitches] or [round(middle)]
        home = min(tonics, key=lambda key: (abs(key - middle), key))
        return home - OPENING_BELOW, home + OPENING_ABOVE

    def whole_grammar(self) -> str:
        """One grammar for every written bar (for servers, which take one grammar a request).

        The model writes each part once, its echoes included; the last bar ends on the tonic.
        """
        specs = [
            self.spec(index, ceiling=self.ceiling(index)) for index in range(len(self.plan.bars))
        ]
        leap = self.request.constraints.max_leap
        try:
            return bars_gbnf(specs, self.spelling, max_leap=leap)
        except ConstraintError:  # too little room under the ceiling: the whole range
            specs = [self.spec(index) for index in range(len(self.plan.bars))]
            return bars_gbnf(specs, self.spelling, max_leap=leap)

    def read(self, text: str) -> Tune:
        """The written bars in ``text`` (syntax only; :func:`~tunesmith.validate` checks).

        Raises :class:`GrammarError` where the text is not in this writing's spelling.
        """
        bars = self.spelling.read(text)
        if not bars:
            raise GrammarError(
                "no notes: a tune needs at least one bar", line=1, column=1, token=""
            )
        return Tune(tuple(bars))

    def bar_length(self, index: int) -> Fraction:
        """Quarter notes written bar ``index`` lasts: the meter's, or its pickup's."""
        if self.plan.pickup and index == 0 and self.slots and self.slots[0]:
            return sum((cell.length for cell in self.slots[0] if cell), Fraction(0))
        return self.rhythm.meter.bar_length

    def heard_order(self, written: Tune) -> list[int] | None:
        """The indices of ``written``'s bars in the order they are heard (AABB): the plan's,
        or, for an answer that left out the plan's pickup, the same without it; None for an
        answer of another length.
        """  # noqa: D205
        if len(written.bars) == len(self.plan.bars):
            return self.plan.played()
        if self.plan.pickup and len(written.bars) == len(self.plan.bars) - 1:
            return [index - 1 for index in self.plan.played()[1:]]
        return None

    def played(self, written: Tune) -> Tune:
        """The written parts in the order they are heard (AABB); other lengths as they are."""
        order = self.heard_order(written)
        return written if order is None else Tune(tuple(written.bars[i] for i in order))

    def examples_forbidden(self, examples: Sequence[Tune]) -> frozenset[tuple[Any, ...]]:
        """The bars of the prompt's example tunes, which a new bar must not copy."""
        return frozenset(bar_key(bar) for tune in examples for bar in tune.bars)


def grammar_for(request: ComposeRequest, spelling: str = "notation") -> str:
    """The GBNF grammar a server gets for ``request``: the whole tune, each part once."""
    return Writing.of(request, spelling).whole_grammar()


def _drawn_slots(
    plan: Plan,
    rhythm: Rhythm,
    style: dict[str, Any],
    measured: dict[str, Any],
    seed: int | None,
    *,
    pickup: Cell | None,
) -> tuple[tuple[Cell | None, ...] | None, ...]:
    """Each written bar's rhythm drawn from real tunes, where the style asks for it.

    ``cadences = "corpus"``: a cadence bar ends as real tunes end a phrase in its place:
    mid-part cadences take the corpus's bar-4 endings, part ends its bar-8 endings (each
    drawn by ``seed`` and the bar's index), and the bar the tune ends on the last ending of
    the real tune whose bar rhythms are drawn (with its pickup, ``bar_rhythms = "corpus"``),
    else one of the corpus's last bars', those that leave the pickup's time (none without
    one) where some do.
    ``bar_rhythms = "corpus"``: every other bar has the rhythm of the same bar of one real
    tune, drawn by ``seed``.
    """
    last = plan.played()[-1]
    last = last if (source := plan.bars[last].source) is None else source
    skeleton: tuple[tuple[Cell, ...], ...] = ()
    finals = _balancing(measured["cadences"]["final"], pickup)
    if style.get("bar_rhythms") == CORPUS and measured.get("bars"):
        skeleton = drawn_bars(rhythm, measured["bars"], seed)
        tune = drawn_index(len(measured["bars"]), seed)
        final = measured["finals"][tune]
        if final is not None and bool(measured["pickups"][tune]) == bool(pickup):
            finals = [[final, 1]]  # the drawn tune's own: the rest that balances its pickup
    slots: list[tuple[Cell | None, ...] | None] = []
    first = int(plan.pickup)  # the bars after a pickup are drawn as without one
    for index, bar in enumerate(plan.bars):
        if index < first:
            slots.append(None)  # the pickup's rhythm: Writing.of sets it
        elif bar.cadence is not None and style.get("cadences") == CORPUS:
            endings = finals if index == last else measured["cadences"][bar.cadence]
            drawn = None if seed is None else seed * 1009 + index - first
            slots.append(drawn_cadence(rhythm, endings, drawn))
        elif bar.cadence is None and skeleton:
            slots.append(skeleton[(index - first) % len(skeleton)])  # written part by part
        else:
            slots.append(None)
    return tuple(slots)


def _balancing(endings: list[list[Any]], pickup: Cell | None) -> list[list[Any]]:
    """The last bars' endings that leave the pickup's time (none without one), where some do.

    Else those whose last note is longest, so a tune does not stop on a short note made for
    another pickup (``s r:e.`` after a quarter's).
    """
    left = Fraction(0) if pickup is None else pickup.length
    cells = [Cell.parse(pattern) for pattern, _ in endings]
    if balanced := [e for e, cell in zip(endings, cells, strict=True) if cell.closing_rest == left]:
        return balanced
    last = [
        next((d for d, rest in zip(c.durations[::-1], c.rests[::-1], strict=True) if not rest), 0)
        for c in cells
    ]
    return [e for e, length in zip(endings, last, strict=True) if length == max(last, default=0)]


def _drawn_pickup(
    request: ComposeRequest, style: dict[str, Any], measured: dict[str, Any] | None, plan: Plan
) -> Cell | None:
    """The pickup of the real tune whose bar rhythms the writing draws, where the style asks
    for it (``pickups = "corpus"``) and that tune has one; None otherwise.

    Only a tune in the style's own parts has one (not a two-bar sketch), and chords the
    user gave (or a band's) and a form of the user's count bars from the first bar line.
    """  # noqa: D205
    if style.get("pickups") != CORPUS or not measured or not measured.get("pickups"):
        return None
    if request.progression is not None or request.form is not None:
        return None
    if plan.part_bars != style.get("part_bars"):
        return None
    pickups: list[str] = measured["pickups"]
    pattern = pickups[drawn_index(len(pickups), request.seed)]
    return Cell.parse(pattern) if pattern else None
