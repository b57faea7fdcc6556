"""Musical metrics of a tune, and how far a tune is from a reference set of tunes.

The metrics describe a melody the way a folk musician would hear it: how many different
notes it uses and how evenly (pitch-class entropy), how wide it goes (range), how it moves
(share of steps, mean leap, contour changes), how varied its rhythm is (rhythm-pattern
entropy), how much it repeats itself (bar repetition), and whether it ends home.

:func:`distance` compares a tune's metrics with a reference distribution (for example the
corpus tunes of the same meter) as the mean absolute z-score over the metrics, so 0 is
"typical of the reference" and 1 is "one standard deviation off on average".
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from tunesmith.checks.corpus import load_sample
from tunesmith.errors import ReadError, RequestError
from tunesmith.io.read import read_score
from tunesmith.model.notation import parse_tune
from tunesmith.model.score import Tune

__all__ = ["TuneMetrics", "distance", "evaluate_file", "measure", "reference_metrics"]


class TuneMetrics(BaseModel):
    """Metrics of one tune (see the module docstring)."""

    model_config = ConfigDict(frozen=True)

    notes: int
    pitch_class_entropy: float
    """Shannon entropy (bits) of the pitch classes, weighted by duration."""
    pitch_range: int
    """Semitones from the lowest to the highest note."""
    stepwise_share: float
    """Share of melodic intervals of one or two semitones (repeated notes excluded)."""
    repeat_share: float
    """Share of melodic intervals that repeat the same pitch."""
    mean_leap: float
    """Mean absolute interval in semitones."""
    contour_changes: float
    """Changes of melodic direction per note."""
    rhythm_entropy: float
    """Shannon entropy (bits) of the bars' rhythm patterns."""
    bar_repetition: float
    """Share of bars (pitches and rhythm) that repeat an earlier bar exactly."""
    ends_on_tonic: bool | None
    """Whether the last note is the tonic; None when the tonic is not known."""
    interval_histogram: dict[int, int]
    """How often each melodic interval (semitones, signed) occurs."""


COMPARED = (
    "pitch_class_entropy",
    "pitch_range",
    "stepwise_share",
    "repeat_share",
    "mean_leap",
    "contour_changes",
    "rhythm_entropy",
    "bar_repetition",
)
"""The metrics that :func:`distance` compares."""


def _entropy(counts: Iterable[float]) -> float:
    values = [c for c in counts if c > 0]
    total = sum(values)
    return -sum(c / total * math.log2(c / total) for c in values) if total else 0.0


def measure(tune: Tune, tonic_semitone: int | None = None) -> TuneMetrics:
    """The metrics of ``tune``; ``ends_on_tonic`` needs the tonic (0-11, C = 0)."""
    melody: list[int] = []  # the top note of each new sounding event (ties continue a note)
    tied = False
    for event in tune.events:
        if event.pitches and not tied:
            melody.append(event.pitches[-1].midi)
        tied = event.tie
    weights: dict[int, float] = {}
    for event in tune.notes:
        if not event.pitches:  # a drum hit has no pitch
            continue
        semitone = event.pitches[-1].midi % 12
        weights[semitone] = weights.get(semitone, 0.0) + float(event.duration)
    intervals = [b - a for a, b in itertools.pairwise(melody)]
    moves = [i for i in intervals if i]
    directions = [1 if i > 0 else -1 for i in moves]
    changes = sum(1 for a, b in itertools.pairwise(directions) if a != b)
    patterns = [tuple((e.duration, e.is_rest) for e in bar.events) for bar in tune.bars]
    contents = [bar.events for bar in tune.bars]
    repeats = sum(1 for i, bar in enumerate(contents) if bar in contents[:i])
    count = max(len(intervals), 1)
    return TuneMetrics(
        notes=len(melody),
        pitch_class_entropy=_entropy(weights.values()),
        pitch_range=(max(melody) - min(melody)) if melody else 0,
        stepwise_share=sum(1 for i in intervals if 0 < abs(i) <= 2) / count,
        repeat_share=sum(1 for i in intervals if i == 0) / count,
        mean_leap=statistics.fmean(abs(i) for i in intervals) if intervals else 0.0,
        contour_changes=changes / max(len(melody), 1),
        rhythm_entropy=_entropy(Counter(patterns).values()),
        bar_repetition=repeats / max(len(tune.bars), 1),
        ends_on_tonic=None
        if tonic_semitone is None
        else bool(melody) and melody[-1] % 12 == tonic_semitone,
        interval_histogram=dict(sorted(Counter(intervals).items())),
    )


def distance(metrics: TuneMetrics, reference: Sequence[TuneMetrics]) -> float:
    """Mean absolute z-score of ``metrics`` against ``reference`` over :data:`COMPARED`."""
    if len(reference) < 2:
        raise RequestError(
            f"distance needs at least two reference tunes (received {len(reference)})"
        )
    scores = []
    for name in COMPARED:
        values = [float(getattr(m, name)) for m in reference]
        spread = statistics.stdev(values) or 1.0
        scores.append(abs(float(getattr(metrics, name)) - statistics.fmean(values)) / spread)
    return statistics.fmean(scores)


def reference_metrics(meter: str | None = None) -> list[TuneMetrics]:
    """Metrics of the corpus sample's tunes, of one meter if given (and at least 3 have it)."""
    records = [r for r in load_sample() if "text" in r]
    same = [r for r in records if r.get("meter") == meter]
    chosen = same if meter is not None and len(same) >= 3 else records
    return [measure(parse_tune(r["text"])) for r in chosen]


def _read_tune(path: Path) -> tuple[Tune, str | None, int | None]:
    """The melody as played, its meter and its tonic (0-11), from any file read_score reads.

    A meter or key the file does not give is estimated by the reader; an estimated meter
    counts as unknown (the tune is compared with the whole corpus sample).
    """
    score = read_score(path)
    if score.melody.is_drum:
        raise ReadError(
            path, "it has only drum parts; evaluate measures a melody: give a file with a tune"
        )
    header, source = score.header, score.source
    guessed = source is not None and any(e.startswith("meter") for e in source.estimated)
    tonic = header.key.tonic.semitone if header.key is not None else None
    return score.expanded().melody.tune, None if guessed else header.meter, tonic


def evaluate_file(path: str | Path) -> str:
    """A readable report of a tune file's metrics and its distance from the folk corpus."""
    tune, meter, tonic = _read_tune(Path(path))
    metrics = measure(tune, tonic)
    reference = reference_metrics(meter)
    lines = [
        f"{name}: {value:.3f}" if isinstance(value, float) else f"{name}: {value}"
        for name, value in metrics.model_dump().items()
        if name != "interval_histogram"
    ]
    lines.append(f"intervals: {metrics.interval_histogram}")
    lines.append(
        f"distance from {len(reference)} corpus tunes{f' in {meter}' if meter else ''}: "
        f"{distance(metrics, reference):.2f} (mean |z| over {', '.join(COMPARED)})"
    )
    return "\n".join(lines)
