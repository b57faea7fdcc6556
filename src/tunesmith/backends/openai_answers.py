"""What comes back from an OpenAI-compatible server: completions and failures to retry.

:func:`read_completion` reads an answer's JSON (text parts, tool calls, usage that is not a
count); :class:`TransientError` marks a failure worth another try, with the server's
``Retry-After``; :func:`check_options` checks :class:`~tunesmith.backends.openai.OpenAIBackend`'s
options.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any, Literal, get_args

from tunesmith.backends.base import Completion
from tunesmith.backends.secrets import scrub
from tunesmith.errors import BackendError, RequestError, RequestTypeError

__all__ = [
    "GrammarMode",
    "TransientError",
    "check_options",
    "classify",
    "read_completion",
    "retry_after",
    "version",
    "waiting",
]

logger = logging.getLogger("tunesmith.backends.openai")
GrammarMode = Literal["auto", "none", "llama.cpp", "vllm", "vllm-legacy", "sglang", "openai"]
TOOL_NAME = "write_tune"


class TransientError(Exception):
    """A failure worth retrying, with the server's Retry-After when it gave one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def read_completion(
    body: bytes, started: float, *, where: str, model: str, redact: Callable[[str], str]
) -> Completion:
    """The completion in an answer's JSON body; a malformed one is worth another try."""
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError) as error:  # not JSON, not UTF-8, or nested too deep
        raise TransientError(
            f"unreadable answer from the server{where}: not JSON "
            f"({redact(body[:80].decode('utf-8', 'replace'))!r}...)"
        ) from error
    choices = answer.get("choices") if isinstance(answer, dict) else None
    if not choices or not isinstance(choices, list) or not isinstance(choices[0], dict):
        raise TransientError(f"the server{where} answered with no choices")
    choice = choices[0]
    message = choice.get("message")
    message = message if isinstance(message, dict) else {}
    text = _text(message.get("content"), where)
    for call in message.get("tool_calls") or []:
        custom = call.get("custom") if isinstance(call, dict) else None
        if isinstance(custom, dict) and custom.get("name") == TOOL_NAME:
            text = _text(custom.get("input"), where)
    usage = answer.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    answered, finish_reason = answer.get("model"), choice.get("finish_reason")
    return Completion(
        text=text,
        model=answered if isinstance(answered, str) and answered else model,
        prompt_tokens=_count(usage.get("prompt_tokens")),
        completion_tokens=_count(usage.get("completion_tokens")),
        finish_reason=finish_reason if isinstance(finish_reason, str) else "stop",
        seconds=time.perf_counter() - started,
    )


def classify(  # noqa: PLR0911 - one case per kind of failure
    openai: Any,
    error: Exception,
    *,
    where: str,
    model: str,
    mode: str,
    constrained: bool,
    redact: Callable[[str], str],
    adjusted: Callable[[Any], bool],
) -> Exception:
    """A transient marker to retry, or the BackendError to raise.

    ``error`` stays the cause, and a traceback prints it: its secrets are masked first.
    """
    scrub(error, redact)
    message = str(error)
    if isinstance(error, openai.APITimeoutError):
        return TransientError(f"the server{where} did not answer in time")
    if isinstance(error, openai.APIConnectionError):
        return TransientError(f"cannot reach the server{where}: {message}")
    if isinstance(error, openai.APIStatusError) and (
        error.status_code in {408, 409, 429} or error.status_code >= 500
    ):
        wait = retry_after(error.response.headers if error.response is not None else {})
        return TransientError(f"HTTP {error.status_code}{where}: {message}", wait)
    if isinstance(error, openai.AuthenticationError):
        return BackendError(
            f"the server{where} refused the API key (HTTP 401)",
            hint="check OPENAI_API_KEY or the api_key= you passed",
        )
    if isinstance(error, openai.PermissionDeniedError):
        return BackendError(
            f"HTTP 403{where}: {message}", hint="the key may not use this model or endpoint"
        )
    if isinstance(error, openai.NotFoundError):
        return BackendError(
            f"HTTP 404{where}: model {model!r} or the endpoint was not found",
            hint="check model= and that base_url ends in /v1",
        )
    if isinstance(error, openai.BadRequestError) and adjusted(error):
        return TransientError(f"the model refused {error.param!r}; asking without it", 0.0)
    if isinstance(error, openai.APIStatusError):
        hint = (
            f"the server may not take the grammar (grammar mode {mode!r}): try grammar='none'"
            if constrained
            else "check model=, extra_body= and the server's documentation"
        )
        return BackendError(f"HTTP {error.status_code}{where}: {message}", hint=hint)
    if isinstance(error, openai.OpenAIError):
        return TransientError(f"unreadable answer from the server{where}: {message}")
    # the answer's body is read after the SDK returns: its failures come from httpx
    return TransientError(
        f"the answer from the server{where} broke off ({type(error).__name__}: {message})"
    )


