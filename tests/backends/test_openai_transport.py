"""How one completion travels (backends/openai_transport.py's ``Call``), over real HTTP.

The real ``openai`` SDK against the scripted server: how long tunesmith waits between
attempts, what bounds one attempt, where the answer is read, and what the error says once
the attempts or the deadline are spent. The faults themselves (which failures are retried,
which are not) are in ``test_backend_openai.py``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import openai
import pytest
import tenacity

from scripted_server import ScriptedServer, Step, answer, completion, drip, status
from tunesmith import (
    BackendError,
    ComposeRequest,
    Composition,
    OpenAIBackend,
    compose,
    compose_async,
)
from tunesmith.backends.openai_transport import BODY_ENVELOPE, BYTES_PER_TOKEN, Call

GOOD = "A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. |"
REQUEST = ComposeRequest(
    notes=["A", "B", "C#", "F#", "G"], meter="6/8", bars=2, low="A4", high="A5", seed=1
)
SERVER = r"the server at http://127\.0\.0\.1:\d+/v1"
HINT = "the server may be overloaded or down; try again later, or raise deadline= or max_attempts="


def backend(server: ScriptedServer, **options: object) -> OpenAIBackend:
    settings: dict[str, object] = {"timeout": 0.5, "deadline": 5.0, "grammar": "none"}
    settings.update(options)
    made = OpenAIBackend("scripted", base_url=server.base_url, api_key="x", **settings)  # type: ignore[arg-type]
    return server.closing(made)


def waits_before(attempt: int, times: int = 200) -> list[float]:
    """The waits tunesmith's retry policy picks after a failed ``attempt`` (no Retry-After)."""
    call = Call(
        timeout=1.0,
        max_attempts=20,
        deadline=600.0,
        max_tokens=1,
        where="",
        classify=lambda error: error,
    )
    policy = call.retrying()
    state = tenacity.RetryCallState(tenacity.Retrying(**policy), None, (), {})
    state.attempt_number = attempt
    return [policy["wait"](state) for _ in range(times)]


# Waiting between attempts


def test_the_wait_doubles_from_a_quarter_second_with_up_to_a_quarter_second_of_jitter() -> None:
    for attempt, base in [(1, 0.25), (2, 0.5), (3, 1.0), (5, 4.0)]:
        waits = waits_before(attempt)
        assert all(base <= wait <= base + 0.25 for wait in waits), (attempt, max(waits))
        assert len(set(waits)) > 1  # jittered: clients retrying together spread out


def test_the_wait_between_attempts_is_never_longer_than_8_seconds() -> None:
    assert set(waits_before(6) + waits_before(10) + waits_before(60)) == {8.0}


def test_each_retry_is_logged_with_its_attempt_failure_and_wait(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="tunesmith.backends.openai")
    with ScriptedServer([status(500, "boom"), answer(GOOD)]) as server:
        compose(REQUEST, backend=backend(server))
    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 1
    assert re.fullmatch(
        r"attempt 1 failed \(HTTP 500 at http://127\.0\.0\.1:\d+/v1: .*boom.*\); "
        r"retrying in 0\.(2[5-9]|[34]\d|50) s",
        retries[0],
    ), retries[0]


# What bounds one attempt


def test_the_answer_is_read_in_a_daemon_thread_named_for_tunesmith() -> None:
    # a daemon: a reader left behind at the deadline never keeps Python from exiting
    threads: dict[str, bool] = {}

    def note_threads(_: object) -> float:  # runs while the request is being read
        threads.update({thread.name: thread.daemon for thread in threading.enumerate()})
        return 0.0

    with ScriptedServer(default=answer(GOOD), delay=note_threads) as server:
        compose(REQUEST, backend=backend(server))
    assert threads.get("tunesmith-openai") is True


def test_timeout_cuts_each_attempt_even_on_a_users_client_that_allows_longer() -> None:
    with (
        ScriptedServer([("hang", 3.0), answer(GOOD)]) as server,
        openai.OpenAI(base_url=server.base_url, api_key="x", timeout=60.0) as client,
    ):
        chosen = OpenAIBackend.from_client(client, model="s", timeout=0.5, deadline=10.0)
        started = time.perf_counter()
        composition = compose(REQUEST, backend=chosen)
    assert composition.text == GOOD
    assert time.perf_counter() - started < 2.5  # retried after 0.5 s, not after the 3 s hang
    assert len(server.requests) == 2


def test_timeout_cuts_each_attempt_even_on_a_users_async_client_that_allows_longer() -> None:
    async def compose_with_my_client(base_url: str) -> Composition:
        async with openai.AsyncOpenAI(base_url=base_url, api_key="x", timeout=60.0) as client:
            chosen = OpenAIBackend.from_client(client, model="s", timeout=0.5, deadline=10.0)
            return await compose_async(REQUEST, backend=chosen)

    with ScriptedServer([("hang", 3.0), answer(GOOD)]) as server:
        started = time.perf_counter()
        composition = asyncio.run(compose_with_my_client(server.base_url))
    assert composition.text == GOOD
    assert time.perf_counter() - started < 2.5
    assert len(server.requests) == 2


