"""Composing beside other work: 1, 2 and 3 `tunesmith compose` processes at once,
against the same number one after another.

Every process composes the same 16-bar jig (``--style jig --key D --seed 5 --bars 16``)
from start to exit. **At once**: the processes start together; the seconds until the last
one exits, and each one's seconds (median). **One after another**: the same number run in
sequence; the total. The ratio of the two is what running them at once costs over queueing
them by hand: 1.00 is no worse. Rounds alternate the two ways, so both meet the same
background; medians over the rounds. The machine may be shared, so each row gives the
1-minute load average (``uptime``) read before its runs, median over the rounds.
**Beside busy loops**: one process alone, and beside a Python busy loop on every core,
alternated; the ratio is what the busy loops cost it. **Long tunes**: four 32-bar tunes at
once (hornpipes in E dorian and D, reels in G and A dorian) beside the busy loops, the
case that once ran past the 300 s deadline; the slowest one's seconds (median).

``python bench/concurrency.py [rounds]`` prints the table (default 3 rounds);
``TUNESMITH_THREADS=<cores>`` in its environment gives every tune every core, as tunesmith
did before it chose threads from the load.
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
    "tunesmith.app.cli",
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


LONG_TUNES = [
    ["--style", "hornpipe", "--key", "E", "--mode", "dorian", "--seed", "1"],
    ["--style", "hornpipe", "--key", "D", "--seed", "2"],
    ["--style", "reel", "--key", "G", "--seed", "3"],
    ["--style", "reel", "--key", "A", "--mode", "dorian", "--seed", "4"],
]


def at_once(count: int, commands: list[list[str]] | None = None) -> tuple[float, list[float], int]:
    """Seconds until the last of the processes started together exits, each one's, failures.

    ``commands``: one per process (default: ``count`` times the jig); a failure is a process
    that exited with an error, such as a tune that ran past its deadline.
    """
    commands = commands or [COMMAND] * count
    started = time.perf_counter()
    running = [
        subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for command in commands
    ]
    ended: dict[int, float] = {}
    while len(ended) < count:  # polled, so each one's exit is timed as it happens
        for index, process in enumerate(running):
            if index not in ended and process.poll() is not None:
                ended[index] = time.perf_counter() - started
        time.sleep(0.05)
    each = [ended[index] for index in range(count)]
    return max(each), each, sum(1 for process in running if process.returncode != 0)


def one_after_another(count: int) -> float:
    """Seconds for ``count`` processes run in sequence."""
    started = time.perf_counter()
    for _ in range(count):
        subprocess.run(COMMAND, capture_output=True, check=True)
    return time.perf_counter() - started


def busy_loops() -> list[subprocess.Popen[bytes]]:
    """A Python busy loop on every core (each ends when this process does)."""
    spin = "import os, sys\nwhile os.getppid() == int(sys.argv[1]): pass"
    return [
        subprocess.Popen([sys.executable, "-c", spin, str(os.getpid())])
        for _ in range(os.cpu_count() or 1)
    ]


def stop(loops: list[subprocess.Popen[bytes]]) -> None:
    for loop in loops:
        loop.kill()
        loop.wait()


def beside_busy_loops(rounds: int) -> list[str]:
    """One compose alone and beside busy loops, and the long tunes beside them: table rows."""
    alone, beside, long_tunes, loads = [], [], [], []
    failed = 0
    long_commands = [COMMAND[:4] + options for options in LONG_TUNES]
    for _ in range(rounds):
        loads.append(os.getloadavg()[0])
        alone.append(one_after_another(1))
        loops = busy_loops()
        try:
            beside.append(one_after_another(1))
            slowest, _, failures = at_once(len(long_commands), long_commands)
            long_tunes.append(slowest)
            failed += failures
        finally:
            stop(loops)
    return [
        "| busy loops | alone, s | beside the loops, s | beside / alone "
        "| long tunes beside the loops, slowest s | load (1 min) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {os.cpu_count()} | {statistics.median(alone):.1f} | {statistics.median(beside):.1f} "
        f"| {statistics.median(beside) / statistics.median(alone):.2f} "
        f"| {statistics.median(long_tunes):.1f}{f' ({failed} failed)' if failed else ''} "
        f"| {statistics.median(loads):.1f} |",
    ]


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
            finished, times, failures = at_once(count)
            if failures:
                raise RuntimeError(f"{failures} of {count} at once failed: {' '.join(COMMAND)}")
            last.append(finished)
            each.extend(times)
        ratio = statistics.median(last) / statistics.median(sequence)
        rows.append(
            f"| {count} | {statistics.median(each):.1f} | {statistics.median(last):.1f} "
            f"| {statistics.median(sequence):.1f} | {ratio:.2f} "
            f"| {statistics.median(loads):.1f} |"
        )
    rows += ["", *beside_busy_loops(rounds)]
    return "\n".join(rows)


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS))
