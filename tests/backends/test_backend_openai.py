"""OpenAIBackend over real HTTP with the real openai SDK, against a scripted server.

The scripted server plays the faults real servers show now and then (rate limits, errors,
hangs, garbage, truncation, empty answers, refused keys); each test says what tunesmith
does about one of them. The real server (llama-cpp-python's) is in
``test_backend_llama_server.py``.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import get_args

import openai
import pytest

from cli_process import tunesmith
from midi_checks import assert_midi_keeps_the_request
from scripted_server import ScriptedServer, Step, answer, completion, drip, status, tool_call
from tunesmith import (
    BackendError,
    ComposeRequest,
    Composition,
    CompositionError,
    OpenAIBackend,
    RequestError,
    RequestTypeError,
    compose,
    compose_async,
    compose_many,
)
from tunesmith.backends.openai import GrammarMode
from tunesmith.pipeline.compose import backend_from_options
from tunesmith.writing.grammar import gbnf_to_lark
from tunesmith.writing.script import grammar_for

NOTES = ["A", "B", "C#", "F#", "G"]
GOOD = "A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. |"
REQUEST = ComposeRequest(notes=NOTES, meter="6/8", bars=2, low="A4", high="A5", seed=1)
KEY = "sk-test-secret-0123456789"


def backend(server: ScriptedServer, **options: object) -> OpenAIBackend:
    settings: dict[str, object] = {"timeout": 0.5, "deadline": 5.0, "grammar": "none"}
    settings.update(options)
    made = OpenAIBackend("scripted", base_url=server.base_url, api_key=KEY, **settings)  # type: ignore[arg-type]
    return server.closing(made)


# Transient failures: retried, and the tune arrives


@pytest.mark.parametrize(
    "first",
    [
        status(408, "request timeout"),
        status(409, "conflict"),
        status(429, "slow down", {"Retry-After": "0"}),
        status(500, "boom"),
        status(503, "overloaded"),
        ("hang", 1.5),
        ("no_choices",),
        ("garbage", "<html>502 Bad Gateway</html>"),
    ],
    ids=["408", "409", "429", "500", "503", "hang-past-timeout", "no-choices", "non-json-body"],
)
def test_a_transient_failure_is_retried_and_the_tune_arrives(first: Step) -> None:
    with ScriptedServer([first, answer(GOOD)]) as server:
        composition = compose(REQUEST, backend=backend(server))
    assert composition.text == GOOD
    assert len(server.requests) == 2
    assert composition.report.attempts[0].completion_tokens == 7  # usage from the response
    assert composition.report.prompt_tokens == 11


def test_every_fault_in_turn_still_gives_a_valid_tune_then_a_typed_error() -> None:
    script = [
        status(429, "slow down", {"Retry-After": "0"}),
        status(500, "boom"),
        ("hang", 1.0),
        answer("Here is a lovely jig for you!"),  # attempt 1: not notation
        answer("A4:e D5:e C#5:e F#5:q. E5:e | G5:q. C5:q |"),  # 2: wrong pitches and meter
        answer("A4:e B4:e C#5:e F#5:q. | G5:e", "length"),  # 3: cut off
        ("no_choices",),
        status(401, f"bad key {KEY}"),
    ]
    with ScriptedServer(script) as server:
        chosen = backend(server)
        composition = compose(REQUEST, backend=chosen, max_attempts=3)
        assert len(server.requests) == 6
        assert_midi_keeps_the_request(composition)
        assert [a.finish_reason for a in composition.report.attempts] == ["stop", "stop", "length"]
        started = time.perf_counter()
        with pytest.raises(BackendError, match=r"refused the API key \(HTTP 401\)") as caught:
            compose(REQUEST, backend=chosen)
    assert time.perf_counter() - started < 5.0
    assert len(server.requests) == 8
    assert not caught.value.retryable
    assert KEY not in str(caught.value)


@pytest.mark.parametrize(
    "header", [{"Retry-After": "1"}, {"retry-after-ms": "1000"}], ids=["seconds", "milliseconds"]
)
def test_retry_after_is_honoured(header: dict[str, str]) -> None:
    with ScriptedServer([status(429, "slow down", header), answer(GOOD)]) as server:
        started = time.perf_counter()
        compose(REQUEST, backend=backend(server))
    assert time.perf_counter() - started >= 1.0


def test_a_retry_after_past_the_deadline_gives_up_at_once() -> None:
    with ScriptedServer(default=status(429, "slow down", {"Retry-After": "30"})) as server:
        started = time.perf_counter()
        with pytest.raises(BackendError, match=r"asked to wait 30 s, past the deadline"):
            compose(REQUEST, backend=backend(server, deadline=5.0))
    assert time.perf_counter() - started < 4.0  # gave up at once, not after the 30 s wait
    assert len(server.requests) == 1


def test_a_server_that_keeps_failing_is_given_up_within_the_deadline() -> None:
    with ScriptedServer(default=status(500, "down")) as server:
        started = time.perf_counter()
        with pytest.raises(BackendError, match=r"gave up after \d+ attempts in .* HTTP 500") as e:
            compose(REQUEST, backend=backend(server, deadline=1.5, max_attempts=50))
    # generous slack: the bound proves the deadline holds, not how fast a loaded machine is
    assert time.perf_counter() - started < 1.5 + 2.5
    assert e.value.retryable
    assert len(server.requests) >= 2


def test_a_hang_longer_than_the_deadline_is_cut_at_the_deadline() -> None:
    with ScriptedServer(default=("hang", 5.0)) as server:
        started = time.perf_counter()
        with pytest.raises(BackendError, match="did not answer in time"):
            compose(REQUEST, backend=backend(server, timeout=60.0, deadline=1.0))
    assert time.perf_counter() - started < 1.0 + 2.5  # cut well before the 5 s hang ends


def test_attempts_are_bounded() -> None:
    with (
        ScriptedServer(default=status(503, "busy")) as server,
        pytest.raises(BackendError, match=r"gave up after 3 attempts"),
    ):
        compose(REQUEST, backend=backend(server, max_attempts=3))
    assert len(server.requests) == 3


def test_an_unreachable_server_is_a_backend_error_naming_it() -> None:
    with ScriptedServer() as server:
        url = server.base_url
    chosen = OpenAIBackend("m", base_url=url, timeout=0.5, deadline=1.0, grammar="none")
    with chosen, pytest.raises(BackendError, match=r"cannot reach the server at http://127.0.0.1"):
        compose(REQUEST, backend=chosen)


# Permanent failures: at once, typed, saying what to fix


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (400, r"HTTP 400 .*bad request.*check model="),
        (401, r"refused the API key \(HTTP 401\)\. check OPENAI_API_KEY"),
        (403, r"HTTP 403 .*may not use this model"),
        (404, r"HTTP 404 .*model 'scripted'.*base_url ends in /v1"),
        (422, r"HTTP 422 .*bad request"),
    ],
)
def test_a_permanent_failure_fails_at_once_saying_what_to_fix(code: int, message: str) -> None:
    with (
        ScriptedServer(default=status(code, f"bad request from {KEY}")) as server,
        pytest.raises(BackendError, match=message) as caught,
    ):
        compose(REQUEST, backend=backend(server))
    assert len(server.requests) == 1
    assert not caught.value.retryable
    assert KEY not in str(caught.value)


def test_a_refused_grammar_suggests_sending_none() -> None:
    with (
        ScriptedServer(default=status(400, "grammar parse error"), owned_by="llamacpp") as server,
        pytest.raises(BackendError, match=r"may not take the grammar .*try grammar='none'"),
    ):
        compose(REQUEST, backend=backend(server, grammar="auto"))


@pytest.mark.parametrize(
    ("param", "code_name", "missing", "present"),
    [
        ("temperature", "unsupported_value", "temperature", "max_tokens"),
        ("max_tokens", "unsupported_parameter", "max_tokens", "max_completion_tokens"),
        ("seed", "unsupported_parameter", "seed", "temperature"),
    ],
)
def test_a_parameter_the_model_refuses_is_dropped_once_and_remembered(
    param: str, code_name: str, missing: str, present: str
) -> None:
    refusal = status(400, f"Unsupported: '{param}'", code_name=code_name, param=param)
    with ScriptedServer([refusal], default=answer(GOOD)) as server:
        chosen = backend(server)
        compose(REQUEST, backend=chosen)
        compose(REQUEST, backend=chosen)
    assert param in server.requests[0]
    assert [missing in body for body in server.requests[1:]] == [False, False]
    assert all(present in body for body in server.requests[1:])


def test_a_refused_parameter_that_cannot_be_dropped_is_a_permanent_error() -> None:
    refusal = status(400, "Unsupported: 'messages'", code_name="unsupported_value", param="x")
    with ScriptedServer(default=refusal) as server, pytest.raises(BackendError, match="HTTP 400"):
        compose(REQUEST, backend=backend(server))
    assert len(server.requests) == 1


# The API key


def test_the_api_key_never_appears_in_errors_reports_logs_or_repr(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    script = [status(500, f"key {KEY} leaked"), status(502, f"again {KEY}"), answer(GOOD)]
    with ScriptedServer(script) as server:
        chosen = backend(server)
        composition = compose(REQUEST, backend=chosen)
    assert "retrying" in caplog.text
    assert KEY not in caplog.text
    assert KEY not in composition.report.model_dump_json()
    assert KEY not in str(composition.report)
    assert KEY not in repr(chosen)


# Self-correction: what the model wrote goes back with feedback, then repair


def test_garbage_is_sent_back_with_feedback_and_the_second_answer_is_taken() -> None:
    with ScriptedServer([answer("I love music!"), answer(GOOD)]) as server:
        composition = compose(REQUEST, backend=backend(server))
    assert composition.text == GOOD
    retry = server.requests[1]["messages"]
    assert retry[-2] == {"role": "assistant", "content": "I love music!"}
    assert "Your answer broke these rules" in retry[-1]["content"]
    assert "not tunesmith notation" in retry[-1]["content"]


def test_an_empty_answer_is_an_answer_with_no_notes_and_gets_feedback() -> None:
    with ScriptedServer([answer(""), answer(GOOD)]) as server:
        composition = compose(REQUEST, backend=backend(server))
    assert composition.report.attempts[0].text == ""
    assert "not tunesmith notation" in composition.report.attempts[0].problems[0]
    assert composition.text == GOOD


def test_notes_that_break_the_pitch_set_and_the_meter_are_repaired_after_feedback() -> None:
    bad = "A4:e D5:e C#5:e F#5:q. E5:e | G5:q. C5:q |"
    with ScriptedServer(default=answer(bad)) as server:
        composition = compose(REQUEST, backend=backend(server), max_attempts=2)
    assert len(server.requests) == 2
    assert_midi_keeps_the_request(composition)
    assert {"pitch", "bar_length"} <= {v.kind for v in composition.report.violations}
    assert "bar 1, beat 1.333: pitch D5" in server.requests[1]["messages"][-1]["content"]


def test_truncated_output_is_reported_and_retried() -> None:
    with ScriptedServer([answer("A4:e B4:e C#5:e F#5:q. | G5:", "length"), answer(GOOD)]) as server:
        composition = compose(REQUEST, backend=backend(server))
    first = composition.report.attempts[0]
    assert first.finish_reason == "length"
    assert "cut off" in first.problems[0]
    assert composition.text == GOOD


def test_strict_mode_raises_when_every_answer_breaks_a_constraint() -> None:
    wrong = answer("A4:e B4:e D5:e F#5:q. | G5:q. A5:q. |")
    with ScriptedServer(default=wrong) as server, pytest.raises(CompositionError, match="strict"):
        compose(REQUEST, backend=backend(server), strict=True, max_attempts=2)
    assert len(server.requests) == 2


# Grammar modes


@pytest.mark.parametrize(
    ("owned_by", "version", "mode", "field"),
    [
        ("vllm", "0.12.1", "vllm", "structured_outputs"),
        ("vllm", None, "vllm", "structured_outputs"),
        ("vllm", "0.8.5", "vllm-legacy", "guided_grammar"),
        ("sglang", None, "sglang", "ebnf"),
        ("llamacpp", None, "llama.cpp", "grammar"),
        ("me", None, "llama.cpp", "grammar"),
        ("openai", None, "none", None),
    ],
    ids=[
        "vllm",
        "vllm-unknown-version",
        "vllm-0.8",
        "sglang",
        "llama.cpp",
        "llama-cpp-python",
        "other",
    ],
)
def test_auto_grammar_mode_follows_the_server_and_sends_the_grammar(
    owned_by: str, version: str | None, mode: str, field: str | None
) -> None:
    with ScriptedServer(default=answer(GOOD), owned_by=owned_by, version=version) as server:
        chosen = backend(server, grammar="auto")
        composition = compose(REQUEST, backend=chosen)
    assert chosen.grammar_mode == mode
    assert composition.report.constrained == (field is not None)
    body = server.requests[0]
    fields = {"grammar", "structured_outputs", "guided_grammar", "ebnf", "tools"}
    assert fields & set(body) == ({field} if field else set())
    if field is not None:
        grammar = body[field]["grammar"] if field == "structured_outputs" else body[field]
        assert grammar == grammar_for(REQUEST)


def test_the_openai_mode_sends_a_lark_grammar_tool_and_reads_the_tool_call() -> None:
    with ScriptedServer(default=tool_call(GOOD)) as server:
        composition = compose(REQUEST, backend=backend(server, grammar="openai"))
    assert composition.text == GOOD
    assert composition.report.constrained
    body = server.requests[0]
    tool = body["tools"][0]
    assert tool["type"] == "custom"
    assert tool["custom"]["format"]["grammar"]["syntax"] == "lark"
    assert tool["custom"]["format"]["grammar"]["definition"].startswith("start: ")
    assert body["tool_choice"] == {"type": "custom", "custom": {"name": "write_tune"}}


def test_gbnf_becomes_lark_with_start_and_lower_case_rule_names() -> None:
    gbnf = 'root ::= bar-1 " | " bar-1\nbar-1 ::= ("A4:q " | "B4:q ")+ "C#5:h"'
    assert gbnf_to_lark(gbnf) == ('start: bar_1 " | " bar_1\nbar_1: ("A4:q " | "B4:q ")+ "C#5:h"')
    with pytest.raises(BackendError, match=r"cannot translate '\[a-z\]"):
        gbnf_to_lark("root ::= [a-z]")
    rules = gbnf_to_lark(grammar_for(REQUEST)).splitlines()
    assert rules[0].startswith("start: ")
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", rule.split(":")[0]) for rule in rules)


def test_extra_body_fields_go_with_every_request() -> None:
    with ScriptedServer(default=answer(GOOD), owned_by="vllm") as server:
        compose(REQUEST, backend=backend(server, grammar="auto", extra_body={"top_k": 40}))
    assert server.requests[0]["top_k"] == 40
    assert "structured_outputs" in server.requests[0]


def test_the_backends_doc_describes_every_grammar_mode() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "backends.md").read_text(encoding="utf-8")
    table = doc.split("## Grammar modes", 1)[1].split("\n\n")[2]
    documented = set(re.findall(r'^\| `"([^"]+)"`', table, re.MULTILINE))
    assert documented == set(get_args(GrammarMode))


def test_an_unknown_grammar_mode_names_the_allowed_ones() -> None:
    with pytest.raises(
        RequestError, match=r"grammar must be one of auto, none, .* \(received 'gbnf'\)"
    ):
        OpenAIBackend("m", grammar="gbnf")  # type: ignore[arg-type]


# Clients: ours, the user's, sync and async


def test_a_users_own_async_client_works_with_compose_async() -> None:
    async def compose_with_my_client(base_url: str) -> Composition:
        async with openai.AsyncOpenAI(base_url=base_url, api_key="x") as client:
            chosen = OpenAIBackend.from_client(client, model="scripted")
            return await compose_async(REQUEST, backend=chosen)

    with ScriptedServer(default=answer(GOOD)) as server:
        composition = asyncio.run(compose_with_my_client(server.base_url))
    assert composition.text == GOOD
    assert composition.report.backend == "openai"


def test_a_users_sync_client_keeps_its_server_but_not_its_own_retries() -> None:
    with (
        ScriptedServer(default=status(500, "down")) as server,
        openai.OpenAI(base_url=server.base_url, api_key="x", max_retries=3) as client,
        pytest.raises(BackendError, match="gave up after 2 attempts"),
    ):
        compose(REQUEST, backend=OpenAIBackend.from_client(client, model="s", max_attempts=2))
    assert len(server.requests) == 2  # tunesmith's two attempts, none by the SDK


def test_a_users_async_client_keeps_its_server_but_not_its_own_retries() -> None:
    async def compose_with_my_client(base_url: str) -> Composition:
        async with openai.AsyncOpenAI(base_url=base_url, api_key="x", max_retries=3) as client:
            chosen = OpenAIBackend.from_client(client, model="s", max_attempts=2)
            return await compose_async(REQUEST, backend=chosen)

    with (
        ScriptedServer(default=status(500, "down")) as server,
        pytest.raises(BackendError, match="gave up after 2 attempts"),
    ):
        asyncio.run(compose_with_my_client(server.base_url))
    assert len(server.requests) == 2


def test_an_async_client_cannot_be_used_synchronously() -> None:
    chosen = OpenAIBackend.from_client(openai.AsyncOpenAI(api_key="x"), model="m")
    with pytest.raises(RequestError, match="call compose_async, or give from_client"):
        compose(REQUEST, backend=chosen)


def test_from_client_takes_only_openai_clients() -> None:
    with pytest.raises(RequestError, match=r"openai.OpenAI or openai.AsyncOpenAI \(received str\)"):
        OpenAIBackend.from_client("sk-not-a-client", model="m")


def test_the_environment_chooses_the_server_and_model(monkeypatch: pytest.MonkeyPatch) -> None:
    with ScriptedServer(default=answer(GOOD)) as server:
        monkeypatch.setenv("TUNESMITH_BASE_URL", server.base_url)
        monkeypatch.setenv("TUNESMITH_MODEL", "from-env")
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        chosen = server.closing(backend_from_options("openai"))
        compose(REQUEST, backend=chosen)
    assert isinstance(chosen, OpenAIBackend)
    assert server.requests[0]["model"] == "from-env"


def test_a_backend_made_from_its_name_is_closed_when_composing_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # left open, its keep-alive connection lasts until the garbage collector finds it
    def connections_when_settled(server: ScriptedServer) -> int:
        deadline = time.monotonic() + 5
        while server.connections and time.monotonic() < deadline:
            time.sleep(0.01)
        return server.connections

    gc.disable()
    try:
        with ScriptedServer(default=answer(GOOD)) as server:
            monkeypatch.setenv("TUNESMITH_BASE_URL", server.base_url)
            compose(REQUEST, backend="openai")
            assert connections_when_settled(server) == 0
            asyncio.run(compose_async(REQUEST, backend="openai"))
            compose_many([REQUEST], backend="openai")
            assert connections_when_settled(server) == 0
            with OpenAIBackend("m", grammar="none") as given:
                compose(REQUEST, backend=given)
                assert server.connections == 1  # a backend the caller gave stays open
    finally:
        gc.enable()
    assert len(server.requests) == 4


def test_a_backend_closes_its_connections_as_a_context_manager() -> None:
    with ScriptedServer(default=answer(GOOD)) as server, backend(server) as chosen:
        compose(REQUEST, backend=chosen)
        client = chosen.client
    assert client.is_closed()


# The command line


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return tunesmith(*args, cwd=cwd, env=env, timeout=120)


SMALL = ["--notes", "A B C# F# G", "--meter", "6/8", "--bars", "2", "--low", "A4", "--high", "A5"]


def test_the_cli_composes_through_an_openai_compatible_server(tmp_path: Path) -> None:
    with ScriptedServer(default=answer(GOOD)) as server:
        result = run_cli(
            "compose",
            *("--backend", "openai", "--base-url", server.base_url, "--model", "scripted"),
            *SMALL,
            *("-o", "tune.mid"),
            cwd=tmp_path,
            env={"OPENAI_API_KEY": "sk-cli-secret"},
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == GOOD
    assert "on openai:scripted" in result.stderr
    assert "sk-cli-secret" not in result.stdout + result.stderr


def test_the_environment_selects_the_openai_backend_for_the_cli(tmp_path: Path) -> None:
    with ScriptedServer(default=answer(GOOD)) as server:
        result = run_cli(
            "compose",
            *SMALL,
            cwd=tmp_path,
            env={
                "TUNESMITH_BACKEND": "openai",
                "TUNESMITH_BASE_URL": server.base_url,
                "TUNESMITH_MODEL": "scripted",
            },
        )
    assert result.returncode == 0, result.stderr
    assert "on openai:scripted" in result.stderr
    assert len(server.requests) == 1


def batch_lines(count: int, fail: frozenset[int] = frozenset()) -> str:
    return "".join(
        json.dumps(
            {"notes": NOTES, "meter": "6/8", "bars": 2, "low": "A4", "high": "A5"}
            | {"title": "fail" if i in fail else f"tune {i}"}
        )
        + "\n"
        for i in range(count)
    )


def batch_against_a_server_that_refuses_fail(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``tunesmith batch requests.jsonl --out out`` against a server that answers every
    request with a tune, and the ones titled "fail" with HTTP 400."""

    def step(body: dict[str, object]) -> Step:
        task = str(body["messages"][-1]["content"])  # type: ignore[index]
        return status(400, "refused") if '"fail"' in task else answer(GOOD)

    with ScriptedServer(default=step) as server:
        return run_cli(
            "batch",
            *("requests.jsonl", "--out", "out", "--concurrency", "2"),
            *("--backend", "openai", "--base-url", server.base_url, "--model", "scripted"),
            cwd=tmp_path,
        )


