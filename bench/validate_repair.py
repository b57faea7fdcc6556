"""Validation and repair time for 16, 64 and 256 bars (medians over repeated runs).

Two inputs per size: a tune that already satisfies the request (the grammar-constrained
case: validate only, repair changes nothing) and a tune with a wrong note, a wrong bar
length every few bars and a wrong ending (the case of a server that takes no grammar).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from fractions import Fraction

from tunesmith import ComposeRequest
from tunesmith.checks.repair import repair
from tunesmith.checks.validate import validate
from tunesmith.model.score import Bar, Event, Pitch, Tune

SIZES = (16, 64, 256)
REPEATS = 15


def request(bars: int) -> ComposeRequest:
    return ComposeRequest(
        notes=["A", "B", "C#", "F#", "G"], meter="6/8", bars=bars, low="A3", high="A5"
    )


def make_tune(bars: int, *, broken: bool) -> Tune:
    rng = random.Random(bars)
    allowed = request(bars).constraints.pitches
    chromatic = [Pitch.from_midi(n) for n in range(50, 84)]
    cells = [[Fraction(1, 2)] * 3, [Fraction(1), Fraction(1, 2)], [Fraction(3, 2)]]
    result = []
    for index in range(bars):
        lengths = [length for _ in range(2) for length in rng.choice(cells)]
        if broken and index % 4 == 1:
            lengths.append(Fraction(1, 2))  # an overfull bar
        pool = chromatic if broken else allowed
        result.append(Bar(tuple(Event((rng.choice(pool),), length) for length in lengths)))
    tonic = Event((allowed[0],), Fraction(3, 2))
    last = result[-1].events
    if not broken:
        result[-1] = Bar(
            (*last[:-1], Event((request(bars).constraints.tonic_pitches[0],), last[-1].duration))
        )
    else:
        result[-1] = Bar((*last, tonic))
    return Tune(tuple(result))


def median_ms(action: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> str:
    lines = [
        "| bars | validate, valid tune (ms) | validate + repair, broken tune (ms) "
        "| violations repaired |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for bars in SIZES:
        req = request(bars)
        good, bad = make_tune(bars, broken=False), make_tune(bars, broken=True)
        assert validate(good, req).ok
        violations = len(validate(bad, req).violations)
        fixed, _ = repair(bad, req)
        assert validate(fixed, req).ok
        valid_ms = median_ms(lambda: validate(good, req))  # noqa: B023 - timed at once
        repair_ms = median_ms(lambda: validate(repair(bad, req)[0], req))  # noqa: B023
        lines.append(f"| {bars} | {valid_ms:.2f} | {repair_ms:.2f} | {violations} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
