"""OpenAI and every OpenAI-compatible server (vLLM, llama.cpp, Ollama), through the openai SDK.

Chat completions, sync and async. Transient failures (timeouts, lost connections, 429,
5xx, an answer with no choices) are retried with tenacity: exponential backoff with jitter,
``Retry-After`` honoured, a bounded number of attempts and a total deadline. Permanent ones
(401, 403, 404, 400) fail at once with a :class:`~tunesmith.errors.BackendError` that says
what to fix. The API key never appears in an error, a log line or a report.

Grammar modes (how the constrained grammar travels, see ``docs/backends.md``):

``"none"``
    validate and repair only (OpenAI itself, Ollama, unknown servers);
``"llama.cpp"``
    the GBNF in the request's ``grammar`` field (llama.cpp's server, llama-cpp-python's);
``"vllm"``
    ``structured_outputs={"grammar": ...}`` (vLLM 0.12 and later);
``"vllm-legacy"``
    ``guided_grammar`` (vLLM before 0.12);
``"auto"``
    asks the server's ``/v1/models`` once: ``owned_by`` "vllm" → vllm, "llamacpp" or
    "me" (llama-cpp-python) → llama.cpp, anything else → none.
"""

from __future__ import annotations

import logging
import os
import random
import time
from typing import Any, Literal, get_args

from tunesmith.backends.base import Completion, Prompt
from tunesmith.errors import BackendError, DependencyError, RequestError

__all__ = ["GrammarMode", "OpenAIBackend"]

logger = logging.getLogger(__name__)
GrammarMode = Literal["auto", "none", "llama.cpp", "vllm", "vllm-legacy"]
DEFAULT_MODEL = "gpt-4.1-mini"
_OWNERS = {"vllm": "vllm", "llamacpp": "llama.cpp", "me": "llama.cpp"}


def _openai() -> Any:
    try:
        import openai  # noqa: PLC0415 - only for this backend
    except ImportError:
        raise DependencyError(
            "the openai package is not installed", hint="pip install openai"
        ) from None
    return openai


