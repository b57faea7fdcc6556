"""A critic of folk melody learned from music21's corpus: it picks the best of N candidates.

Three parts, each measured on the tune as written (each part once, as the corpus is):

- **intervals**: the mean log-probability of each melodic interval given the one before
  (a bigram model over intervals of up to an octave, add-one smoothed), from every tune of
  the corpus; it prefers steps, turns after leaps and the corpus's repeated notes;
- **rhythm**: the mean log-probability of each bar's rhythm among the corpus's bars in
  the same meter;
- **distance**: :func:`tunesmith.checks.metrics.distance` of the tune's metrics from the corpus
  tunes of the same meter (mean |z|; 0 is typical).

Each part is scored by how typical it is of the corpus tunes in the meter, as a distance in
standard deviations, so a melody smoother than real tunes is as suspect as a jumpier one:
``score = -(|z(intervals)| + |z(rhythm)| + distance)``; 0 is a typical corpus tune, higher
is better. The data (``data/critic.json``) is written by ``bench/critic_data.py``.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from typing import Any

from tunesmith.checks.metrics import COMPARED, TuneMetrics, measure
from tunesmith.model.meter import meter_of
from tunesmith.model.score import Tune
from tunesmith.writing.rules import melody

__all__ = ["Judgement", "interval_loglik", "judge", "rhythm_key", "rhythm_loglik"]

MAX_INTERVAL = 12
"""Intervals are clipped to an octave either way."""


@dataclass(frozen=True)
class Judgement:
    """How folk-like a candidate is, part by part (see the module docstring)."""

    intervals: float
    """Mean log-probability of an interval given the one before."""
    rhythm: float
    """Mean log-probability of a bar's rhythm."""
    distance: float
    """Mean |z| of the metrics against the corpus tunes in the meter."""
    interval_z: float
    """How many corpus standard deviations ``intervals`` is from the corpus's mean."""
    rhythm_z: float
    """How many corpus standard deviations ``rhythm`` is from the corpus's mean."""
    metrics: TuneMetrics

    @property
    def score(self) -> float:
        """How typical the candidate is (0: a typical corpus tune; higher is better)."""
        return -(abs(self.interval_z) + abs(self.rhythm_z) + self.distance)

    def edge_over(self, other: Judgement) -> str:
        """What makes this candidate more typical than ``other``, in words."""
        gains = {
            "its intervals": abs(other.interval_z) - abs(self.interval_z),
            "its rhythms": abs(other.rhythm_z) - abs(self.rhythm_z),
            "its melodic metrics": other.distance - self.distance,
        }
        return max(gains, key=lambda name: gains[name])

    def __str__(self) -> str:
        return (
            f"score {self.score:.2f} (intervals {self.intervals:.2f}, rhythm {self.rhythm:.2f}, "
            f"distance {self.distance:.2f})"
        )


@functools.cache
def _data() -> dict[str, Any]:
    text = resources.files("tunesmith").joinpath("data", "critic.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def rhythm_key(bar_durations: Sequence[Any]) -> str:
    """A bar's rhythm as text: its note lengths in quarter notes, e.g. ``"1/2 1/2 1/2 3/2"``."""
    return " ".join(str(duration) for duration in bar_durations)


def _clip(interval: int) -> int:
    return max(-MAX_INTERVAL, min(MAX_INTERVAL, interval))


def interval_loglik(tune: Tune, bigrams: Mapping[str, Mapping[str, int]]) -> float:
    """Mean log-probability of each melodic interval given the one before it."""
    pitches = [midi for midi, _ in melody(tune.bars)]
    intervals = [_clip(b - a) for a, b in itertools.pairwise(pitches)]
    if len(intervals) < 2:
        return 0.0
    states = 2 * MAX_INTERVAL + 1
    total = 0.0
    for before, after in itertools.pairwise(intervals):
        row = bigrams.get(str(before), {})
        count = row.get(str(after), 0)
        total += math.log((count + 1) / (sum(row.values()) + states))
    return total / (len(intervals) - 1)


def rhythm_loglik(tune: Tune, rhythms: Mapping[str, int]) -> float:
    """Mean log-probability of each bar's rhythm among the corpus's bars in the meter."""
    if not tune.bars:
        return 0.0
    seen = sum(rhythms.values())
    kinds = len(rhythms) + 1
    total = 0.0
    for bar in tune.bars:
        count = rhythms.get(rhythm_key([event.duration for event in bar.events]), 0)
        total += math.log((count + 1) / (seen + kinds))
    return total / len(tune.bars)


def _distance(metrics: TuneMetrics, spread: Mapping[str, Sequence[float]]) -> float:
    scores = []
    for name in COMPARED:
        mean, deviation = spread[name]
        scores.append(abs(float(getattr(metrics, name)) - mean) / (deviation or 1.0))
    return sum(scores) / len(scores)


def _meter_data(meter: str) -> dict[str, Any]:
    """The corpus's data for ``meter``, else for the meter closest to it: the same kind of
    beat (simple or compound), then the nearest bar length.
    """  # noqa: D205
    meters: dict[str, Any] = _data()["meters"]
    if meter in meters:
        return dict(meters[meter])
    asked = meter_of(meter)

    def closeness(other: str) -> tuple[bool, Fraction]:
        candidate = meter_of(other)
        return candidate.compound != asked.compound, abs(candidate.bar_length - asked.bar_length)

    return dict(meters[min(meters, key=closeness)])


def judge(written: Tune, meter: str, tonic: int | None = None) -> Judgement:
    """How folk-like ``written`` (each part once) is, against the corpus tunes in ``meter``."""
    data = _meter_data(meter)
    metrics = measure(written, tonic)
    intervals = interval_loglik(written, _data()["intervals"])
    rhythm = rhythm_loglik(written, data["rhythms"])
    distance = _distance(metrics, data["metrics"])
    (interval_mean, interval_spread), (rhythm_mean, rhythm_spread) = (
        data["intervals_spread"],
        data["rhythm_spread"],
    )
    return Judgement(
        intervals=intervals,
        rhythm=rhythm,
        distance=distance,
        interval_z=(intervals - interval_mean) / interval_spread,
        rhythm_z=(rhythm - rhythm_mean) / rhythm_spread,
        metrics=metrics,
    )
