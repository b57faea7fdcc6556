"""The rhythm of a request: the meter's beat (from music21), rhythm cells and cadence bars.

A bar is built from **cells**: a cell is one pattern of notes filling exactly one cell
length (a jig's dotted-quarter beat is ``e e e``, ``q e``, ``e q`` or ``q.``), or a
**long** note spanning whole cells from a beat (a jig's ``h.``). A **cadence bar** ends a
phrase: its last slots are fixed patterns (a jig's ``* q.``: any cell, then a dotted
quarter), so every phrase ends on a note that starts on a beat and lasts at least a beat.

Styles give their cells, long notes and cadence as data (``styles/*.toml``); other
meters get cells derived from music21's beat and its division. A dance style that says
``cells = "corpus"`` takes the cells real tunes of its dance use, its bars can take the
rhythm of a real tune's bars (``bar_rhythms = "corpus"``), and its phrase endings
(``cadences = "corpus"``) are drawn per phrase from the endings real tunes have
(``data/rhythms.json``, measured by ``bench/make_rhythms.py``).
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from typing import Any

from tunesmith.errors import ConstraintError
from tunesmith.model.meter import Meter, meter_of
from tunesmith.model.notes import DURATIONS

__all__ = [
    "Cell",
    "Meter",
    "Rhythm",
    "corpus_rhythm",
    "drawn_bars",
    "drawn_cadence",
    "drawn_index",
    "meter_of",
    "rhythm_for",
    "style_rhythm",
]

CORPUS = "corpus"
"""A style's ``cells``, ``bar_rhythms`` or ``cadences`` value: from real tunes of its dance."""

REST_PREFIX = "r:"
ANY_CELL = "*"


@dataclass(frozen=True, slots=True)
class Cell:
    """A rhythm pattern: note lengths in quarter notes, with rests marked."""

    durations: tuple[Fraction, ...]
    rests: tuple[bool, ...]

    @classmethod
    def parse(cls, text: str) -> Cell:
        """Read ``"e e e"``, ``"e. s"``, ``"e3 e3 e3"`` or ``"q q q r:q"`` (duration codes)."""
        durations, rests = [], []
        for word in text.split():
            rest = word.startswith(REST_PREFIX)
            code = word.removeprefix(REST_PREFIX)
            if code not in DURATIONS:
                raise ConstraintError(
                    f"unknown duration {code!r} in the rhythm cell {text!r}: use the duration "
                    "codes of tunesmith notation (w h q e s, '.' dotted, '3' triplet)"
                )
            durations.append(DURATIONS[code])
            rests.append(rest)
        if not durations:
            raise ConstraintError("a rhythm cell needs at least one duration (received '')")
        return cls(tuple(durations), tuple(rests))

    @property
    def length(self) -> Fraction:
        """Quarter notes the pattern fills."""
        return sum(self.durations, Fraction(0))

    @property
    def closing_rest(self) -> Fraction:
        """Quarter notes of rest the pattern ends on (an ending's time left for a pickup)."""
        rest = Fraction(0)
        for duration, is_rest in zip(reversed(self.durations), reversed(self.rests), strict=True):
            if not is_rest:
                break
            rest += duration
        return rest

    @property
    def is_triplet(self) -> bool:
        """Three notes in the time of two (``e3 e3 e3``)."""
        return len(self.durations) == 3 and all(d.denominator % 3 == 0 for d in self.durations)


@dataclass(frozen=True, slots=True)
class Rhythm:
    """What bars are made of: cells per cell position, long notes, the cadence bar."""

    meter: Meter
    cell_length: Fraction
    cells: tuple[Cell, ...]
    """Patterns that fill one cell."""
    long: tuple[Fraction, ...]
    """Notes spanning whole cells; they start on a beat."""
    cadence: tuple[Cell | None, ...]
    """The cadence bar's slots, one per cell from the bar line (None: any cell); a slot
    longer than a cell is a long note. The phrase's last note is the last pitched one."""

    @property
    def cells_per_bar(self) -> int:
        """How many cells a bar holds."""
        return int(self.meter.bar_length / self.cell_length)

    @property
    def shortest(self) -> Fraction:
        """The shortest note any pattern uses."""
        return min(d for cell in (*self.cells, *filter(None, self.cadence)) for d in cell.durations)