class _TransientError(Exception):
    """A failure worth retrying, with the server's Retry-After when it gave one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OpenAIBackend:
    """Chat completions from OpenAI or any OpenAI-compatible server.

    Parameters
    ----------
    model:
        The model name; default ``$TUNESMITH_MODEL`` or ``gpt-4.1-mini``.
    base_url:
        The server, e.g. ``http://127.0.0.1:8000/v1``; default ``$TUNESMITH_BASE_URL``, then
        the SDK's own ``$OPENAI_BASE_URL``, then OpenAI.
    api_key:
        Default: the SDK's ``$OPENAI_API_KEY``; local servers that need none get a placeholder.
    grammar:
        How to send the constrained grammar (see the module docstring).
    timeout:
        Seconds for one HTTP request.
    max_attempts:
        HTTP attempts per completion, retries included.
    deadline:
        Seconds for one completion, retries and waits included.
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        grammar: GrammarMode = "auto",
        timeout: float = 120.0,
        max_attempts: int = 5,
        deadline: float = 600.0,
        client: Any = None,
        async_client: Any = None,
    ) -> None:
        if grammar not in get_args(GrammarMode):
            raise RequestError(
                f"grammar must be one of {', '.join(get_args(GrammarMode))} (received {grammar!r})"
            )
        if max_attempts < 1 or timeout <= 0 or deadline <= 0:
            raise RequestError("max_attempts, timeout and deadline must be positive")
        self._model = model or os.environ.get("TUNESMITH_MODEL") or DEFAULT_MODEL
        self._base_url = base_url or os.environ.get("TUNESMITH_BASE_URL") or None
        self._api_key = api_key
        self._grammar_mode: GrammarMode = grammar
        self._timeout, self._max_attempts, self._deadline = timeout, max_attempts, deadline
        self._client, self._async_client = client, async_client
        self._secret = api_key or os.environ.get("OPENAI_API_KEY") or ""

    @classmethod
    def from_client(
        cls, client: Any, *, model: str, grammar: GrammarMode = "none"
    ) -> OpenAIBackend:
        """A backend on a client the user already has (``openai.OpenAI`` or ``AsyncOpenAI``)."""
        openai = _openai()
        if isinstance(client, openai.AsyncOpenAI):
            backend = cls(model, grammar=grammar, async_client=client)
        else:
            backend = cls(model, grammar=grammar, client=client)
        backend._secret = str(getattr(client, "api_key", "") or "")
        return backend

    def _options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"timeout": self._timeout, "max_retries": 0}
        if self._base_url:
            options["base_url"] = self._base_url
        key = self._api_key or os.environ.get("OPENAI_API_KEY")
        if key is None and (self._base_url or os.environ.get("OPENAI_BASE_URL")):
            key = "not-needed"  # local servers take any key; the SDK insists on one
        if key is None:
            raise BackendError(
                "no API key for OpenAI",
                hint="set OPENAI_API_KEY, pass api_key=, or give base_url= for a local server",
            )
        options["api_key"] = key
        self._secret = key
        return options

    @property
    def client(self) -> Any:
        """The synchronous ``openai.OpenAI`` client (made on first use)."""
        if self._client is None:
            self._client = _openai().OpenAI(**self._options())
        return self._client

    @property
    def async_client(self) -> Any:
        """The ``openai.AsyncOpenAI`` client (made on first use)."""
        if self._async_client is None:
            self._async_client = _openai().AsyncOpenAI(**self._options())
        return self._async_client

    @property
    def name(self) -> str:
        """``"openai"``."""
        return "openai"

    @property
    def model(self) -> str:
        """The model asked."""
        return self._model

    @property
    def grammar_mode(self) -> GrammarMode:
        """The grammar mode in use; ``"auto"`` is resolved on first use."""
        if self._grammar_mode == "auto":
            self._grammar_mode = self._detect_grammar_mode()
        return self._grammar_mode

    @property
    def supports_grammar(self) -> bool:
        """Whether the constrained grammar is sent with each request."""
        return self.grammar_mode != "none"

    def _detect_grammar_mode(self) -> GrammarMode:
        if self._client is None and self._async_client is not None:
            return "none"  # an async-only client cannot be asked synchronously
        try:
            models = self.client.models.list(timeout=min(self._timeout, 10.0))
            owners = {str(getattr(m, "owned_by", "")).lower() for m in models.data}
        except Exception as error:  # any failure: stay safe and send no grammar
            logger.info(
                "grammar auto-detection failed (%s); sending no grammar", type(error).__name__
            )
            return "none"
        modes = {_OWNERS[o] for o in owners if o in _OWNERS}
        mode: GrammarMode = modes.pop() if len(modes) == 1 else "none"  # type: ignore[assignment]
        logger.info("server models owned by %s: grammar mode %s", sorted(owners), mode)
        return mode

    def _request(
        self,
        prompt: Prompt,
        grammar: str | None,
        max_tokens: int,
        temperature: float,
        seed: int | None,
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self._model,
            "messages": list(prompt.messages),
            "max_tokens": max_tokens,
            "temperature": temperature,
        }
        if seed is not None:
            request["seed"] = seed
        mode = self.grammar_mode
        if grammar and mode == "llama.cpp":
            request["extra_body"] = {"grammar": grammar}
        elif grammar and mode == "vllm":
            request["extra_body"] = {"structured_outputs": {"grammar": grammar}}
        elif grammar and mode == "vllm-legacy":
            request["extra_body"] = {"guided_grammar": grammar}
        return request

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    def _classify(self, error: Exception) -> Exception:  # noqa: PLR0911 - one case per kind
        """A transient marker to retry, or the BackendError to raise."""
        openai = _openai()
        message = self._redact(str(error))
        where = f" at {self._base_url}" if self._base_url else ""
        if isinstance(error, openai.APITimeoutError):
            return _TransientError(f"the server{where} did not answer within {self._timeout:g} s")
        if isinstance(error, openai.APIConnectionError):
            return _TransientError(f"cannot reach the server{where}: {message}")
        if isinstance(error, openai.RateLimitError | openai.InternalServerError) or (
            isinstance(error, openai.APIStatusError)
            and error.status_code in {408, 409} | set(range(500, 600))
        ):
            header = (
                error.response.headers.get("retry-after") if error.response is not None else None
            )
            return _TransientError(f"HTTP {error.status_code}{where}: {message}", _seconds(header))
        if isinstance(error, openai.AuthenticationError):
            return BackendError(
                f"the server{where} refused the API key (HTTP 401)",
                hint="check OPENAI_API_KEY or the api_key= you passed",
            )
        if isinstance(error, openai.PermissionDeniedError):
            return BackendError(
                f"HTTP 403{where}: {message}", hint="the key may not use this model"
            )
        if isinstance(error, openai.NotFoundError):
            return BackendError(
                f"HTTP 404{where}: model {self._model!r} or the endpoint was not found",
                hint="check model= and that base_url ends in /v1",
            )
        if isinstance(error, openai.APIStatusError):
            return BackendError(
                f"HTTP {error.status_code}{where}: {message}", hint="check the request options"
            )
        if isinstance(error, openai.OpenAIError):
            return BackendError(f"the openai SDK failed: {message}")
        return error

    def _completion(self, response: Any, started: float) -> Completion:
        choices = getattr(response, "choices", None) or []
        if not choices:
            raise _TransientError("the server answered with no choices")
        choice = choices[0]
        usage = getattr(response, "usage", None)
        return Completion(
            text=(choice.message.content if choice.message else None) or "",
            model=str(getattr(response, "model", None) or self._model),
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            finish_reason=str(choice.finish_reason or "stop"),
            seconds=time.perf_counter() - started,
        )

    def _retrying(self) -> Any:
        import tenacity  # noqa: PLC0415

        return {
            "retry": tenacity.retry_if_exception_type(_TransientError),
            "stop": tenacity.stop_after_attempt(self._max_attempts)
            | tenacity.stop_after_delay(self._deadline),
            "wait": _wait,
            "reraise": True,
            "before_sleep": lambda state: logger.info(
                "attempt %d failed (%s); retrying", state.attempt_number, state.outcome.exception()
            ),
        }

    def _give_up(self, error: _TransientError, started: float) -> BackendError:
        return BackendError(
            f"gave up after {time.perf_counter() - started:.1f} s: {error}",
            retryable=True,
            hint="the server may be overloaded or down; try again later or raise deadline=",
        )

    def complete(
        self,
        prompt: Prompt,
        *,
        grammar: str | None,
        max_tokens: int,
        temperature: float,
        seed: int | None,
    ) -> Completion:
        """One chat completion, retried on transient failures."""
        import tenacity  # noqa: PLC0415

        request = self._request(prompt, grammar, max_tokens, temperature, seed)
        started = time.perf_counter()
        try:
            for attempt in tenacity.Retrying(**self._retrying()):
                with attempt:
                    attempt_started = time.perf_counter()
                    try:
                        response = self.client.chat.completions.create(**request)
                    except Exception as error:
                        raise self._classify(error) from None
                    return self._completion(response, attempt_started)
        except _TransientError as error:
            raise self._give_up(error, started) from None
        raise AssertionError("unreachable: tenacity returns or raises")  # pragma: no cover

    async def acomplete(
        self,
        prompt: Prompt,
        *,
        grammar: str | None,
        max_tokens: int,
        temperature: float,
        seed: int | None,
    ) -> Completion:
        """:meth:`complete` on the async client."""
        import tenacity  # noqa: PLC0415

        if self._grammar_mode == "auto" and self._client is None and self._async_client is None:
            self._grammar_mode = self._detect_grammar_mode()
        request = self._request(prompt, grammar, max_tokens, temperature, seed)
        started = time.perf_counter()
        try:
            async for attempt in tenacity.AsyncRetrying(**self._retrying()):
                with attempt:
                    attempt_started = time.perf_counter()
                    try:
                        response = await self.async_client.chat.completions.create(**request)
                    except Exception as error:
                        raise self._classify(error) from None
                    return self._completion(response, attempt_started)
        except _TransientError as error:
            raise self._give_up(error, started) from None
        raise AssertionError("unreachable: tenacity returns or raises")  # pragma: no cover


def _seconds(header: str | None) -> float | None:
    try:
        return max(0.0, float(header)) if header is not None else None
    except ValueError:
        return None


def _wait(state: Any) -> float:
    """Retry-After when the server gave one (capped at 30 s), else backoff with jitter."""
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, _TransientError) and error.retry_after is not None:
        return min(error.retry_after, 30.0)
    backoff = min(8.0, 0.25 * 2 ** (state.attempt_number - 1))
    return float(backoff + random.uniform(0, backoff / 2))