@pytest.mark.parametrize("compose_in", ["sync", "asyncio"])
def test_an_attempt_that_starts_near_the_deadline_gets_only_what_is_left_of_it(
    compose_in: str,
) -> None:
    # the deadline bounds the whole call: 2.2 s spent waiting as asked leaves 0.3 s
    arrivals: list[float] = []

    def note_arrival(_: object) -> float:
        arrivals.append(time.perf_counter())
        return 0.0

    wait = status(429, "slow down", {"retry-after-ms": "2200"})
    with ScriptedServer([wait], default=drip(GOOD, 0.3), delay=note_arrival) as server:
        chosen = backend(server, timeout=60.0, deadline=2.5)
        run: Callable[[], object] = {
            "sync": lambda: compose(REQUEST, backend=chosen),
            "asyncio": lambda: asyncio.run(compose_async(REQUEST, backend=chosen)),
        }[compose_in]
        with pytest.raises(
            BackendError, match=r"gave up after 2 attempts .*did not answer in time"
        ):
            run()
        ended = time.perf_counter()
    assert len(arrivals) == 2
    assert ended - arrivals[1] < 0.7


@pytest.mark.parametrize("compose_in", ["sync", "asyncio"])
def test_an_answer_cut_at_the_deadline_names_the_server(compose_in: str) -> None:
    with ScriptedServer(default=drip(GOOD, 0.3)) as server:
        chosen = backend(server, timeout=60.0, deadline=1.0)
        run: Callable[[], object] = {
            "sync": lambda: compose(REQUEST, backend=chosen),
            "asyncio": lambda: asyncio.run(compose_async(REQUEST, backend=chosen)),
        }[compose_in]
        with pytest.raises(BackendError, match=rf"{SERVER} did not answer in time"):
            run()


def test_an_answer_longer_than_max_tokens_allows_names_the_server_and_the_limit() -> None:
    with (
        ScriptedServer(default=answer("A4:e " * 400_000)) as server,
        pytest.raises(BackendError) as caught,
    ):
        compose(REQUEST, backend=backend(server))
    found = re.search(
        rf"the answer from {SERVER} is longer than (\d+) bytes, "
        r"more than max_tokens=(\d+) can hold",
        str(caught.value),
    )
    assert found, str(caught.value)
    limit, max_tokens = int(found[1]), int(found[2])
    assert limit == BODY_ENVELOPE + BYTES_PER_TOKEN * max_tokens
    hint = "check the server's settings (it must honour max_tokens), or try another model"
    assert caught.value.hint == hint
    assert str(caught.value).endswith(f"can hold: the server did not stop at max_tokens. {hint}")
    assert not caught.value.retryable


@pytest.mark.parametrize(("extra", "read"), [(0, True), (1, False)], ids=["at-limit", "over"])
def test_an_answer_as_long_as_max_tokens_allows_is_read_and_one_byte_more_is_not(
    extra: int, read: bool
) -> None:
    def as_long_as_allowed(request: dict[str, Any]) -> Step:
        limit = BODY_ENVELOPE + BYTES_PER_TOKEN * int(request["max_tokens"])
        message = {"role": "assistant", "content": GOOD}
        short = completion(message=message, padding="")[1]
        return completion(message=message, padding="x" * (limit + extra - len(short)))

    with ScriptedServer(default=as_long_as_allowed) as server:
        if read:
            assert compose(REQUEST, backend=backend(server)).text == GOOD
        else:
            with pytest.raises(BackendError, match=r"is longer than \d+ bytes"):
                compose(REQUEST, backend=backend(server))
    assert len(server.requests) == 1


# Giving up


def test_giving_up_says_how_many_attempts_how_long_the_last_failure_and_what_to_do() -> None:
    with ScriptedServer(default=status(503, "busy")) as server:
        started = time.perf_counter()
        with pytest.raises(BackendError) as caught:
            compose(REQUEST, backend=backend(server, max_attempts=3))
        elapsed = time.perf_counter() - started
    found = re.match(r"gave up after 3 attempts in (\d+\.\d) s: HTTP 503 at ", str(caught.value))
    assert found, str(caught.value)
    assert 0.7 <= float(found[1]) <= elapsed + 0.05  # two waits: 0.25 s and 0.5 s at least
    assert "busy" in str(caught.value)
    assert "past the deadline" not in str(caught.value)
    assert caught.value.retryable
    assert caught.value.hint == HINT
    assert str(caught.value).endswith(f". {HINT}")


def test_a_retry_after_past_the_deadline_is_named_after_the_servers_failure() -> None:
    with (
        ScriptedServer(default=status(429, "slow down", {"Retry-After": "30"})) as server,
        pytest.raises(BackendError) as caught,
    ):
        compose(REQUEST, backend=backend(server, deadline=5.0))
    assert re.match(
        r"gave up after 1 attempt in \d+\.\d s: HTTP 429 at .*slow down.* "
        r"\(asked to wait 30 s, past the deadline\)\. ",
        str(caught.value),
    ), str(caught.value)


def test_a_retry_after_within_the_deadline_is_not_blamed_for_giving_up() -> None:
    with (
        ScriptedServer(default=status(429, "slow down", {"Retry-After": "1"})) as server,
        pytest.raises(BackendError, match=r"gave up after 2 attempts") as caught,
    ):
        compose(REQUEST, backend=backend(server, max_attempts=2, deadline=5.0))
    assert "past the deadline" not in str(caught.value)
    assert len(server.requests) == 2