def _default_cells(meter: Meter) -> tuple[Fraction, list[str], list[str]]:
    """Cell length, cells and long notes for a meter no style describes."""
    if meter.compound and len(set(meter.beats)) == 1:
        beat = meter.beat_length
        third = _code(beat / 3)
        cells = [f"{third} {third} {third}", f"{_code(2 * beat / 3)} {third}", _code(beat)]
        longs = [_code(length) for length in (2 * beat, meter.bar_length) if length in _CODES]
        return beat, cells, longs
    if meter.denominator <= 4:  # a quarter-note pulse: a half-note beat is two cells
        cells = ["e e", "q", "e. s", "s s e"]
        longs = [code for code in ("h", "h.", "w") if DURATIONS[code] <= meter.bar_length]
        return Fraction(1), cells, longs
    if len(set(meter.beats)) == 1:  # 3/8, 2/16... : one beat a cell
        beat = meter.beat_length
        if beat.numerator % 3 == 0:
            third = _code(beat / 3)
            return beat, [f"{third} {third} {third}", f"{_code(2 * beat / 3)} {third}"], []
        half = _code(beat / 2)
        return beat, [f"{half} {half}", _code(beat)], []
    unit = min(meter.beats)  # 5/8, 7/8: the shortest beat group
    return unit, [f"{_code(unit / 2)} {_code(unit / 2)}", _code(unit)], []


def _cadence_length(meter: Meter, cell_length: Fraction) -> Fraction:
    """Half a bar of four beats, two beats of three simple ones, else the last beat."""
    count = len(meter.beats)
    if count >= 4 and count % 2 == 0:
        last = meter.bar_length / 2
    elif count == 3 and not meter.compound:
        last = 2 * meter.beat_length
    else:
        last = meter.beats[-1]
    return last if last % cell_length == 0 else cell_length


_CODES = {length: code for code, length in DURATIONS.items()}


def _code(length: Fraction) -> str:
    try:
        return _CODES[length]
    except KeyError:
        raise ConstraintError(f"no duration code for {length} quarter notes") from None


def rhythm_for(
    meter: Meter,
    *,
    cell: str | None = None,
    cells: Sequence[str] = (),
    long: Sequence[str] | None = None,
    cadence: Sequence[str] = (),
) -> Rhythm:
    """The rhythm of a meter, from a style's data where it gives it.

    ``long`` None: the meter's default long notes; empty: none (a polka has none).

    Raises :class:`ConstraintError` when the cells do not fill a bar exactly.
    """
    default_length, default_cells, default_long = _default_cells(meter)
    cell_length = DURATIONS[cell] if cell else default_length
    if meter.bar_length % cell_length:
        raise ConstraintError(
            f"rhythm cells of {cell_length} quarter notes cannot fill a bar of {meter.text}"
        )
    patterns = tuple(Cell.parse(text) for text in (cells or default_cells))
    wrong = [p for p in patterns if p.length != cell_length]
    if wrong:
        raise ConstraintError(
            f"every rhythm cell must last {cell_length} quarter notes in {meter.text} "
            f"(received one of {wrong[0].length})"
        )
    longs = tuple(
        sorted(
            {
                DURATIONS[code]
                for code in (default_long if long is None else long)
                if DURATIONS[code] % cell_length == 0 and DURATIONS[code] <= meter.bar_length
            }
        )
    )
    slots: list[Cell | None] = [None if text == ANY_CELL else Cell.parse(text) for text in cadence]
    if not slots:  # default: the phrase ends on a long note from a strong beat
        last = _cadence_length(meter, cell_length)
        filled = meter.bar_length - last
        slots = [None] * int(filled / cell_length) + [Cell((last,), (False,))]
    total = sum((slot.length if slot else cell_length for slot in slots), Fraction(0))
    if total != meter.bar_length:
        raise ConstraintError(
            f"the cadence bar {' '.join(cadence)!r} lasts {total} quarter notes, not a bar of "
            f"{meter.text}"
        )
    return Rhythm(meter, cell_length, patterns, longs, tuple(slots))