def test_batch_composes_each_line_and_reports_the_failures(tmp_path: Path) -> None:
    (tmp_path / "requests.jsonl").write_text(batch_lines(5, fail=frozenset({2})))
    (tmp_path / "out").mkdir()
    result = batch_against_a_server_that_refuses_fail(tmp_path)
    assert result.returncode == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "001.mid",
        "001.txt",
        "002.mid",
        "002.txt",
        "004.mid",
        "004.txt",
        "005.mid",
        "005.txt",
    ]
    assert "5/5" in result.stderr
    assert "request 3: HTTP 400" in result.stderr
    assert "4 of 5 composed" in result.stderr


def test_batch_names_the_line_of_a_bad_request(tmp_path: Path) -> None:
    (tmp_path / "requests.jsonl").write_text('{"bars": 4}\n{"meter": "7/0"}\n')
    (tmp_path / "out").mkdir()
    result = run_cli("batch", "requests.jsonl", "--out", "out", cwd=tmp_path)
    assert result.returncode == 2
    assert "requests.jsonl, line 2: meter: meter must be N/D" in result.stderr


# Answers no server should send, and deadlines that hold over the whole body


def test_a_server_that_drips_its_answer_is_cut_at_the_deadline() -> None:
    with ScriptedServer(default=drip(GOOD, 0.3)) as server:  # ~90 s for the whole body
        started = time.perf_counter()
        with pytest.raises(BackendError, match=r"gave up after 1 attempt .*did not answer in time"):
            compose(REQUEST, backend=backend(server, timeout=60.0, deadline=2.0))
    assert time.perf_counter() - started < 2.0 + 2.5  # the deadline, not the drip, ends it


