"""Musical rules a context-free grammar cannot express, judged bar by bar while decoding.

Each rule is a threshold a style can change (``[rules]`` in ``styles/*.toml``); the
defaults come from the folk corpus (``bench/critic_data.py`` prints the corpus figures
beside them). A bar that breaks a rule is written again by the decoding loop.

- ``unique_bars``: a new bar repeats no earlier bar (the phrase plan's echoes are copies,
  not new bars) and no bar of the prompt's example tunes.
- ``max_run``: at most this many equal notes in a row; ``max_repeat_share``: repeated
  notes are at most this share of the tune's intervals so far.
- ``min_step_share``: steps (one or two semitones) are at least this share of the
  intervals so far (the corpus: about half).
- ``leap`` and ``max_leap_share``: intervals of at least ``leap`` semitones are at most
  this share of the tune's intervals so far.
- ``resolve_leaps``: a leap is not followed by another leap the same way (the corpus
  turns back or moves by step after 70% of its leaps, and walks on through a chord after
  most of the rest).
- ``max_pitch_share``: no pitch takes more than this share of the notes so far.
- ``max_span``: the tune's notes span at most this many semitones (the corpus's 90th
  percentile per meter: 21 in 6/8 and 9/8, 23 in 2/2 and 4/4, 17 in 3/4).
- ``max_zigzag``: at most this many changes of direction in a row; ``max_turn_share``:
  changes of direction are at most this share of the moves so far (the corpus: 0.45).
- ``max_same_beats``: a bar repeats one rhythm cell's notes at most this many times in a
  row (a jig's ``AFA AFA`` but not ``AFA AFA AFA``; a reel's ``(3aag`` twice, not thrice).
- ``max_rhythms``: the tune's bars (phrase endings aside: their rhythm is the cadence's)
  use at most this many different rhythms; a folk tune builds its bars from a few rhythms
  (the corpus: a median of 5 in 16 bars of a jig, 6 of a reel), not a new one a bar.
- ``part_lift``: a later part opens in a higher register: its opening phrase stays at or
  above the first part's opening mean plus this many semitones (applied by the grammar of
  its opening bars, see :class:`tunesmith.writing.plan_script.PlanScript`).
- ``first_part_top``: where a tune has more than one part, the first part's opening phrase
  keeps to this share of the allowed pitches, the lowest (at least eight): a tune opens in
  the instrument's home register and later parts climb from there.
- ``max_same_chord``: with ``chords="auto"``, the model's chord marks keep one chord for at
  most this many bars in a row (applied to each mark as it is written).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from fractions import Fraction
from typing import Any

from tunesmith.errors import ConstraintError
from tunesmith.model.score import Bar

__all__ = ["Rules", "bar_key", "broken_rules", "melody", "refused_bars", "run_into_copy"]

MIN_NOTES = 12
"""Share rules apply once the tune has this many notes."""


@dataclass(frozen=True)
class Rules:
    """Thresholds of the musical rules (see the module docstring)."""

    unique_bars: bool = True
    max_run: int = 3
    max_repeat_share: float = 0.15
    min_step_share: float = 0.35
    max_same_beats: int = 2
    max_rhythms: int | None = 5
    """Different bar rhythms in a tune, phrase endings aside (None: any number)."""
    leap: int = 5
    max_leap_share: float = 0.15
    resolve_leaps: bool = True
    max_pitch_share: float = 0.35
    max_span: int | None = None
    """Semitones from the tune's lowest note to its highest (None: the whole range)."""
    max_zigzag: int = 4
    max_turn_share: float = 0.55
    part_lift: int | None = 1
    """A later part's opening phrase stays at or above the first part's opening mean plus
    this many semitones (None: anywhere in the range)."""
    first_part_top: float | None = 0.7
    """The first of several parts opens on this share of the allowed pitches, the lowest
    (None: anywhere in the range)."""
    max_same_chord: int = 2

    @classmethod
    def from_data(
        cls, data: Mapping[str, Any] | None, measured: Mapping[str, Any] | None = None
    ) -> Rules:
        """Defaults, changed by a style's ``[rules]`` table.

        A rule set to ``"corpus"`` takes the threshold ``measured`` in real tunes of the
        style (``bench/make_rhythms.py``), or its default where none was measured.
        """
        if not data:
            return cls()
        known = [field.name for field in fields(cls)]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConstraintError(
                f"unknown rule {unknown[0]!r} in a style's [rules]: the rules are "
                f"{', '.join(known)}"
            )
        measured = measured or {}
        chosen = {
            name: measured[name] if value == "corpus" else value
            for name, value in data.items()
            if value != "corpus" or name in measured  # unmeasured: the default stays
        }
        return replace(cls(), **chosen)


