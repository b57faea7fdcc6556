"""Composing beside other work (issue 20): threads from the load, one tune at a time a process.

A tune gets a llama.cpp thread for each core no other task is running on, so composes in
several processes share the cores rather than spinning at barriers against each other
(:mod:`tunesmith.backends.sharing`); within a process the model is held by one tune at a
time, and the time a request waits for it is not counted against its deadline; the same
seed gives the same tune alone, beside other threads and beside other processes. How fast
this is, is measured by ``bench/concurrency.py``, not here.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tunesmith import compose
from tunesmith.backends import sharing
from tunesmith.backends.local import LocalBackend
from tunesmith.decoding.model_context import llama_api
from tunesmith.decoding.segments import SamplerSettings

JIG: dict[str, Any] = {"style": "jig", "key": "D", "seed": 5, "bars": 8}
CORES = os.cpu_count() or 1


@pytest.fixture
def busy_machine() -> Iterator[None]:
    """A process spinning on every core (each ends with the tests, if they are killed)."""
    spin = "import os, sys\nprint(flush=True)\nwhile os.getppid() == int(sys.argv[1]): pass"
    loops = [
        subprocess.Popen([sys.executable, "-c", spin, str(os.getpid())], stdout=subprocess.PIPE)
        for _ in range(CORES)
    ]
    try:
        for loop in loops:
            assert loop.stdout is not None
            loop.stdout.readline()  # spinning from here on
        yield
    finally:
        for loop in loops:
            loop.kill()
            loop.communicate()


def write_threads(backend: LocalBackend, monkeypatch: pytest.MonkeyPatch) -> int:
    """The threads ``backend`` sets its llama.cpp context to for a tune."""
    decoder = backend.decoder()
    seen: list[int] = []

    def run(*_: object, **__: object) -> list[object]:
        seen.append(int(llama_api().llama_n_threads(decoder.context.ctx)))
        return []

    monkeypatch.setattr(decoder, "run", run)
    backend.write("X:1\n", "K:D\n", [], seed=1, settings=SamplerSettings(), deadline=None)
    return seen[0]


def test_threads_composing_at_once_hold_the_model_one_at_a_time() -> None:
    log: list[str] = []
    start = threading.Barrier(4)

    def hold(name: str) -> None:
        start.wait()
        with sharing.held():
            log.append(f"in {name}")
            time.sleep(0.02)
            log.append(f"out {name}")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(hold, "abcd"))
    went_in, came_out = log[::2], log[1::2]
    assert [line.replace("in", "out") for line in went_in] == came_out
    assert sorted(went_in) == ["in a", "in b", "in c", "in d"]


def test_a_wait_for_the_model_is_measured_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tunesmith.backends.sharing")

    def take() -> float:
        with sharing.held() as waited:
            return waited

    with ThreadPoolExecutor(1) as pool:
        with sharing.held() as waited_first:
            taking = pool.submit(take)
            time.sleep(0.3)
        assert waited_first < 0.3
        assert taking.result(timeout=60) > 0.1
    assert caplog.messages[-1].startswith("waited ")
    assert caplog.messages[-1].endswith("s for the embedded model (another tune held it)")


def test_a_machine_busy_on_every_core_gets_one_thread(busy_machine: None) -> None:
    assert sharing.threads_for_now(CORES) == 1


def test_threads_are_at_least_one_and_at_most_those_allowed() -> None:
    assert sharing.threads_for_now(1) == 1
    assert 1 <= sharing.threads_for_now(64) <= CORES


@pytest.mark.model
def test_a_tune_on_a_busy_machine_runs_on_one_thread(
    busy_machine: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert write_threads(LocalBackend(), monkeypatch) == 1


@pytest.mark.model
def test_threads_given_are_kept_whatever_the_load(
    busy_machine: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert write_threads(LocalBackend(n_threads=CORES), monkeypatch) == CORES


@pytest.mark.model
def test_a_waiting_request_does_not_count_the_wait_against_its_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend = LocalBackend()
    decoder = backend.decoder()
    seen: list[float | None] = []

    def run(*_: object, deadline: float | None, **__: object) -> list[object]:
        seen.append(deadline)
        return []

    monkeypatch.setattr(decoder, "run", run)
    with ThreadPoolExecutor(1) as pool, sharing.held():
        deadline = time.monotonic() + 1
        writing = pool.submit(
            backend.write,
            "X:1\n",
            "K:D\n",
            [],
            seed=1,
            settings=SamplerSettings(),
            deadline=deadline,
        )
        time.sleep(2)  # the request's whole time passes while another tune holds the model
        handed_over = time.monotonic()
    assert writing.result(timeout=60) == []
    [moved] = seen
    assert moved is not None
    assert moved > handed_over  # the decoder starts with time left


@pytest.mark.model
def test_the_same_seed_gives_the_same_tune_alone_and_beside_others() -> None:
    alone = compose(**JIG).text
    with ThreadPoolExecutor(2) as pool:
        threads = list(pool.map(lambda _: compose(**JIG).text, range(2)))
    command = [sys.executable, "-m", "tunesmith.app.cli", "compose"]
    command += ["--style", "jig", "--key", "D", "--seed", "5", "--bars", "8"]
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    printed = [process.communicate(timeout=600)[0].strip() for process in processes]
    assert threads == [alone, alone]
    assert printed == [alone.strip()] * 3