def check_options(
    *,
    model: Any,
    base_url: Any,
    api_key: Any,
    grammar: Any,
    timeout: Any,
    max_attempts: Any,
    deadline: Any,
    extra_body: Any,
) -> None:
    """The constructor's options: each the right type, and in range."""
    for name, value in (("model", model), ("base_url", base_url), ("api_key", api_key)):
        if value is not None and not isinstance(value, str):
            raise RequestTypeError(f"{name} must be a str (received {type(value).__name__})")
    try:
        urllib.parse.urlsplit(base_url or "").port  # noqa: B018 - reading it checks it
    except ValueError as error:  # a bad IPv6 address or port; the URL may hold a secret
        raise RequestError(
            f"base_url is not a URL ({error}); give one such as 'http://localhost:8080/v1'"
        ) from error
    if extra_body is not None and not isinstance(extra_body, Mapping):
        raise RequestTypeError(
            f"extra_body must be a dict of JSON fields (received {type(extra_body).__name__})"
        )
    if grammar not in get_args(GrammarMode):
        raise RequestError(
            f"grammar must be one of {', '.join(get_args(GrammarMode))} (received {grammar!r})"
        )
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int):
        raise RequestTypeError(f"max_attempts must be a whole number (received {max_attempts!r})")
    if max_attempts < 1:
        raise RequestError(f"max_attempts must be at least 1 (received {max_attempts})")
    for name, value in (("timeout", timeout), ("deadline", deadline)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RequestTypeError(f"{name} must be a number of seconds (received {value!r})")
        if not value > 0:
            raise RequestError(f"{name} must be positive seconds (received {value})")


def _text(content: Any, where: str) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [part.get("text") if isinstance(part, dict) else part for part in content]
        texts = [part for part in parts if isinstance(part, str)]
        if len(texts) == len(parts):
            return "".join(texts)
    raise TransientError(
        f"unreadable answer from the server{where}: the message content is "
        f"{type(content).__name__} {str(content)[:40]!r}, not text"
    )


def _count(value: Any) -> int:
    """A token count from ``usage``; a server that sends something else counts as 0."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if value is not None:
        logger.debug("ignoring a token count that is not a number: %r", value)
    return 0


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    for header, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(header)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / scale)
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
        return max(0.0, when.timestamp() - time.time())
    return None


def version(text: str) -> tuple[int, ...]:
    """``"0.11.2"`` → (0, 11); an unreadable version reads as the newest."""
    numbers = re.findall(r"\d+", text)[:2]
    return tuple(int(n) for n in numbers) if len(numbers) == 2 else (10**6,)


def waiting(backoff: Callable[[Any], float]) -> Callable[[Any], float]:
    """Retry-After when the server gave one, else ``backoff`` (exponential with jitter)."""

    def wait(state: Any) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, TransientError) and error.retry_after is not None:
            return error.retry_after
        return backoff(state)

    return wait
