"""OpenAIBackend against real HTTP with the real openai SDK: a scripted server for faults."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import openai
import pytest

from scripted_server import ScriptedServer, answer
from tunesmith import (
    BackendError,
    ComposeRequest,
    CompositionError,
    OpenAIBackend,
    compose,
    compose_async,
    compose_many,
)
from tunesmith.validate import validate

NOTES = ["A", "B", "C#", "F#", "G"]
GOOD = "A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. |"
REQUEST = ComposeRequest(notes=NOTES, meter="6/8", bars=2, low="A4", high="A5", seed=1)


def backend(server: ScriptedServer, **options: object) -> OpenAIBackend:
    settings: dict[str, object] = {"timeout": 0.5, "deadline": 5.0, "grammar": "none"}
    settings.update(options)
    return OpenAIBackend("scripted", base_url=server.base_url, api_key="sk-test-secret", **settings)  # type: ignore[arg-type]


def chat_requests(server: ScriptedServer) -> int:
    return len(server.requests)


@pytest.mark.parametrize(
    ("first", "why"),
    [
        (("status", 429, {"Retry-After": "0"}, "slow down"), "429 with Retry-After"),
        (("status", 500, {}, "boom"), "a server error"),
        (("status", 503, {}, "overloaded"), "an overloaded server"),
        (("hang", 1.5), "a hang past the client timeout"),
        (("no_choices",), "an empty choice list"),
    ],
    ids=["429", "500", "503", "hang", "no-choices"],
)
def test_transient_failures_are_retried_and_the_tune_arrives(
    first: tuple[object, ...], why: str
) -> None:
    with ScriptedServer([first, answer(GOOD)]) as server:
        composition = compose(REQUEST, backend=backend(server))
    assert composition.text == GOOD, why
    assert chat_requests(server) == 2
    assert composition.report.attempts[0].completion_tokens == 7


def test_retry_after_is_honoured() -> None:
    with ScriptedServer(
        [("status", 429, {"Retry-After": "1"}, "slow down"), answer(GOOD)]
    ) as server:
        started = time.perf_counter()
        compose(REQUEST, backend=backend(server))
    assert time.perf_counter() - started >= 1.0


def test_a_server_that_keeps_failing_is_given_up_within_the_deadline() -> None:
    with ScriptedServer(default=("status", 500, {}, "down")) as server:
        started = time.perf_counter()
        with pytest.raises(BackendError, match=r"gave up after .* HTTP 500") as caught:
            compose(REQUEST, backend=backend(server, deadline=1.5, max_attempts=50))
    assert time.perf_counter() - started < 1.5 + 8 + 1  # deadline + one backoff + slack
    assert caught.value.retryable
    assert chat_requests(server) >= 2


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (401, r"refused the API key \(HTTP 401\)"),
        (404, r"HTTP 404 .*model 'scripted'"),
        (400, r"HTTP 400 .*bad request"),
    ],
)
def test_permanent_failures_fail_at_once_with_what_to_fix(status: int, message: str) -> None:
    body = "bad request from sk-test-secret"
    with (
        ScriptedServer(default=("status", status, {}, body)) as server,
        pytest.raises(BackendError, match=message) as caught,
    ):
        compose(REQUEST, backend=backend(server))
    assert chat_requests(server) == 1
    assert not caught.value.retryable
    assert "sk-test-secret" not in str(caught.value)


def test_the_api_key_never_appears_in_errors_reports_or_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    with ScriptedServer([("status", 500, {}, "key sk-test-secret leaked"), answer(GOOD)]) as server:
        composition = compose(REQUEST, backend=backend(server))
    assert "sk-test-secret" not in composition.report.model_dump_json()
    assert "sk-test-secret" not in caplog.text


def test_garbage_is_sent_back_with_feedback_and_the_second_answer_is_taken() -> None:
    with ScriptedServer([answer("I love music!"), answer(GOOD)]) as server:
        composition = compose(REQUEST, backend=backend(server))
    assert composition.text == GOOD
    retry = server.requests[1]["messages"]
    assert retry[-2] == {"role": "assistant", "content": "I love music!"}
    assert "Your answer broke these rules" in retry[-1]["content"]
    assert "not tunesmith notation" in retry[-1]["content"]


def test_notes_that_break_the_pitch_set_and_the_meter_are_repaired_after_feedback() -> None:
    bad = "A4:e D5:e C#5:e F#5:q. E5:e | G5:q. C5:q |"
    with ScriptedServer(default=answer(bad)) as server:
        composition = compose(REQUEST, backend=backend(server), max_attempts=2)
    assert chat_requests(server) == 2
    assert validate(composition.tune, REQUEST).ok
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
    with (
        ScriptedServer(default=wrong) as server,
        pytest.raises(CompositionError, match="strict"),
    ):
        compose(REQUEST, backend=backend(server), strict=True, max_attempts=2)


@pytest.mark.parametrize(
    ("owned_by", "mode", "field"),
    [
        ("vllm", "vllm", "structured_outputs"),
        ("llamacpp", "llama.cpp", "grammar"),
        ("me", "llama.cpp", "grammar"),
        ("openai", "none", None),
    ],
)
def test_auto_grammar_mode_follows_the_server_and_sends_the_grammar(
    owned_by: str, mode: str, field: str | None
) -> None:
    with ScriptedServer(default=answer(GOOD), owned_by=owned_by) as server:
        chosen = backend(server, grammar="auto")
        compose(REQUEST, backend=chosen)
    assert chosen.grammar_mode == mode
    body = server.requests[0]
    if field is None:
        assert "grammar" not in body
        assert "structured_outputs" not in body
    else:
        grammar = body[field]["grammar"] if field == "structured_outputs" else body[field]
        assert grammar.startswith("root ::= ")
        assert '"C#5:e ' in grammar  # an allowed pitch, as the melodic grammar writes it


def test_an_unreachable_server_is_a_backend_error_naming_it() -> None:
    with ScriptedServer() as server:
        url = server.base_url
    with pytest.raises(BackendError, match=r"cannot reach the server at http://127.0.0.1"):
        compose(
            REQUEST,
            backend=OpenAIBackend("m", base_url=url, timeout=0.5, deadline=1.0, grammar="none"),
        )


def test_a_users_own_async_client_works_with_compose_async() -> None:
    with ScriptedServer(default=answer(GOOD)) as server:
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="x", max_retries=0)
        chosen = OpenAIBackend.from_client(client, model="scripted")
        composition = asyncio.run(compose_async(REQUEST, backend=chosen))
    assert composition.text == GOOD
    assert composition.report.backend == "openai"


def test_compose_many_keeps_order_isolates_failures_and_bounds_concurrency() -> None:
    requests = [
        ComposeRequest(
            notes=NOTES,
            meter="6/8",
            bars=2,
            low="A4",
            high="A5",
            title=f"{'fail' if i % 5 == 3 else 'tune'} {i}",
        )
        for i in range(20)
    ]

    def step(body: dict[str, object]) -> tuple[object, ...]:
        task = str(body["messages"][-1]["content"])  # type: ignore[index]
        if '"fail' in task:
            return ("status", 400, {}, "refused")
        number = int(task.split('titled "tune ')[1].split('"', maxsplit=1)[0])
        return answer(GOOD if number % 2 else "A4:h. | A5:h. |")

    finished: list[int] = []
    with ScriptedServer(default=step, delay=0.1) as server:
        results = compose_many(
            requests,
            backend=backend(server),
            concurrency=4,
            on_result=lambda i, _: finished.append(i),
        )
    assert len(results) == 20
    assert sorted(finished) == list(range(20))
    assert server.most_in_flight <= 4
    assert server.most_in_flight >= 2
    for index, result in enumerate(results):
        if index % 5 == 3:
            assert isinstance(result, BackendError)
        else:
            assert not isinstance(result, Exception)
            assert result.request.title == f"tune {index}"
            assert result.text == (GOOD if index % 2 else "A4:h. | A5:h. |")


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tunesmith.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_the_cli_composes_through_an_openai_compatible_server(tmp_path: Path) -> None:
    with ScriptedServer(default=answer(GOOD)) as server:
        result = run_cli(
            "compose",
            "--backend",
            "openai",
            "--base-url",
            server.base_url,
            "--model",
            "scripted",
            "--notes",
            "A B C# F# G",
            "--meter",
            "6/8",
            "--bars",
            "2",
            "--low",
            "A4",
            "--high",
            "A5",
            "-o",
            "tune.mid",
            cwd=tmp_path,
            env={"OPENAI_API_KEY": "sk-cli-secret"},
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == GOOD
    assert "on openai:scripted" in result.stderr
    assert "sk-cli-secret" not in result.stdout + result.stderr


def test_the_environment_selects_the_openai_backend(tmp_path: Path) -> None:
    with ScriptedServer(default=answer(GOOD)) as server:
        result = run_cli(
            "compose",
            "--notes",
            "A B C# F# G",
            "--meter",
            "6/8",
            "--bars",
            "2",
            "--low",
            "A4",
            "--high",
            "A5",
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


def test_batch_composes_each_line_and_reports_the_failures(tmp_path: Path) -> None:
    lines = [
        json.dumps(
            {
                "notes": NOTES,
                "meter": "6/8",
                "bars": 2,
                "low": "A4",
                "high": "A5",
                "title": "fail" if i == 2 else f"tune {i}",
            }
        )
        for i in range(5)
    ]
    (tmp_path / "requests.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "out").mkdir()

    def step(body: dict[str, object]) -> tuple[object, ...]:
        task = str(body["messages"][-1]["content"])  # type: ignore[index]
        return ("status", 400, {}, "refused") if '"fail"' in task else answer(GOOD)

    with ScriptedServer(default=step) as server:
        result = run_cli(
            "batch",
            "requests.jsonl",
            "--out",
            "out",
            "--backend",
            "openai",
            "--base-url",
            server.base_url,
            "--model",
            "scripted",
            "--concurrency",
            "2",
            cwd=tmp_path,
        )
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