def test_a_server_that_drips_its_answer_is_cut_at_the_deadline_in_asyncio() -> None:
    with ScriptedServer(default=drip(GOOD, 0.3)) as server:
        started = time.perf_counter()
        with pytest.raises(BackendError, match=r"did not answer in time"):
            asyncio.run(compose_async(REQUEST, backend=backend(server, timeout=60.0, deadline=2.0)))
    assert time.perf_counter() - started < 2.0 + 2.5


@pytest.mark.parametrize("compose_in", ["sync", "asyncio"])
def test_an_answer_far_longer_than_max_tokens_allows_is_not_read_to_its_end(
    compose_in: str,
) -> None:
    huge = "A4:e " * 2_000_000  # 10 MB, from a server that ignores max_tokens
    with ScriptedServer(default=answer(huge)) as server:
        chosen = backend(server, deadline=60.0)
        started = time.perf_counter()
        run: Callable[[], object] = {
            "sync": lambda: compose(REQUEST, backend=chosen),
            "asyncio": lambda: asyncio.run(compose_async(REQUEST, backend=chosen)),
        }[compose_in]
        with pytest.raises(
            BackendError, match=r"longer than \d+ bytes, more than max_tokens=\d+"
        ) as e:
            run()
    assert time.perf_counter() - started < 30.0
    assert not e.value.retryable
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "malformed",
    [
        completion(message={"role": "assistant", "content": 42}),
        completion(message={"role": "assistant", "content": {"text": GOOD}}),
        completion(message={"role": "assistant", "content": [{"type": "image_url"}]}),
        completion(choices=[42]),
        completion(choices="none"),
        ("garbage", b"\xff\xfe not UTF-8"),
        ("garbage", b"[1, 2, 3]"),
    ],
    ids=[
        "number",
        "object",
        "no-text-part",
        "choice-not-object",
        "choices-not-list",
        "bytes",
        "list",
    ],
)
def test_an_answer_of_the_wrong_shape_is_retried_like_any_transient_failure(
    malformed: Step,
) -> None:
    with ScriptedServer([malformed, answer(GOOD)]) as server:
        composition = compose(REQUEST, backend=backend(server))
    assert composition.text == GOOD
    assert len(server.requests) == 2