def style_rhythm(meter: Meter, style: dict[str, Any] | None) -> Rhythm:
    """The rhythm a style gives its meter (no style: the meter's own cells).

    ``cells = "corpus"`` takes the cells real tunes of the style's dance use.
    """
    if style is None:
        return rhythm_for(meter)
    cells = style.get("cells", ())
    if cells == CORPUS:
        measured = corpus_rhythm(str(style.get("name")))
        cells = [pattern for pattern, _ in measured["cells"]] if measured else ()
    return rhythm_for(
        meter,
        cell=style.get("cell"),
        cells=cells,
        long=style.get("long"),
        cadence=style.get("cadence", ()),
    )


@functools.cache
def _corpus_rhythms() -> dict[str, Any]:
    text = resources.files("tunesmith").joinpath("data", "rhythms.json").read_text("utf-8")
    styles: dict[str, Any] = json.loads(text)["styles"]
    return styles


def corpus_rhythm(style: str) -> dict[str, Any] | None:
    """The cells, phrase endings and bar rhythms measured in real tunes of ``style``; None
    if unmeasured.

    ``{"meter", "cell", "cells": [[pattern, share]...], "cadences": {"half" | "full" |
    "final": [[pattern, share]...]}, "bars": [tune: [bar: [slot...]...]...], "harmony":
    [tune: [bar: [[offset, degree]...]...]...], "pickups": [tune: pattern or ""], "finals":
    [tune: its own last ending or null], "repeats": [...], "rules": {rule: threshold}}``
    (the lists after ``bars`` hold the same tunes in the same order): an ending in
    duration codes fills the phrase's last beat (half a bar in 4/4 and 2/2, the whole bar in
    3/4); ``rules`` are the thresholds nine in ten of the style's real tunes keep.
    """  # noqa: D205
    return _corpus_rhythms().get(style)


def drawn_index(count: int, seed: int | None) -> int:
    """Which of ``count`` real tunes ``seed`` draws (without a seed: the first)."""
    return 0 if seed is None else random.Random(seed).randrange(count)


def drawn_bars(
    rhythm: Rhythm, skeletons: Sequence[Sequence[Sequence[str]]], seed: int | None
) -> tuple[tuple[Cell, ...], ...]:
    """The bar rhythms of one real tune, drawn by ``seed`` (without one: the first tune).

    Each bar is its slots from the bar line: a cell's pattern, or a long note.
    """
    chosen = skeletons[drawn_index(len(skeletons), seed)]
    bars = []
    for slots in chosen:
        cells = tuple(Cell.parse(text) for text in slots)
        if sum((cell.length for cell in cells), Fraction(0)) != rhythm.meter.bar_length:
            raise ConstraintError(
                f"the bar rhythm {slots!r} does not fill a bar of {rhythm.meter.text}"
            )
        bars.append(cells)
    return tuple(bars)


def drawn_cadence(
    rhythm: Rhythm, endings: Sequence[Sequence[Any]], seed: int | None
) -> tuple[Cell | None, ...]:
    """A cadence bar's slots: any cells, then an ending drawn by ``seed`` by its share.

    Without a seed, the commonest ending. ``endings`` are ``[pattern, share]`` pairs.
    """
    patterns = [str(pattern) for pattern, _ in endings]
    if seed is None:
        chosen = patterns[0]
    else:
        chosen = random.Random(seed).choices(patterns, [float(w) for _, w in endings])[0]
    tail = Cell.parse(chosen)
    free = rhythm.meter.bar_length - tail.length
    if free % rhythm.cell_length or free < 0:
        raise ConstraintError(
            f"the ending {chosen!r} does not close a bar of {rhythm.meter.text} in cells of "
            f"{rhythm.cell_length} quarter notes"
        )
    return (None,) * int(free / rhythm.cell_length) + (tail,)
