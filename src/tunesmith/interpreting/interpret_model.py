"""The model interpreter: a capable model fills the request's JSON schema from the words.

Used by :func:`tunesmith.interpret` with an :class:`OpenAIBackend`. The model is asked for
JSON under a strict schema made from :class:`ComposeRequest` (OpenAI-style structured
outputs, which OpenAI, vLLM, SGLang and llama.cpp's server take); a server that refuses
``response_format`` is asked for the JSON in the prompt alone. The answer is only parsed
as JSON and validated as a request, never executed. The word tables read the same words:
their reading is the fallback when the model fails, and every field where the two
disagree is reported (the model's reading is kept).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from tunesmith.backends.base import Completion, Prompt
from tunesmith.backends.openai import OpenAIBackend
from tunesmith.errors import BackendError, RequestError
from tunesmith.interpreting.interpretation import Explanation, Interpretation, Phrase
from tunesmith.requests.presets import style_preset
from tunesmith.requests.request import ComposeRequest
from tunesmith.writing.prompts import load_template

__all__ = ["answer_schema", "read_with_model"]

MAX_ANSWER_TOKENS = 600
_FIELDS = tuple(ComposeRequest.model_fields)
_PITCH = ("notes", "key", "mode")
_LISTS = ("unsupported", "ignored")


def answer_schema() -> dict[str, Any]:
    """The strict JSON schema of the model's answer: every field, null where not asked for."""
    properties: dict[str, Any] = {}
    for name, spec in ComposeRequest.model_json_schema()["properties"].items():
        options = spec.get("anyOf", [spec])
        kinds = [{k: v for k, v in option.items() if k in {"type", "items"}} for option in options]
        kinds = [kind for kind in kinds if kind.get("type") != "null"]
        properties[name] = {
            "anyOf": [*kinds, {"type": "null"}],
            "description": spec.get("description", ""),
        }
    for name in _LISTS:
        properties[name] = {"type": "array", "items": {"type": "string"}}
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _prompt(text: str) -> Prompt:
    fields = "\n".join(
        f'- "{name}": {spec["description"]}'
        for name, spec in answer_schema()["properties"].items()
        if name not in _LISTS
    )
    system = load_template("interpret").substitute(fields=fields)
    messages = ({"role": "system", "content": system}, {"role": "user", "content": text})
    return Prompt(document=f"{system}\n\nRequest: {text}\nJSON:", messages=messages)


def _ask(text: str, backend: OpenAIBackend, decisions: list[str]) -> dict[str, Any]:
    """The model's answer as a JSON object: structured outputs first, then the prompt alone."""
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "compose_request", "strict": True, "schema": answer_schema()},
    }
    settings: dict[str, Any] = {
        "grammar": None,
        "max_tokens": MAX_ANSWER_TOKENS,
        "temperature": 0.0,
        "seed": 0,
    }
    # the same client and settings (a sibling in this package), with the schema in the body
    structured = OpenAIBackend.from_client(
        backend.client,
        model=backend.model,
        timeout=backend._timeout,
        max_attempts=backend._max_attempts,
        deadline=backend._deadline,
        extra_body={**backend._extra_body, "response_format": response_format},
    )
    completion: Completion
    try:
        completion = structured.complete(_prompt(text), **settings)
    except BackendError as error:
        if error.retryable:
            raise
        decisions.append(f"asked again without structured outputs, which failed: {error}")
        completion = backend.complete(_prompt(text), **settings)
    found = re.search(r"\{.*\}", completion.text, re.DOTALL)
    try:
        answer = json.loads(found[0] if found else completion.text)
    except (json.JSONDecodeError, RecursionError):  # not JSON, or nested too deep to read
        answer = None
    if not isinstance(answer, dict):
        raise RequestError(f"the model's answer is not a JSON object: {completion.text[:200]!r}")
    return answer


def _pitches(request: ComposeRequest) -> tuple[int, frozenset[int]]:
    constraints = request.constraints
    return constraints.tonic.semitone, constraints.semitones


def _disagreements(model: ComposeRequest, offline: Interpretation, fields: set[str]) -> list[str]:
    """Every field where the word tables read the words otherwise than the model."""
    read = {field for phrase in offline.explanation.phrases for field in phrase.sets}
    found = []
    for field in sorted((read | fields) - set(_PITCH) - {"style"}):
        mine, theirs = getattr(model, field), getattr(offline, field)
        if mine != theirs and field in read:
            found.append(f"the model read {field}={mine!r}, the word tables {theirs!r}")
        elif mine != theirs:
            found.append(f"the model added {field}={mine!r}, which the word tables did not read")
    if style_preset(model.style) is not style_preset(offline.style):
        found.append(f"the model read the style {model.style!r}, the word tables {offline.style!r}")
    if (read | fields) & set(_PITCH) and _pitches(model) != _pitches(offline):
        found.append(
            f"the model read the pitches as {model.constraints.description}, "
            f"the word tables as {offline.constraints.description}"
        )
    return found


def read_with_model(
    text: str,
    backend: OpenAIBackend,
    offline: Callable[[dict[str, Any]], Interpretation],
    options: dict[str, Any],
) -> Interpretation:
    """The model's reading of ``text``, cross-checked by the word tables; options win.

    ``offline(options)`` is the word tables' reading, with the options applied.
    """
    offline_request: Interpretation | None = None
    offline_error: RequestError | None = None
    try:
        offline_request = offline({})
    except RequestError as error:
        offline_error = error
    decisions: list[str] = []
    try:
        answer = _ask(text, backend, decisions)
        fields = {k: v for k, v in answer.items() if k in _FIELDS and v is not None}
        model_request = ComposeRequest(**fields)
    except (BackendError, RequestError) as error:
        if offline_request is None:
            assert offline_error is not None
            raise offline_error from error
        decisions.append(f"the model's reading failed ({error}); the word tables' reading is used")
        request = offline(options)
        request._explanation = request.explanation.model_copy(
            update={"decisions": (*request.explanation.decisions, *decisions)}
        )
        return request
    if offline_request is not None:
        decisions += _disagreements(model_request, offline_request, set(fields))
    else:
        decisions.append(f"the word tables could not read it: {offline_error}")
    base = offline_request.explanation if offline_request is not None else None
    explanation = Explanation(
        text=text,
        language=base.language if base else "",
        reader=f"the model {backend.model}, cross-checked by the word tables",
        phrases=(Phrase(words=text, sets=fields, note="the model's reading"),),
        unsupported=(base.unsupported if base else ())
        + tuple(
            Phrase(words=str(w), note="the model found no field for it")
            for w in answer.get("unsupported") or ()
        ),
        ignored=tuple(str(word) for word in answer.get("ignored") or ()),
        decisions=tuple(decisions),
    )
    return _build(fields, explanation, options)


def _build(
    fields: dict[str, Any], explanation: Explanation, options: dict[str, Any]
) -> Interpretation:
    """The request from ``fields``, with the options given explicitly winning."""
    decisions = list(explanation.decisions)
    for name, value in options.items():
        for old in _PITCH if name in _PITCH else (name,):
            if old in fields:
                decisions.append(f"the option {name}={value!r} replaces {old}={fields.pop(old)!r}")
    request = Interpretation(**fields, **options)
    request._explanation = explanation.model_copy(update={"decisions": tuple(decisions)})
    return request
