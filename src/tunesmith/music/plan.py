"""The plan of a tune: its parts, the order they are played in, and each part's phrases.

Folk dance tunes are made of 8-bar parts (A, B...) played AABB; inside a part, phrases
answer each other (bars 5-6 echo bars 1-2), the middle of a part is an open (half) cadence
and its end a full cadence on the tonic, and later parts often end as the first one does.
A :class:`Plan` says which bars the model writes and which repeat bars already written,
so the structure comes from tunesmith and the notes from the model.

``bars`` counts the bars a listener hears: a jig keeps its 8-bar parts, so 16 bars are A
and B once each and 32 bars are AABB. A style gives its part length, phrase plan and form
as data (``styles/*.toml``); a request's own ``form`` ("AABA") shares the bars equally.

Which bars repeat which is drawn from real tunes where the style says ``repeats =
"corpus"``: the seed picks one of the patterns of O'Neill's and Ryan's tunes in the meter
(``data/forms.json``, written by ``bench/make_forms.py``), so no two tunes need share one
template, and the share of repeated bars is the tradition's.
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal, Protocol

from tunesmith.errors import ConstraintError
from tunesmith.music.rhythm import CORPUS, corpus_rhythm, drawn_index
from tunesmith.requests.presets import style_preset

__all__ = ["Plan", "PlanRequest", "PlannedBar", "plan_for", "request_plan"]

Cadence = Literal["half", "full"]
GENERIC_PHRASES = "a b c d a b e f"
"""An 8-bar period: a phrase and its answer, whose first half echoes the phrase."""


@dataclass(frozen=True, slots=True)
class PlannedBar:
    """One written bar: its part, whether it copies an earlier bar, and its cadence."""

    part: int
    """Index of the written part (0 for A)."""
    number: int
    """1-based bar number within the part."""
    source: int | None
    """Index (among the written bars) of the earlier bar this one repeats; None: a new bar."""
    cadence: Cadence | None


@dataclass(frozen=True, slots=True)
class Plan:
    """The written bars (each part once) and the order the parts are played in."""

    bars: tuple[PlannedBar, ...]
    form: str
    """The parts in the order they are played, e.g. ``"AABB"``."""
    part_bars: int
    pickup: bool = False
    """Whether written bar 0 is a pickup: the notes before the first bar line, heard once."""

    @property
    def parts(self) -> str:
        """The written parts in order, e.g. ``"AB"``."""
        return "".join(dict.fromkeys(self.form))

    def played(self) -> list[int]:
        """Indices of the written bars in the order they are heard."""
        order: list[int] = [0] if self.pickup else []
        for letter in self.form:
            start = int(self.pickup) + self.parts.index(letter) * self.part_bars
            order += range(start, start + self.part_bars)
        return order

    def with_pickup(self) -> Plan:
        """The plan with a pickup before its first bar (written bar 0, in part 0)."""
        if self.pickup:
            return self
        shifted = tuple(
            PlannedBar(
                bar.part, bar.number, None if bar.source is None else bar.source + 1, bar.cadence
            )
            for bar in self.bars
        )
        return Plan((PlannedBar(0, 0, None, None), *shifted), self.form, self.part_bars, True)

    def repeated_parts(self) -> set[int]:
        """Written parts played twice in a row (AABB: both), written with repeat marks."""
        return {
            self.parts.index(letter)
            for index, letter in enumerate(self.form[:-1])
            if self.form[index + 1] == letter
        }

    def copying_only(self, keep: Callable[[int, int], bool]) -> Plan:
        """The plan with the copies ``keep(index, source)`` refuses written as new bars."""
        sources = [
            bar.source if bar.source is None or keep(index, bar.source) else None
            for index, bar in enumerate(self.bars)
        ]
        bars = _with_sources(self.bars, sources, self.part_bars)
        return Plan(bars, self.form, self.part_bars, self.pickup)

    @property
    def new_bars(self) -> int:
        """How many bars the model writes (the others repeat earlier bars)."""
        return sum(1 for bar in self.bars if bar.source is None)


def _form(bars: int, part_bars: int, style_form: str | None) -> str:
    count = bars // part_bars
    if style_form and len(style_form) == count:
        return style_form
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if count % 2 == 0 and count >= 4 and count // 2 <= len(letters):
        return "".join(letter * 2 for letter in letters[: count // 2])
    if count > len(letters):
        raise ConstraintError(f"{bars} bars make more than {len(letters)} parts")
    return letters[:count]


def _labels(part_bars: int, phrases: str | None) -> list[str]:
    """The phrase labels of one part: the style's, or a generic period plan."""
    words = phrases.split() if phrases else []
    if len(words) == part_bars:
        return words
    if part_bars % 8 == 0:
        generic = GENERIC_PHRASES.split()
        return [f"{label}{period}" for period in range(part_bars // 8) for label in generic]
    return [str(number) for number in range(part_bars)]


def _cadence(number: int, part_bars: int) -> Cadence | None:
    if number == 0:  # a pickup
        return None
    if number == part_bars:
        return "full"
    if part_bars >= 4 and part_bars % 2 == 0 and number == part_bars // 2:
        return "half"
    if part_bars >= 16 and part_bars % 8 == 0 and number % 8 == 0:
        return "full"
    return None


def _with_sources(
    bars: Sequence[PlannedBar], sources: Sequence[int | None], part_bars: int
) -> tuple[PlannedBar, ...]:
    """``bars`` repeating ``sources``: a copy has no cadence, a new bar its place's."""
    return tuple(
        PlannedBar(
            bar.part,
            bar.number,
            source,
            _cadence(bar.number, part_bars) if source is None else None,
        )
        for bar, source in zip(bars, sources, strict=True)
    )


@functools.cache
def corpus_forms() -> dict[str, list[list[int | None]]]:
    """Per meter, the repeat patterns of real tunes' first 16 bars (``data/forms.json``)."""
    text = resources.files("tunesmith").joinpath("data", "forms.json").read_text("utf-8")
    data = json.loads(text)
    meters: dict[str, list[list[int | None]]] = data["meters"]
    return meters | {meter: meters[pooled] for meter, pooled in data["same"].items()}


def _drawn(
    style: dict[str, Any], part_bars: int, written: int, seed: int | None
) -> list[int | None] | None:
    """The written bars' sources, drawn from the corpus by ``seed``: those of the real tune
    whose bar rhythms the style draws (``bar_rhythms = "corpus"``), where its part ends
    repeat nothing but bar 8, else a pattern of a real tune of the meter.

    None without a seed, where the style does not ask for it, or where no pattern is long enough.
    """  # noqa: D205
    patterns = corpus_forms().get(str(style.get("meter")), [])
    if seed is None or style.get("repeats") != "corpus" or part_bars != 8 or not patterns:
        return None
    measured = corpus_rhythm(str(style.get("name"))) if style.get("bar_rhythms") == CORPUS else None
    if measured and measured.get("repeats"):
        own = measured["repeats"][drawn_index(len(measured["repeats"]), seed)]
        if own is not None and written <= len(own):
            return list(own[:written])
    if written > len(patterns[0]):
        return None
    return random.Random(seed).choice(patterns)[:written]


class PlanRequest(Protocol):
    """What a plan reads of a request (a :class:`~tunesmith.requests.request.ComposeRequest`)."""

    @property
    def bars(self) -> int: ...  # noqa: D102
    @property
    def form(self) -> str | None: ...  # noqa: D102
    @property
    def style(self) -> str: ...  # noqa: D102
    @property
    def meter(self) -> str: ...  # noqa: D102
    @property
    def seed(self) -> int | None: ...  # noqa: D102


def request_plan(request: PlanRequest) -> Plan:
    """The plan of a request: its form, else its style's where the meters agree.

    Made once for a request (a plan is a value): the check of its chords and its writing
    share it.
    """
    return _plan(request.bars, request.form, request.style, request.meter, request.seed)


@functools.lru_cache(maxsize=256)
def _plan(bars: int, form: str | None, style: str, meter: str, seed: int | None) -> Plan:
    preset = style_preset(style) or {}
    same_meter = preset if preset.get("meter") == meter else None
    return plan_for(bars, form=form, style=same_meter, seed=seed)


def plan_for(
    bars: int,
    *,
    form: str | None = None,
    style: dict[str, Any] | None = None,
    seed: int | None = None,
) -> Plan:
    """The plan of a tune of ``bars`` heard bars.

    ``form`` (the request's) shares the bars equally among its parts; otherwise a style
    keeps its part length and the form follows from the bars; a tune with neither is one part.
    A style with ``repeats = "corpus"`` takes which bars repeat which from a real tune of its
    meter, chosen by ``seed``; without a seed, or for other styles, from its ``phrases`` and
    ``shared_ending``.

    Raises :class:`ConstraintError` when ``form`` cannot share the bars equally.
    """
    style = style or {}
    if form is not None:
        if bars % len(form):
            raise ConstraintError(
                f"form {form!r} has {len(form)} parts, which cannot share {bars} bars equally; "
                f"ask for a multiple of {len(form)} bars"
            )
        part_bars = bars // len(form)
    else:
        part_bars = int(style.get("part_bars", bars))
        if bars % part_bars:
            part_bars = bars
        form = _form(bars, part_bars, style.get("form"))
    same_length = part_bars == int(style.get("part_bars", -1))
    labels = _labels(part_bars, style.get("phrases") if same_length else None)
    shared = int(style.get("shared_ending", 0)) if same_length else 0
    written: list[PlannedBar] = []
    first_of: dict[str, int] = {}
    parts = "".join(dict.fromkeys(form))
    for part in range(len(parts)):
        for number, label in enumerate(labels, 1):
            key = f"{parts[part]}.{label}"
            if part > 0 and number > part_bars - shared:
                key = f"{parts[0]}.{label}"  # later parts end as the first one does
            source = first_of.get(key)
            cadence = _cadence(number, part_bars) if source is None else None
            if source is None:
                first_of[key] = len(written)
            written.append(PlannedBar(part, number, source, cadence))
    drawn = _drawn(style, part_bars, len(written), seed) if same_length else None
    if drawn is not None:
        return Plan(_with_sources(written, drawn, part_bars), form, part_bars)
    return Plan(tuple(written), form, part_bars)
