"""compose_many: bounded concurrency, results in input order, failures kept in their slot.

Against the scripted OpenAI-compatible server over real HTTP (keep-alive, like real
servers), with OpenAIBackend's async path and a user's sync client run in threads.
"""

from __future__ import annotations

import re
from typing import Any

import openai
import pytest

from midi_checks import assert_midi_keeps_the_request
from scripted_server import ScriptedServer, Step, answer, status
from tunesmith import (
    BackendError,
    ComposeRequest,
    Composition,
    OpenAIBackend,
    RequestError,
    TunesmithError,
    compose_many,
)

NOTES = ["A", "B", "C#", "F#", "G"]
GOOD = "A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. |"
ALSO_GOOD = "A4:h. | A5:h. |"
OFF_KEY = "A4:e B4:e D5:e F#5:q. | G5:q. A5:q. |"  # D5 is not allowed: repaired


def requests(count: int) -> list[ComposeRequest]:
    return [
        ComposeRequest(notes=NOTES, meter="6/8", bars=2, low="A4", high="A5", title=f"tune {i}")
        for i in range(count)
    ]


def number(body: dict[str, Any]) -> int:
    """Which request this is, from the title in the task message."""
    first_task = next(m["content"] for m in body["messages"] if m["role"] == "user")
    found = re.search(r'titled "tune (\d+)"', first_task)
    assert found is not None
    return int(found.group(1))


def backend(server: ScriptedServer, **options: Any) -> OpenAIBackend:
    settings: dict[str, Any] = {"timeout": 2.0, "deadline": 5.0, "grammar": "none"}
    made = OpenAIBackend("scripted", base_url=server.base_url, api_key="x", **settings | options)
    return server.closing(made)


def test_results_keep_the_input_order_when_later_requests_finish_first() -> None:
    finished: list[int] = []
    with ScriptedServer(
        default=lambda body: answer(GOOD if number(body) % 2 else ALSO_GOOD),
        delay=lambda body: 0.05 * (8 - number(body)),  # the first request is the slowest
    ) as server:
        results = compose_many(
            requests(8),
            backend=backend(server),
            concurrency=8,
            on_result=lambda index, _: finished.append(index),
        )
    assert finished != sorted(finished)
    assert sorted(finished) == list(range(8))
    for index, result in enumerate(results):
        assert isinstance(result, Composition)
        assert result.request.title == f"tune {index}"
        assert result.text == (GOOD if index % 2 else ALSO_GOOD)


def test_twenty_requests_at_most_four_at_a_time_with_failures_in_their_slots() -> None:
    def step(body: dict[str, Any]) -> Step:
        index = number(body)
        if index % 5 == 3:
            return status(400, "refused")  # permanent: a BackendError in its slot
        if index % 5 == 4:
            return answer(OFF_KEY)  # wrong notes: fed back, then repaired
        return answer(GOOD)

    with ScriptedServer(default=step, delay=0.05) as server:
        results = compose_many(requests(20), backend=backend(server), concurrency=4)
    assert len(results) == 20
    assert 2 <= server.most_in_flight <= 4
    for index, result in enumerate(results):
        if index % 5 == 3:
            assert isinstance(result, BackendError)
            assert "HTTP 400" in str(result)
        else:
            assert isinstance(result, Composition)
            assert result.request.title == f"tune {index}"
            assert_midi_keeps_the_request(result)
    assert len(server.requests) == 4 * 1 + 4 * 3 + 12  # 400s once; off-key asked 3 times


def test_a_request_that_needs_retries_does_not_hold_up_the_others() -> None:
    seen: set[int] = set()

    def step(body: dict[str, Any]) -> Step:
        index = number(body)
        if index == 0 and index not in seen:
            seen.add(index)
            return status(503, "busy", {"Retry-After": "1"})
        return answer(GOOD)

    finished: list[int] = []
    with ScriptedServer(default=step) as server:
        results = compose_many(
            requests(6),
            backend=backend(server),
            concurrency=3,
            on_result=lambda index, _: finished.append(index),
        )
    assert all(isinstance(result, Composition) for result in results)
    assert finished[-1] == 0
    assert len(server.requests) == 7


def test_one_backend_serves_batch_after_batch() -> None:
    # each compose_many runs its own event loop; connections must not outlive it
    with ScriptedServer(default=answer(GOOD)) as server:
        chosen = backend(server)
        for _ in range(3):
            results = compose_many(requests(4), backend=chosen, concurrency=2)
            assert all(isinstance(result, Composition) for result in results)
    assert len(server.requests) == 12


def test_a_users_sync_client_is_used_in_threads_and_stays_bounded() -> None:
    with (
        ScriptedServer(default=answer(GOOD), delay=0.05) as server,
        openai.OpenAI(base_url=server.base_url, api_key="x") as client,
    ):
        chosen = OpenAIBackend.from_client(client, model="mine")
        results = compose_many(requests(8), backend=chosen, concurrency=3)
    assert all(isinstance(result, Composition) for result in results)
    assert {body["model"] for body in server.requests} == {"mine"}
    assert server.most_in_flight <= 3


def test_an_async_client_from_an_ended_loop_is_a_clear_error_in_each_slot() -> None:
    with ScriptedServer(default=answer(GOOD)) as server:
        no_keep_alive = openai.DefaultAsyncHttpxClient(
            limits=type(openai.DEFAULT_CONNECTION_LIMITS)(max_keepalive_connections=0)
        )  # so that nothing is left open when compose_many's loop ends
        client = openai.AsyncOpenAI(
            base_url=server.base_url, api_key="x", http_client=no_keep_alive
        )
        chosen = OpenAIBackend.from_client(client, model="mine")
        first = compose_many(requests(1), backend=chosen)
        again = compose_many(requests(2), backend=chosen)
    assert isinstance(first[0], Composition)
    assert all(isinstance(result, RequestError) for result in again)
    assert "first used in an event loop that has ended" in str(again[0])


def test_concurrency_must_be_at_least_one() -> None:
    with pytest.raises(RequestError, match=r"concurrency must be at least 1 \(received 0\)"):
        compose_many(requests(1), backend=OpenAIBackend("m", base_url="http://x/v1"), concurrency=0)


def test_every_slot_holds_a_composition_or_a_tunesmith_error() -> None:
    with ScriptedServer(default=lambda body: answer(GOOD if number(body) else "")) as server:
        results = compose_many(requests(3), backend=backend(server), max_attempts=1)
    assert all(isinstance(result, Composition | TunesmithError) for result in results)
    assert isinstance(results[0], TunesmithError)  # nothing parseable: CompositionError


def test_words_are_a_request_as_compose_takes_them() -> None:
    with ScriptedServer(default=lambda body: answer(GOOD)) as server:
        words = 'a tune in 6/8 on the notes A B C# F# G, 2 bars, titled "tune 1"'
        results = compose_many([requests(1)[0], words], backend=backend(server))
    assert all(isinstance(result, Composition) for result in results)
    asked = [result.request for result in results if isinstance(result, Composition)]
    assert [(r.meter, r.bars, r.notes) for r in asked] == [("6/8", 2, tuple(NOTES))] * 2


def test_something_else_than_a_request_is_named_by_its_place() -> None:
    with pytest.raises(TunesmithError, match=r"requests\[1\] must be a ComposeRequest, a dict"):
        compose_many([requests(1)[0], 42], backend=OpenAIBackend("m", base_url="http://x/v1"))  # type: ignore[list-item]
