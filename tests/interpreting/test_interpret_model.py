"""The model interpreter: an OpenAI-compatible model fills the request's JSON schema.

Against a scripted server on 127.0.0.1 over real HTTP with the real openai SDK. The word
tables read the same words: the fallback when the model fails, and the cross-check.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from scripted_server import ScriptedServer, Step, answer, status
from tunesmith import ComposeRequest, OpenAIBackend, RequestError, compose, interpret
from tunesmith.interpreting.interpret_model import answer_schema

KEY = "sk-test-secret-0123456789"
GOOD_TUNE = "E4:q F#4:q G4:q | E4:h. |"


def reading(**fields: Any) -> Step:
    """The model's answer: every field of the schema, null unless given."""
    names = answer_schema()["properties"]
    return answer(json.dumps({name: fields.get(name) for name in names}))


def backend(server: ScriptedServer, **options: Any) -> OpenAIBackend:
    settings: dict[str, Any] = {"timeout": 2.0, "deadline": 5.0, "grammar": "none"}
    settings.update(options)
    made = OpenAIBackend("scripted", base_url=server.base_url, api_key=KEY, **settings)
    return server.closing(made)


AIR = "a slow air in E dorian for fiddle, 16 bars"
AIR_READING = {"key": "E", "mode": "dorian", "style": "air", "instrument": "Fiddle", "bars": 16}


def test_the_model_fills_the_requests_json_schema_with_structured_outputs() -> None:
    with ScriptedServer([reading(**AIR_READING)]) as server:
        request = interpret(AIR, backend=backend(server))
    assert (request.key, request.mode, request.style, request.bars) == ("E", "dorian", "air", 16)
    sent = server.requests[0]["response_format"]
    assert sent["type"] == "json_schema"
    assert sent["json_schema"]["strict"] is True
    schema = sent["json_schema"]["schema"]
    assert set(schema["required"]) == {*ComposeRequest.model_fields, "unsupported", "ignored"}
    assert schema["additionalProperties"] is False
    assert server.requests[0]["messages"][-1] == {"role": "user", "content": AIR}
    explanation = request.explanation
    assert explanation.reader == "the model scripted, cross-checked by the word tables"
    assert explanation.decisions == ()  # the word tables read it the same way


def test_where_the_word_tables_read_otherwise_the_disagreement_is_reported() -> None:
    with ScriptedServer([reading(key="G", style="jig", bars=8)]) as server:
        request = interpret("a jig in D, 16 bars", backend=backend(server))
    assert (request.key, request.bars) == ("G", 8)  # the model's reading is kept
    assert request.explanation.decisions == (
        "the model read bars=8, the word tables 16",
        "the model read the pitches as G major, the word tables as D major",
    )


def test_the_model_reads_what_the_word_tables_cannot() -> None:
    with ScriptedServer([reading(key="D", mode="minor", style="waltz")]) as server:
        request = interpret("ein trauriger Walzer in d-Moll", backend=backend(server))
    assert (request.key, request.mode, request.meter) == ("D", "minor", "3/4")
    assert request.explanation.decisions[0].startswith(
        "the word tables could not read it: no phrase of the request was understood"
    )


def test_a_server_that_refuses_structured_outputs_is_asked_in_the_prompt_alone() -> None:
    script = [status(400, "response_format is not supported"), reading(**AIR_READING)]
    with ScriptedServer(script) as server:
        request = interpret(AIR, backend=backend(server))
    assert request.key == "E"
    assert "response_format" in server.requests[0]
    assert "response_format" not in server.requests[1]
    assert request.explanation.decisions[0].startswith(
        "asked again without structured outputs, which failed: HTTP 400"
    )


@pytest.mark.parametrize(
    "failure",
    [
        status(500, "down"),
        answer("Sure! Here is your jig in D."),
        answer(json.dumps(["not", "an", "object"])),
        reading(key="D", meter="99/8"),
    ],
    ids=["server-down", "not-json", "not-an-object", "invalid-request"],
)
def test_when_the_model_fails_the_word_tables_reading_is_used(failure: Step) -> None:
    with ScriptedServer(default=failure) as server:
        request = interpret("a jig in D", backend=backend(server, max_attempts=1), bars=8)
    assert (request.style, request.key, request.bars) == ("jig", "D", 8)
    assert request.explanation.reader == "the word tables"
    assert "the model's reading failed" in request.explanation.decisions[-1]


def test_when_both_fail_the_word_tables_error_is_raised() -> None:
    with (
        ScriptedServer(default=status(500, "down")) as server,
        pytest.raises(RequestError, match="no phrase of the request was understood"),
    ):
        interpret("xyzzy plugh", backend=backend(server, max_attempts=1))


def test_options_given_explicitly_win_over_the_models_reading() -> None:
    with ScriptedServer([reading(**AIR_READING)]) as server:
        request = interpret(AIR, backend=backend(server), bars=8, key="A")
    assert (request.bars, request.key, request.mode) == (8, "A", None)
    assert "the option key='A' replaces mode='dorian'" in request.explanation.decisions


def test_the_api_key_never_appears_in_the_explanation() -> None:
    with ScriptedServer(default=status(401, f"bad key {KEY}")) as server:
        request = interpret("a jig in D", backend=backend(server))
    assert KEY not in str(request.explanation)
    assert "refused the API key" in str(request.explanation)


def test_compose_from_words_asks_the_model_to_read_them_then_to_write_the_tune() -> None:
    def route(body: dict[str, Any]) -> Step:
        if "response_format" in body:
            return reading(key="E", mode="minor", meter="3/4", bars=2, low="E4", high="E5")
        return answer(GOOD_TUNE)

    with ScriptedServer(default=route) as server:
        composition = compose("a sad little waltz in E minor, 2 bars", backend=backend(server))
    assert composition.text == GOOD_TUNE
    assert composition.request.key == "E"
    assert "cross-checked by the word tables" in str(composition.report)
    assert len(server.requests) == 2
