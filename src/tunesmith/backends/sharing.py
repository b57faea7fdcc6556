"""Sharing the machine: one tune at a time per process, and llama.cpp's threads from the load.

llama.cpp runs a tune on several threads that meet at a barrier after each step of the
model's graph, and a thread that arrives first spins there. Where another process wants a
core too (another compose, a model, a test suite), the thread it waits for has often lost
its core, and every step waits a time slice: on two cores, two ``tunesmith compose`` at
once, each on both cores, took 26 to 133 s each against 3.5 s alone
(``docs/benchmarks.md``). So each tune gets the threads no other task is using at the
moment it starts: every core on an idle machine, one on a busy one, which never waits at a
barrier. Composes in several processes then share the cores about as well as they would
one after another.

Within a process, one tune at a time uses the model (a llama.cpp context is not safe to
share between threads): :func:`held`. The seconds a request waits for it there are the
caller's to leave out of its deadline (:class:`~tunesmith.backends.local.LocalBackend` does).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["held", "threads_for_now"]

logger = logging.getLogger(__name__)
_model = threading.Lock()
_LOOKS = 5
"""Times the running tasks are counted before a tune, the most kept (a busy loop is
sometimes between time slices; a wrong guess of idle costs far more than one of busy)."""
_LOADAVG = Path("/proc/loadavg")


@contextlib.contextmanager
def held() -> Iterator[float]:
    """Hold this process's model (waiting while another thread holds it); yields the wait."""
    started = time.monotonic()
    with _model:
        waited = time.monotonic() - started
        if waited > 0.1:
            logger.info("waited %.1f s for the embedded model (another tune held it)", waited)
        yield waited


def threads_for_now(most: int) -> int:
    """Threads for llama.cpp now: one for each core no other task is running on.

    At least one and at most ``most``; ``most`` where the running tasks cannot be counted
    (``/proc/loadavg``, Linux).
    """
    running = 0
    for look in range(_LOOKS):
        if look:
            time.sleep(0.002)
        try:
            running = max(running, int(_LOADAVG.read_text().split()[3].split("/")[0]))
        except (OSError, ValueError, IndexError):
            return most
    others = running - 1  # the thread counting
    return max(1, min(most, (os.cpu_count() or 1) - others))
