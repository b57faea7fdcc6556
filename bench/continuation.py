"""Continuing real tunes: seconds per 8 new bars; does the new half sound like the given one?

Jigs (6/8) and reels (4/4, 2/2) from O'Neill's and Ryan's collections, 16 bars or more and no
pickup, are cut after bar 8 and continued by 8 bars with `continue_score` on the embedded
model, as a user would (no options: meter, pitches, range and tempo from the tune; 4
candidates). Against them: the corpus tunes' own bars 9-16, and tunes composed from scratch
with `compose()` (16 bars in the same meter on the same pitches, default style).

- **Seconds** per continued 8 bars, the model loaded (its prompt prefix evaluated once).
- **Echoes**: the share of the second half's bars that echo a bar of the first half: the same
  rhythm, and at least half of the notes on the same pitches or every interval the same (a
  motif moved up or down); and the share of tunes whose second half has two such bars or more.
- **Bands**: how many of the second halves' stepwise, repeated-note and leap shares lie
  inside the corpus's p10-p90 band (bars 9-16 of 300 corpus tunes of the meter).

Usage: python bench/continuation.py [TUNES_PER_METER] (default 4).
"""

from __future__ import annotations

import itertools
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from corpus_cache import load
from quality import features
from tunesmith import Header, Key, PitchClass, Score, compose, continue_score
from tunesmith.model.notation import parse_tune
from tunesmith.model.score import Bar, Tune
from tunesmith.pipeline.compose import default_backend

METERS = {"jig": ("6/8",), "reel": ("4/4", "2/2")}
HALF = 8
BANDS = ("stepwise_share", "repeat_share", "leap_share")
CORPUS_PER_METER = 300
SHARPS = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def rhythm(bar: Bar) -> tuple[Any, ...]:
    return tuple((e.duration, e.is_rest) for e in bar.events)


def pitches(bar: Bar) -> list[int]:
    return [e.pitches[-1].midi for e in bar.events if e.pitches]


def echoes(bar: Bar, given: tuple[Bar, ...]) -> bool:
    """Whether ``bar`` echoes a given bar: same rhythm, half its pitches or all its intervals."""
    mine = pitches(bar)
    for other in given:
        theirs = pitches(other)
        if rhythm(other) != rhythm(bar) or not mine:
            continue
        same = sum(a == b for a, b in zip(mine, theirs, strict=True))
        moved = [b - a for a, b in itertools.pairwise(mine)]
        if 2 * same >= len(mine) or (
            len(mine) > 2 and moved == [b - a for a, b in itertools.pairwise(theirs)]
        ):
            return True
    return False


def echo_share(tune: Tune) -> float:
    first, second = tune.bars[:HALF], tune.bars[HALF : 2 * HALF]
    return sum(echoes(bar, first) for bar in second) / len(second)


def corpus(meters: tuple[str, ...]) -> list[dict[str, Any]]:
    """Corpus dance tunes of the meters: 16 full bars or more from the first."""
    found = []
    for record in load():
        if record["meter"] not in meters or record["collection"] == "essenFolksong":
            continue
        tune = parse_tune(record["text"])
        bars = tune.bars[: 2 * HALF]
        if len(bars) == 2 * HALF and len({bar.duration for bar in bars}) == 1:
            found.append({**record, "tune": Tune(tuple(bars))})
    return found


def band(tunes: list[Tune], meter: str) -> dict[str, tuple[float, float]]:
    values = {name: sorted(features(t, meter)[name] for t in tunes) for name in BANDS}
    return {
        name: (numbers[len(numbers) // 10], numbers[len(numbers) * 9 // 10])
        for name, numbers in values.items()
    }


def inside(tune: Tune, meter: str, limits: dict[str, tuple[float, float]]) -> int:
    values = features(tune, meter)
    return sum(low <= values[name] <= high for name, (low, high) in limits.items())


def second_half(tune: Tune) -> Tune:
    return Tune(tune.bars[HALF : 2 * HALF])


def run(per_meter: int) -> list[dict[str, Any]]:
    rng = random.Random(13)
    default_backend().decoder()  # the model loaded before anything is timed
    rows = []
    for kind, meters in METERS.items():
        tunes = corpus(meters)
        limits = band([second_half(t["tune"]) for t in tunes[:CORPUS_PER_METER]], meters[0])
        for number, record in enumerate(rng.sample(tunes, per_meter)):
            tune: Tune = record["tune"]
            mode = record["mode"] if record["mode"] in {"major", "minor"} else "major"
            key = Key(PitchClass.parse(SHARPS[record["tonic"]]), mode)
            header = Header(record["meter"], key=key, title=record["title"] or "")
            given = Score.of_tune(Tune(tune.bars[:HALF]), header)
            started = time.perf_counter()
            continued = continue_score(given, bars=HALF, seed=number + 1)
            seconds = time.perf_counter() - started
            new = continued.score.melody.tune
            composed = compose(
                notes=list(continued.request.notes or ()),
                low=continued.request.low,
                high=continued.request.high,
                meter=record["meter"],
                bars=2 * HALF,
                seed=number + 1,
            ).tune
            meter = record["meter"]
            rows.append(
                {
                    "kind": kind,
                    "id": record["id"],
                    "seconds": seconds,
                    "echo": {
                        "corpus": echo_share(tune),
                        "continued": echo_share(new),
                        "composed": echo_share(composed),
                    },
                    "inside": {
                        "corpus": inside(second_half(tune), meter, limits),
                        "continued": inside(second_half(new), meter, limits),
                        "composed": inside(second_half(composed), meter, limits),
                    },
                }
            )
            print(rows[-1], file=sys.stderr)
    return rows


def report(rows: list[dict[str, Any]]) -> str:
    seconds = [row["seconds"] for row in rows]
    lines = [
        f"{len(rows)} tunes ({', '.join(METERS)}); seconds per continued 8 bars: median "
        f"{statistics.median(seconds):.1f} (range {min(seconds):.1f}-{max(seconds):.1f}).",
        "",
        "| second half of | bars echoing the first half (median) | tunes with 2+ echoing bars "
        "| shares inside the corpus band |",
        "| --- | --- | --- | --- |",
    ]
    names = {
        "corpus": "the corpus tune itself",
        "continued": "`continue_score` (bars 1-8 given)",
        "composed": "`compose()` from scratch",
    }
    for key, name in names.items():
        shares = [row["echo"][key] for row in rows]
        echoing = sum(share * HALF >= 2 for share in shares)
        within = sum(row["inside"][key] for row in rows)
        lines.append(
            f"| {name} | {statistics.median(shares):.0%} | {echoing} of {len(rows)} | "
            f"{within} of {len(rows) * len(BANDS)} |"
        )
    return "\n".join(lines)


def main(per_meter: int = 4) -> str:
    return report(run(per_meter))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else 4))
