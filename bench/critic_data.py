"""Writes src/tunesmith/data/critic.json (the critic's data) from the folk corpus.

For every corpus tune (bench/corpus_cache.py): interval bigram counts (all tunes), and per
meter the rhythms of its bars and the mean and spread of tunesmith's metrics. Prints the
corpus figures the musical rules' thresholds are set from (tunesmith/writing/rules.py).
Usage: python bench/critic_data.py
"""

from __future__ import annotations

import itertools
import json
import statistics
from collections import Counter, defaultdict
from pathlib import Path

from corpus_cache import load
from tunesmith.checks import critic
from tunesmith.checks.critic import MAX_INTERVAL, rhythm_key
from tunesmith.checks.metrics import COMPARED, measure
from tunesmith.model.notation import parse_tune
from tunesmith.writing.rules import melody

OUT = Path(__file__).parent.parent / "src" / "tunesmith" / "data" / "critic.json"
MIN_TUNES = 30
"""A meter gets its own statistics when the corpus has at least this many tunes in it."""
TOP_RHYTHMS = 400


SPREAD_SAMPLE = 500


def _spread(values: list[float]) -> list[float]:
    return [round(statistics.fmean(values), 4), round(statistics.stdev(values), 4)]


def clip(interval: int) -> int:
    return max(-MAX_INTERVAL, min(MAX_INTERVAL, interval))


def main() -> None:
    records = load()
    bigrams: dict[int, Counter[int]] = defaultdict(Counter)
    by_meter: dict[str, list[object]] = defaultdict(list)
    rhythms: dict[str, Counter[str]] = defaultdict(Counter)
    after_leap: Counter[str] = Counter()
    runs, leap_shares, top_shares, zigzags = [], [], [], []
    for record in records:
        tune = parse_tune(record["text"])
        pitches = [midi for midi, _ in melody(tune.bars)]
        intervals = [b - a for a, b in itertools.pairwise(pitches)]
        for a, b in itertools.pairwise(intervals):
            bigrams[clip(a)][clip(b)] += 1
            if abs(a) >= 5:
                kind = "step" if 0 < abs(b) <= 2 else "turn" if a * b < 0 else "other"
                after_leap[kind] += 1
        meter = record["meter"]
        by_meter[meter].append(measure(tune, record["tonic"]))
        for bar in tune.bars:
            rhythms[meter][rhythm_key([e.duration for e in bar.events])] += 1
        if len(pitches) >= 12:
            longest, run = 1, 1
            for a, b in itertools.pairwise(pitches):
                run = run + 1 if a == b else 1
                longest = max(longest, run)
            runs.append(longest)
            leap_shares.append(sum(abs(i) >= 5 for i in intervals) / len(intervals))
            top_shares.append(Counter(pitches).most_common(1)[0][1] / len(pitches))
            zig, longest_zig = 0, 0
            for a, b in itertools.pairwise(intervals):
                zig = zig + 1 if a * b < 0 else 0
                longest_zig = max(longest_zig, zig)
            zigzags.append(longest_zig)
    meters = {}
    intervals = {
        str(a): {str(b): n for b, n in sorted(row.items())} for a, row in sorted(bigrams.items())
    }
    for meter, metrics in sorted(by_meter.items()):
        if len(metrics) < MIN_TUNES:
            continue
        spread = {}
        for name in COMPARED:
            values = [float(getattr(m, name)) for m in metrics]
            spread[name] = [round(statistics.fmean(values), 4), round(statistics.stdev(values), 4)]
        kept = dict(rhythms[meter].most_common(TOP_RHYTHMS))
        tunes = [parse_tune(r["text"]) for r in records if r["meter"] == meter][:SPREAD_SAMPLE]
        meters[meter] = {
            "tunes": len(metrics),
            "metrics": spread,
            "rhythms": kept,
            "intervals_spread": _spread([critic.interval_loglik(t, intervals) for t in tunes]),
            "rhythm_spread": _spread([critic.rhythm_loglik(t, kept) for t in tunes]),
        }
    data = {
        "source": "music21 corpus: essenFolksong, oneills1850, ryansMammoth",
        "tunes": len(records),
        "intervals": intervals,
        "meters": meters,
    }
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {OUT} from {len(records)} tunes, {len(meters)} meters")

    def quantiles(values: list[float]) -> str:
        cut = statistics.quantiles(values, n=20)
        return f"p50 {statistics.median(values):.2f}, p90 {cut[17]:.2f}, p95 {cut[18]:.2f}"

    total = sum(after_leap.values())
    print(
        "after a leap of a fourth or more:", {k: f"{v / total:.0%}" for k, v in after_leap.items()}
    )
    print("longest run of equal notes:", quantiles(runs))
    print("share of leaps (>= 5 semitones):", quantiles(leap_shares))
    print("share of the commonest pitch:", quantiles(top_shares))
    print("longest zigzag (direction changes in a row):", quantiles(zigzags))


if __name__ == "__main__":
    main()