def bar_key(bar: Bar) -> tuple[tuple[tuple[int, ...], object], ...]:
    """A bar's content as it sounds: pitches (MIDI keys) and durations."""
    return tuple((tuple(p.midi for p in e.pitches), e.duration) for e in bar.events)


def _bound_to_repeat(partial: tuple[Any, ...], others: Sequence[tuple[Any, ...]]) -> bool:
    """Whether a bar being written can only end as one of ``others``: it has as many notes,
    the same pitches and rhythm so far, and its last note (still growing) is the same pitch.
    """  # noqa: D205
    if not partial:
        return False
    *before, (last_pitches, _) = partial
    return any(
        len(other) == len(partial) and list(other[:-1]) == before and other[-1][0] == last_pitches
        for other in others
    )


def melody(bars: Sequence[Bar]) -> list[tuple[int, int]]:
    """(MIDI key, bar index) of each sounding note, tied notes once."""
    notes, tied = [], False
    for index, bar in enumerate(bars):
        for event in bar.events:
            if event.pitches and not tied:
                notes.append((event.pitches[-1].midi, index))
            tied = event.tie
    return notes


def _same_beats(rules: Rules, bar: Bar, cell: Fraction) -> str | None:
    groups: list[tuple[object, ...]] = []
    current: list[object] = []
    offset = Fraction(0)
    for event in bar.events:
        current.append((tuple(p.midi for p in event.pitches), event.duration))
        offset += event.duration
        if offset % cell == 0:
            groups.append(tuple(current))
            current = []
    run = 1
    for index in range(1, len(groups)):
        run = run + 1 if groups[index] == groups[index - 1] else 1
        if run > rules.max_same_beats:
            return f"a rhythm cell's notes played more than {rules.max_same_beats} times in a row"
    return None


_BarRhythm = tuple[tuple[Fraction, bool], ...]


def _rhythm(bar: Bar) -> _BarRhythm:
    """A bar's rhythm: each event's duration, and whether it is a rest."""
    return tuple((event.duration, not event.pitches) for event in bar.events)


def _may_become(partial: _BarRhythm, rhythm: _BarRhythm) -> bool:
    """Whether a rhythm being written (its last note still growing) can end as ``rhythm``."""
    if len(partial) > len(rhythm) or partial[:-1] != rhythm[: len(partial) - 1]:
        return False
    (duration, rest), (whole, whole_rest) = partial[-1], rhythm[len(partial) - 1]
    return rest == whole_rest and duration <= whole


def _new_rhythm(
    rules: Rules, bars: Sequence[Bar], free: frozenset[int], *, complete: bool
) -> str | None:
    last = len(bars) - 1
    if rules.max_rhythms is None or last in free or not bars[last].events:
        return None
    used = {_rhythm(bar) for index, bar in enumerate(bars[:last]) if index not in free}
    if len(used) < rules.max_rhythms:
        return None
    rhythm = _rhythm(bars[last])
    if rhythm in used or (not complete and any(_may_become(rhythm, other) for other in used)):
        return None
    return f"more than {rules.max_rhythms} different bar rhythms"


