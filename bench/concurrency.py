"""Composing beside other composes: 1, 2 and 3 `tunesmith compose` processes at once,
against the same number one after another.

Every process composes the same 16-bar jig (``--style jig --key D --seed 5 --bars 16``)
from start to exit. **At once**: the processes start together; the seconds until the last
one exits, and each one's seconds (median). **One after another**: the same number run in
sequence; the total. The ratio of the two is what running them at once costs over queueing
them by hand: 1.00 is no worse. Rounds alternate the two ways, so both meet the same
background; medians over the rounds. The machine may be shared, so each row gives the
1-minute load average (``uptime``) read before its runs, median over the rounds.
**Beside busy loops**: one process alone, and beside a Python busy loop on every core,
alternated; the ratio is what the busy loops cost it.

``python bench/concurrency.py [rounds]`` prints the table (default 3 rounds).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

COUNTS = (1, 2, 3)
ROUNDS = 3
COMMAND = [
    sys.executable,
    "-m",
    "tunesmith.cli",
    "compose",
    "--style",
    "jig",
    "--key",
    "D",
    "--seed",
    "5",
    "--bars",
    "16",
]


def at_once(count: int) -> tuple[float, list[float]]:
    """Seconds until the last of ``count`` processes started together exits, and each one's."""
    started = time.perf_counter()
    running = [
        subprocess.Popen(COMMAND, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(count)
    ]
    ended: dict[int, float] = {}
    while len(ended) < count:  # polled, so each one's exit is timed as it happens
        for index, process in enumerate(running):
            if index not in ended and process.poll() is not None:
                ended[index] = time.perf_counter() - started
                if process.returncode != 0:
                    raise RuntimeError(f"{' '.join(COMMAND)} exited {process.returncode}")
        time.sleep(0.05)
    each = [ended[index] for index in range(count)]
    return max(each), each


def one_after_another(count: int) -> float:
    """Seconds for ``count`` processes run in sequence."""
    started = time.perf_counter()
    for _ in range(count):
        subprocess.run(COMMAND, capture_output=True, check=True)
    return time.perf_counter() - started


def beside_busy_loops(rounds: int) -> str:
    """One compose alone and beside a busy loop on every core (medians), as a table row."""
    alone, beside, loads = [], [], []
    for _ in range(rounds):
        loads.append(os.getloadavg()[0])
        alone.append(one_after_another(1))
        loops = [
            subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(os.cpu_count() or 1)
        ]
        try:
            beside.append(one_after_another(1))
        finally:
            for loop in loops:
                loop.kill()
                loop.wait()
    return (
        f"| {os.cpu_count()} | {statistics.median(alone):.1f} | {statistics.median(beside):.1f} "
        f"| {statistics.median(beside) / statistics.median(alone):.2f} "
        f"| {statistics.median(loads):.1f} |"
    )


def main(rounds: int = ROUNDS) -> str:
    rows = [
        "| at once | each, median s | last done, s | one after another, s "
        "| at once / one after another | load (1 min) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for count in COUNTS:
        last, each, sequence, loads = [], [], [], []
        for _ in range(rounds):
            loads.append(os.getloadavg()[0])
            sequence.append(one_after_another(count))
            finished, times = at_once(count)
            last.append(finished)
            each.extend(times)
        ratio = statistics.median(last) / statistics.median(sequence)
        rows.append(
            f"| {count} | {statistics.median(each):.1f} | {statistics.median(last):.1f} "
            f"| {statistics.median(sequence):.1f} | {ratio:.2f} "
            f"| {statistics.median(loads):.1f} |"
        )
    rows += [
        "",
        "| busy loops | alone, s | beside the loops, s | beside / alone | load (1 min) |",
        "| ---: | ---: | ---: | ---: | ---: |",
        beside_busy_loops(rounds),
    ]
    return "\n".join(rows)


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS))
