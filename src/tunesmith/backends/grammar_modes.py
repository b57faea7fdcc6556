"""How a grammar travels to each kind of server, and which kind a server is.

One adapter per grammar mode (:data:`ADAPTERS`): where the request carries the GBNF grammar
(llama.cpp's ``grammar``, vLLM's ``structured_outputs``, SGLang's ``ebnf``...), or, for
OpenAI's GPT-5 models, a custom tool whose input the grammar (in Lark) constrains.
:func:`detect_grammar_mode` asks a server's ``GET /v1/models`` who owns its models.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from tunesmith.backends.openai_answers import TOOL_NAME, GrammarMode, version
from tunesmith.writing.grammar import gbnf_to_lark

__all__ = ["ADAPTERS", "OWNERS", "detect_grammar_mode", "place_grammar"]

logger = logging.getLogger("tunesmith.backends.openai")

Adapter = Callable[[str, dict[str, Any], dict[str, Any]], None]
"""(grammar, request, extra body): put the grammar where the server reads it."""


def _field(name: str) -> Adapter:
    def place(grammar: str, _: dict[str, Any], extra: dict[str, Any]) -> None:
        extra[name] = grammar

    return place


def _vllm(grammar: str, _: dict[str, Any], extra: dict[str, Any]) -> None:
    extra["structured_outputs"] = {"grammar": grammar}


def _openai_tool(grammar: str, request: dict[str, Any], _: dict[str, Any]) -> None:
    request["tools"] = [
        {
            "type": "custom",
            "custom": {
                "name": TOOL_NAME,
                "description": "Writes the melody, in tunesmith notation.",
                "format": {
                    "type": "grammar",
                    "grammar": {"syntax": "lark", "definition": gbnf_to_lark(grammar)},
                },
            },
        }
    ]
    request["tool_choice"] = {"type": "custom", "custom": {"name": TOOL_NAME}}


ADAPTERS: dict[str, Adapter] = {
    "llama.cpp": _field("grammar"),
    "vllm": _vllm,
    "vllm-legacy": _field("guided_grammar"),
    "sglang": _field("ebnf"),
    "openai": _openai_tool,
}
"""Each grammar mode's adapter; ``"none"`` (and ``"auto"`` before detection) sends nothing."""

OWNERS: dict[str, GrammarMode] = {
    "vllm": "vllm",
    "sglang": "sglang",
    "llamacpp": "llama.cpp",
    "me": "llama.cpp",  # llama-cpp-python's server
}
"""A model's ``owned_by`` in ``GET /v1/models``, and the grammar mode of that server."""


def place_grammar(
    mode: GrammarMode, grammar: str, request: dict[str, Any], extra: dict[str, Any]
) -> None:
    """Put ``grammar`` into the request (or its extra body) as a ``mode`` server reads it."""
    adapter = ADAPTERS.get(mode)
    if adapter is not None:
        adapter(grammar, request, extra)


def detect_grammar_mode(client: Any, wait: float) -> GrammarMode:
    """The mode of the server behind ``client`` (an ``openai.OpenAI``), or ``"none"``."""
    try:
        models = client.models.list(timeout=wait)
        owners = {str(getattr(m, "owned_by", "")).lower() for m in models.data}
    except Exception as error:  # any failure: stay safe and send no grammar
        logger.info("grammar auto-detection failed (%s); sending no grammar", type(error).__name__)
        return "none"
    modes = {OWNERS[owner] for owner in owners if owner in OWNERS}
    mode: GrammarMode = modes.pop() if len(modes) == 1 else "none"
    if mode == "vllm" and version(_vllm_version(client, wait)) < (0, 12):
        mode = "vllm-legacy"
    logger.info("server models owned by %s: grammar mode %s", sorted(owners), mode)
    return mode


def _vllm_version(client: Any, wait: float) -> str:
    """The version from vLLM's ``GET /version`` (next to ``/v1``), or empty."""
    root = str(client.base_url).rstrip("/").removesuffix("/v1")
    try:
        answer = client.get(f"{root}/version", cast_to=object, options={"timeout": wait})
    except Exception as error:  # an unknown version is read as a current one
        logger.info("vLLM version unknown (%s)", type(error).__name__)
        return ""
    return str(answer.get("version", "")) if isinstance(answer, dict) else ""