@dataclass(frozen=True)
class _Context:
    """The melody so far, and where the bar being judged starts in it."""

    pitches: list[int]
    intervals: list[int]
    first_new: int
    """Index of the bar's first note in ``pitches``."""

    @property
    def new_intervals(self) -> range:
        """Indices of the intervals that end on one of the bar's notes."""
        return range(max(self.first_new - 1, 0), len(self.intervals))

    @classmethod
    def of(cls, bars: Sequence[Bar]) -> _Context | None:
        """The melody of ``bars``, the last of them judged; None where it sounds no note."""
        notes = melody(bars)
        last = len(bars) - 1
        first_new = next((i for i, (_, bar) in enumerate(notes) if bar == last), len(notes))
        if first_new == len(notes):
            return None
        pitches = [midi for midi, _ in notes]
        return cls(pitches, [b - a for a, b in itertools.pairwise(pitches)], first_new)


def _run(rules: Rules, melody: _Context) -> str | None:
    run = 1
    for index in range(1, len(melody.pitches)):
        run = run + 1 if melody.pitches[index] == melody.pitches[index - 1] else 1
        if index >= melody.first_new and run > rules.max_run:
            return f"more than {rules.max_run} equal notes in a row"
    return None


def _repeat_share(rules: Rules, melody: _Context) -> str | None:
    intervals = melody.intervals
    repeats = sum(1 for interval in intervals if interval == 0)
    if (
        len(melody.pitches) >= MIN_NOTES
        and repeats > rules.max_repeat_share * len(intervals)
        and any(intervals[index] == 0 for index in melody.new_intervals)
    ):
        return f"repeated notes are more than {rules.max_repeat_share:.0%} of intervals"
    return None


def _step_share(rules: Rules, melody: _Context) -> str | None:
    intervals = melody.intervals
    steps = sum(1 for interval in intervals if 0 < abs(interval) <= 2)
    if (
        len(melody.pitches) >= MIN_NOTES
        and steps < rules.min_step_share * len(intervals)
        and intervals
        and not 0 < abs(intervals[-1]) <= 2
        and len(intervals) - 1 in melody.new_intervals
    ):
        return f"steps are less than {rules.min_step_share:.0%} of intervals"
    return None


def _leap_share(rules: Rules, melody: _Context) -> str | None:
    intervals = melody.intervals
    leaps = sum(1 for interval in intervals if abs(interval) >= rules.leap)
    if (
        len(melody.pitches) >= MIN_NOTES
        and leaps > rules.max_leap_share * len(intervals)
        and any(abs(intervals[index]) >= rules.leap for index in melody.new_intervals)
    ):
        return f"leaps are more than {rules.max_leap_share:.0%} of intervals"
    return None


def _leaps_resolve(rules: Rules, melody: _Context) -> str | None:
    if not rules.resolve_leaps:
        return None
    intervals = melody.intervals
    for index in melody.new_intervals:
        if index == 0 or abs(intervals[index - 1]) < rules.leap:
            continue
        if intervals[index] * intervals[index - 1] > 0 and abs(intervals[index]) >= rules.leap:
            return "two leaps in a row the same way"
    return None


def _pitch_share(rules: Rules, melody: _Context) -> str | None:
    pitches = melody.pitches
    top, count = Counter(pitches).most_common(1)[0]
    if (
        len(pitches) >= MIN_NOTES
        and count > rules.max_pitch_share * len(pitches)
        and top in pitches[melody.first_new :]
    ):
        return f"one pitch is more than {rules.max_pitch_share:.0%} of the notes"
    return None


def _span(rules: Rules, melody: _Context) -> str | None:
    pitches, before = melody.pitches, melody.pitches[: melody.first_new] or melody.pitches[:1]
    span = max(pitches) - min(pitches)
    if rules.max_span is None or span <= rules.max_span or span == max(before) - min(before):
        return None
    return f"the tune spans more than {rules.max_span} semitones"


def _zigzag(rules: Rules, melody: _Context) -> str | None:
    intervals, zigzag = melody.intervals, 0
    for index in range(1, len(intervals)):
        zigzag = zigzag + 1 if intervals[index - 1] * intervals[index] < 0 else 0
        if index in melody.new_intervals and zigzag > rules.max_zigzag:
            return f"more than {rules.max_zigzag} changes of direction in a row"
    return None