def test_an_answer_that_keeps_its_wrong_shape_is_a_typed_error_naming_it() -> None:
    malformed = completion(message={"role": "assistant", "content": 42})
    with (
        ScriptedServer(default=malformed) as server,
        pytest.raises(BackendError, match=r"the message content is int '42', not text"),
    ):
        compose(REQUEST, backend=backend(server, max_attempts=2))


def test_content_given_as_text_parts_is_read_as_their_text() -> None:
    parts = [{"type": "text", "text": GOOD[:20]}, {"type": "text", "text": GOOD[20:]}]
    with ScriptedServer(default=completion(message={"role": "assistant", "content": parts})) as s:
        composition = compose(REQUEST, backend=backend(s))
    assert composition.text == GOOD


@pytest.mark.parametrize(
    "usage",
    [{"prompt_tokens": "many", "completion_tokens": None}, "lots", [1, 2], {"prompt_tokens": -3}],
)
def test_usage_that_is_not_a_count_is_read_as_zero(usage: object) -> None:
    content = {"role": "assistant", "content": GOOD}
    with ScriptedServer(default=completion(message=content, usage=usage)) as server:
        composition = compose(REQUEST, backend=backend(server))
    assert composition.text == GOOD
    assert (composition.report.prompt_tokens, composition.report.completion_tokens) == (0, 0)


# Secrets in the base URL and in what the server sends back

URL_SECRET = "url-secret-0123456789"


@pytest.mark.parametrize("form", ["query", "password"])
def test_a_key_in_the_base_url_never_appears_in_errors_or_logs(
    form: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    with ScriptedServer(default=status(500, "down")) as server:
        url = server.base_url
        if form == "query":
            url += f"?api-key={URL_SECRET}"
        else:
            url = url.replace("http://", f"http://user:{URL_SECRET}@")
        chosen = server.closing(
            OpenAIBackend("m", base_url=url, timeout=0.5, deadline=1.0, grammar="none")
        )
        with pytest.raises(BackendError) as caught:
            compose(REQUEST, backend=chosen)
    assert "127.0.0.1" in str(caught.value)  # the server is still named
    assert URL_SECRET not in str(caught.value)
    assert URL_SECRET not in caplog.text
    assert URL_SECRET not in repr(chosen)


def test_a_key_the_server_echoes_in_a_header_is_not_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    with ScriptedServer(default=answer(GOOD, headers={"x-echo-key": KEY})) as server:
        compose(REQUEST, backend=backend(server))
    assert "x-echo-key" in caplog.text  # httpcore logged the headers...
    assert KEY not in caplog.text  # ...without the key


GARBAGE_CLIENTS = """
import gc, logging, sys
from tunesmith import OpenAIBackend
from tunesmith.backends.secrets import redact

logging.basicConfig(level=logging.DEBUG, stream=open("/dev/null", "w"))
line, others = "a line of the log that names " + sys.argv[2], [sys.argv[2] + "-too"]
for allocations in range(12):
    gc.set_threshold(1_000_000)  # nothing collected yet: the client stays young
    backend = OpenAIBackend("m", base_url=sys.argv[1], api_key=sys.argv[2], grammar="none")
    backend.client.models.list()  # a keep-alive connection, closed (and logged) when freed
    backend.cycle = backend  # left unclosed, in a cycle: garbage only the collector frees
    del backend
    # the collector runs after this many allocations: in one of the rounds, inside redact()
    gc.set_threshold(gc.get_count()[0] + allocations)
    redact(line, others)
print("done")
"""


def test_a_client_freed_by_the_garbage_collector_while_a_key_is_masked_does_not_hang() -> None:
    # The collector runs an unclosed client's close inside whatever code it interrupted,
    # and the close logs at DEBUG: masking that record must not wait for its own thread.
    with ScriptedServer() as server:
        try:
            finished = subprocess.run(
                [sys.executable, "-c", GARBAGE_CLIENTS, server.base_url, KEY],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        except subprocess.TimeoutExpired:
            pytest.fail("masking a key waited for itself: the process hung")
    assert finished.stdout.strip() == "done", finished.stderr


# Arguments of the wrong type


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timeout": "5"}, r"timeout must be a number of seconds \(received '5'\)"),
        ({"deadline": None}, r"deadline must be a number of seconds \(received None\)"),
        ({"max_attempts": "3"}, r"max_attempts must be a whole number \(received '3'\)"),
        ({"max_attempts": 2.5}, r"max_attempts must be a whole number \(received 2.5\)"),
        ({"base_url": 8000}, r"base_url must be a str \(received int\)"),
        ({"extra_body": "top_k=40"}, r"extra_body must be a dict of JSON fields \(received str\)"),
    ],
)
def test_an_option_of_the_wrong_type_is_a_request_type_error(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(RequestTypeError, match=message):
        OpenAIBackend("m", **options)  # type: ignore[arg-type]


def test_the_backend_may_be_named_by_a_string(monkeypatch: pytest.MonkeyPatch) -> None:
    with ScriptedServer(default=answer(GOOD)) as server:
        monkeypatch.setenv("TUNESMITH_BASE_URL", server.base_url)
        composition = compose(REQUEST, backend="openai")
    assert composition.report.backend == "openai"
    with pytest.raises(RequestError, match=r"unknown backend 'gpt': use 'local' or 'openai'"):
        compose(REQUEST, backend="gpt")
    with pytest.raises(RequestTypeError, match=r"backend must be a Backend .*\(received int\)"):
        compose(REQUEST, backend=42)  # type: ignore[arg-type]


def test_the_openai_sdks_exception_is_kept_as_the_cause() -> None:
    with (
        ScriptedServer(default=status(404, "no such model")) as server,
        pytest.raises(BackendError) as caught,
    ):
        compose(REQUEST, backend=backend(server))
    assert isinstance(caught.value.__cause__, openai.NotFoundError)


def test_compose_async_does_not_block_the_event_loop_while_the_grammar_mode_is_found() -> None:
    async def compose_while_ticking(chosen: OpenAIBackend) -> list[float]:
        ticks: list[float] = []

        async def tick() -> None:
            while True:
                ticks.append(time.perf_counter())
                await asyncio.sleep(0.05)

        ticker = asyncio.create_task(tick())
        await compose_async(REQUEST, backend=chosen)
        ticker.cancel()
        return ticks

    with ScriptedServer(default=answer(GOOD), owned_by="llamacpp", models_delay=1.0) as server:
        chosen = backend(server, grammar="auto", timeout=5.0)
        ticks = asyncio.run(compose_while_ticking(chosen))
    assert chosen.grammar_mode == "llama.cpp"
    assert max(b - a for a, b in itertools.pairwise(ticks)) < 0.6  # never frozen for the 1 s


def test_batch_checks_the_out_folder_before_asking_the_model(tmp_path: Path) -> None:
    (tmp_path / "requests.jsonl").write_text(batch_lines(3))
    with ScriptedServer(default=answer(GOOD)) as server:
        result = run_cli(
            "batch",
            *("requests.jsonl", "--out", "missing"),
            *("--backend", "openai", "--base-url", server.base_url, "--model", "scripted"),
            cwd=tmp_path,
        )
    assert result.returncode == 2
    assert result.stderr == (
        "tunesmith: error: --out missing: the folder does not exist; create it first\n"
    )
    assert server.requests == []


def test_batch_writes_every_result_it_can_and_reports_every_failure(tmp_path: Path) -> None:
    (tmp_path / "requests.jsonl").write_text(batch_lines(5, fail=frozenset({3})))
    out = tmp_path / "out"
    out.mkdir()
    (out / "002.mid").mkdir()  # request 2's MIDI file cannot be written
    result = batch_against_a_server_that_refuses_fail(tmp_path)
    assert result.returncode == 2
    assert sorted(p.name for p in out.iterdir()) == [
        *("001.mid", "001.txt", "002.mid"),  # 002.mid: the folder that was there
        *("003.mid", "003.txt", "005.mid", "005.txt"),
    ]
    assert "request 2: composed, but not written: cannot write out/002.mid" in result.stderr
    assert "request 4: HTTP 400" in result.stderr
    assert "3 of 5 composed into out" in result.stderr
    assert result.stderr.endswith("tunesmith: error: 2 of 5 requests failed (see above)\n")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"bars": 2}\n[1, 2]\n', "line 2: not a JSON object of options (received list)"),
        (b'{"bars": 2}\n{"title": "Caf\xe9"}\n', "not UTF-8 text (byte 0xe9 at position 26)"),
        (b'{"bars": 2}\n{bars: 2}\n', "line 2: not JSON (Expecting property name"),
    ],
    ids=["not-an-object", "not-utf8", "not-json"],
)
def test_batch_refuses_a_bad_requests_file_in_one_line(
    content: bytes, message: str, tmp_path: Path
) -> None:
    (tmp_path / "requests.jsonl").write_bytes(content)
    (tmp_path / "out").mkdir()
    result = run_cli("batch", "requests.jsonl", "--out", "out", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert message in result.stderr


def test_compose_checks_every_output_before_asking_the_model(tmp_path: Path) -> None:
    with ScriptedServer(default=answer(GOOD)) as server:
        result = run_cli(
            "compose",
            *("--backend", "openai", "--base-url", server.base_url, "--model", "scripted"),
            *SMALL,
            *("-o", "tune.mid", "--audio", "tune.mp3"),
            cwd=tmp_path,
        )
    assert result.returncode == 2
    assert "audio files must end in .wav, .flac, .ogg (received '.mp3')" in result.stderr
    assert server.requests == []
    assert not (tmp_path / "tune.mid").exists()


FRESH_PROCESS = """
import io, logging, sys
from scripted_server import ScriptedServer, answer
log = io.StringIO()
logging.basicConfig(level=logging.DEBUG, stream=log)
from tunesmith import OpenAIBackend, compose
good = "A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. |"
with ScriptedServer(default=answer(good, headers={"x-echo": sys.argv[1]})) as server:
    url = server.base_url + "?api-key=" + sys.argv[1]
    backend = server.closing(OpenAIBackend("m", base_url=url, grammar="none"))
    compose(notes="A B C# F# G", meter="6/8", bars=2, low="A4", high="A5", backend=backend)
print(log.getvalue())
"""


def test_keys_are_kept_out_of_the_http_logs_from_a_processs_first_request() -> None:
    # httpcore makes some of its loggers only when the first request is sent
    result = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, URL_SECRET],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert "receive_response_headers" in result.stdout  # httpcore logged the headers...
    assert URL_SECRET not in result.stdout + result.stderr  # ...and the URL, masked