def _turn_share(rules: Rules, melody: _Context) -> str | None:
    moves = [interval for interval in melody.intervals if interval]
    turns = sum(1 for a, b in itertools.pairwise(moves) if a * b < 0)
    last_move = melody.intervals[-1] if melody.intervals else 0
    before = [interval for interval in melody.intervals[:-1] if interval]
    turned = bool(before) and last_move * before[-1] < 0
    if len(moves) >= MIN_NOTES and turned and turns > rules.max_turn_share * (len(moves) - 1):
        return f"changes of direction are more than {rules.max_turn_share:.0%} of moves"
    return None


_NOTE_RULES = (
    _run,
    _repeat_share,
    _step_share,
    _leap_share,
    _leaps_resolve,
    _pitch_share,
    _span,
    _zigzag,
    _turn_share,
)


def broken_rules(
    rules: Rules,
    bars: Sequence[Bar],
    *,
    copies: frozenset[int] = frozenset(),
    forbidden: frozenset[tuple[Any, ...]] = frozenset(),
    complete: bool = True,
    cell: Fraction | None = None,
    free_rhythm: frozenset[int] = frozenset(),
) -> list[str]:
    """The rules the last of ``bars`` breaks, in the context of the bars before it.

    ``copies`` are indices of earlier bars that repeat others by design (not counted as
    repeats); ``forbidden`` holds bar contents (:func:`bar_key`) that must not appear.
    With ``complete=False`` the last bar is still being written: the note rules apply to
    the notes so far, and the repeated-bar rule refuses a bar whose last note so far can
    only end it as an earlier one (its length is all that is left to write). ``cell`` (the rhythm
    cell's length in quarter notes) enables the repeated-cell rule.
    """
    if not bars:
        return []
    last = len(bars) - 1
    broken = []
    if rules.unique_bars:
        key = bar_key(bars[last])
        earlier = [bar_key(bar) for index, bar in enumerate(bars[:last]) if index not in copies]
        if (
            (key in forbidden or key in earlier)
            if complete
            else _bound_to_repeat(key, [*earlier, *forbidden])
        ):
            broken.append("a repeated bar")
    if cell is not None and (problem := _same_beats(rules, bars[last], cell)):
        broken.append(problem)
    if problem := _new_rhythm(rules, bars, free_rhythm, complete=complete):
        broken.append(problem)
    if (context := _Context.of(bars)) is not None:
        broken += [problem for rule in _NOTE_RULES if (problem := rule(rules, context))]
    return broken


def run_into_copy(rules: Rules, bars: Sequence[Bar]) -> list[str]:
    """The run rule on the last of ``bars`` played again at once, as the plan copies it.

    The loop judges a new bar, never a copy; a bar the next bar repeats must not make,
    with its copy, more equal notes in a row than ``max_run`` (``e4 e2 | e4 e2`` is four).
    """
    if not bars or (context := _Context.of([*bars, bars[-1]])) is None:
        return []
    return [problem] if (problem := _run(rules, context)) else []


def refused_bars(
    rules: Rules,
    bars: Sequence[Bar],
    *,
    cell: Fraction | None = None,
    free_rhythm: frozenset[int] = frozenset(),
) -> list[tuple[int, list[str]]]:
    """The bars of a whole tune the decoding loop would refuse, each with the rules it breaks,
    judged as the loop judges a new bar: in the context of the bars before it, a bar that
    repeats an earlier one being a copy (the plan's echo, not judged), ``free_rhythm`` its
    phrase endings.
    """  # noqa: D205
    refused, seen = [], set()
    for index, bar in enumerate(bars):
        if (key := bar_key(bar)) in seen:
            continue
        seen.add(key)
        if found := broken_rules(rules, bars[: index + 1], cell=cell, free_rhythm=free_rhythm):
            refused.append((index, found))
    return refused
