"""OpenAI and every OpenAI-compatible server (vLLM, SGLang, llama.cpp, Ollama), via the openai SDK.

Chat completions, sync and async. Transient failures (timeouts, lost connections, 408, 409,
429, 5xx, an answer with no choices or one that cannot be read) are retried with tenacity:
exponential backoff with jitter, ``Retry-After`` honoured, a bounded number of attempts and
a total deadline that bounds the whole call, answer bodies included (a server that drips
its answer is cut at the deadline). Permanent ones (400, 401, 403, 404, 422, an answer far
longer than ``max_tokens`` allows) fail at once with a :class:`~tunesmith.errors.BackendError`
that says what to fix. A 400 that names a parameter the model does not take
(``temperature``, ``seed``, ``max_tokens`` on OpenAI's reasoning models) is answered once by
dropping or renaming that parameter. No exception of the SDK or its HTTP client escapes (it
is kept as the ``__cause__``), and the API key, or a key in ``base_url``, never appears in
an error, a log line (the HTTP stack's included) or a report.

Grammar modes (how the constrained grammar travels; see ``docs/backends.md``):

``"none"``
    no grammar: validate, feed back, repair (OpenAI's older models, Ollama, unknown servers);
``"llama.cpp"``
    GBNF in the request's ``grammar`` field (llama.cpp's ``llama-server``, llama-cpp-python);
``"vllm"``
    ``structured_outputs={"grammar": GBNF}`` (vLLM 0.12 and later);
``"vllm-legacy"``
    ``guided_grammar`` (vLLM before 0.12, which removed it);
``"sglang"``
    ``ebnf`` (SGLang; its xgrammar backend reads GBNF);
``"openai"``
    a custom tool whose input is constrained by the grammar in Lark syntax (OpenAI's GPT-5
    models); never chosen by ``"auto"``;
``"auto"``
    asks the server's ``GET /v1/models`` once: ``owned_by`` "vllm" (then ``GET /version``:
    before 0.12 → vllm-legacy), "sglang", "llamacpp" or "me" (llama-cpp-python) picks that
    server's mode; anything else, or no answer, sends no grammar.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import weakref
from collections.abc import Mapping
from typing import Any

import tenacity

from tunesmith.backends.base import Completion, Prompt
from tunesmith.backends.grammar_modes import detect_grammar_mode, place_grammar
from tunesmith.backends.openai_answers import (
    GrammarMode,
    TransientError,
    check_options,
    classify,
    read_completion,
)
from tunesmith.backends.openai_clients import async_client, client_options, load_openai
from tunesmith.backends.openai_transport import Call
from tunesmith.backends.secrets import display_url, protect, redact, url_secrets
from tunesmith.errors import RequestError

__all__ = ["GrammarMode", "OpenAIBackend"]

logger = logging.getLogger(__name__)
DEFAULT_MODEL = "gpt-4.1-mini"
_ADJUSTABLE = {"temperature", "seed", "max_tokens"}
"""Parameters some models refuse (OpenAI's reasoning models): dropped, or renamed, on a 400."""


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
        Default: the SDK's ``$OPENAI_API_KEY``; a server given by URL that needs no key gets
        a placeholder.
    grammar:
        How to send the constrained grammar (see the module docstring); default ``"auto"``.
    timeout:
        Seconds for one HTTP request (never more than what is left of ``deadline``).
    max_attempts:
        HTTP attempts per completion, retries included.
    deadline:
        Seconds for one completion, retries and waits included.
    extra_body:
        Extra JSON fields for every request, e.g. ``{"top_k": 40}`` for vLLM or
        ``{"reasoning_effort": "minimal"}`` for OpenAI's reasoning models.

    Use it as a context manager, or call :meth:`close`, to close its connections.
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
        extra_body: Mapping[str, Any] | None = None,
    ) -> None:
        check_options(
            model=model,
            base_url=base_url,
            api_key=api_key,
            grammar=grammar,
            timeout=timeout,
            max_attempts=max_attempts,
            deadline=deadline,
            extra_body=extra_body,
        )
        self._model = model or os.environ.get("TUNESMITH_MODEL") or DEFAULT_MODEL
        self._base_url = base_url or os.environ.get("TUNESMITH_BASE_URL") or None
        self._api_key = api_key
        self._grammar_mode: GrammarMode = grammar
        self._timeout, self._max_attempts, self._deadline = timeout, max_attempts, deadline
        self._extra_body = dict(extra_body or {})
        self._owns_clients = True
        self._client: Any = None  # the sync client: ours, or the user's
        self._user_async: Any = None  # the user's AsyncOpenAI, if given one
        self._user_async_loop: asyncio.AbstractEventLoop | None = None  # its first loop
        self._loop_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )
        self._refused: set[str] = set()  # parameters the model refused (see _ADJUSTABLE)
        self._lock = threading.Lock()
        self._secret = api_key or os.environ.get("OPENAI_API_KEY") or ""
        protect([self._secret, *url_secrets(self._base_url)])

    @classmethod
    def from_client(
        cls,
        client: Any,
        *,
        model: str,
        grammar: GrammarMode = "none",
        timeout: float = 120.0,
        max_attempts: int = 5,
        deadline: float = 600.0,
        extra_body: Mapping[str, Any] | None = None,
    ) -> OpenAIBackend:
        """A backend on a client the user already has: ``openai.OpenAI`` or ``AsyncOpenAI``.

        The client keeps its base URL, key, headers and HTTP settings; its own retries are
        turned off (tunesmith retries). An ``AsyncOpenAI`` belongs to the event loop it is
        first used in: use it with :func:`~tunesmith.compose_async` in that loop. A sync
        ``OpenAI`` works everywhere (:func:`~tunesmith.compose_many` runs it in threads).
        """
        openai = load_openai()
        if not isinstance(client, openai.OpenAI | openai.AsyncOpenAI):
            raise RequestError(
                "from_client takes an openai.OpenAI or openai.AsyncOpenAI "
                f"(received {type(client).__name__})"
            )
        backend = cls(
            model,
            grammar=grammar,
            timeout=timeout,
            max_attempts=max_attempts,
            deadline=deadline,
            extra_body=extra_body,
        )
        backend._owns_clients = False
        backend._base_url = str(getattr(client, "base_url", "") or "") or None
        quiet = client.with_options(max_retries=0)
        if isinstance(client, openai.AsyncOpenAI):
            backend._user_async = quiet
        else:
            backend._client = quiet
        backend._secret = str(getattr(client, "api_key", "") or "")
        protect([backend._secret, *url_secrets(backend._base_url)])
        return backend

    def __repr__(self) -> str:
        url = display_url(self._base_url) if self._base_url else None
        return (
            f"OpenAIBackend(model={self._model!r}, base_url={url!r}, "
            f"grammar={self._grammar_mode!r})"
        )

    def __enter__(self) -> OpenAIBackend:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections of the clients this backend made (not a client it was given)."""
        if self._owns_clients and self._client is not None:
            self._client.close()
            self._client = None

    def _options(self) -> dict[str, Any]:
        options, secret = client_options(self._base_url, self._api_key, self._timeout)
        if secret:
            self._secret = secret
        return options

    @property
    def client(self) -> Any:
        """The synchronous ``openai.OpenAI`` client (made on first use)."""
        if self._client is None:
            if not self._owns_clients:
                raise RequestError(
                    "this OpenAIBackend wraps an openai.AsyncOpenAI client, so it can only be "
                    "used from asyncio: call compose_async, or give from_client an openai.OpenAI"
                )
            self._client = load_openai().OpenAI(**self._options())
        return self._client

    def _async_client(self) -> Any:
        """The async client for the running event loop.

        httpx connections belong to the loop that opened them, and compose_many runs a new
        loop per call, so tunesmith makes one client per loop, without keep-alive: nothing is
        left open when a loop ends.
        """
        loop = asyncio.get_running_loop()
        if self._user_async is not None:
            first = self._user_async_loop
            if first is not None and first is not loop and first.is_closed():
                raise RequestError(
                    "the openai.AsyncOpenAI given to from_client was first used in an event "
                    "loop that has ended (compose_many runs a new loop per call): give "
                    "from_client an openai.OpenAI, or let OpenAIBackend(base_url=...) make "
                    "its own clients"
                )
            self._user_async_loop = loop
            return self._user_async
        client = self._loop_clients.get(loop)
        if client is None:
            client = async_client(self._options())
            self._loop_clients[loop] = client
        return client

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
        """The grammar mode in use; ``"auto"`` is resolved on first use (one HTTP request)."""
        with self._lock:
            if self._grammar_mode == "auto":
                self._grammar_mode = self._detect_grammar_mode()
            return self._grammar_mode

    @property
    def supports_grammar(self) -> bool:
        """Whether the constrained grammar is sent with each request."""
        return self.grammar_mode != "none"

    def _detect_grammar_mode(self) -> GrammarMode:
        if self._client is None and not self._owns_clients:
            logger.info("grammar auto-detection needs a sync client; sending no grammar")
            return "none"
        return detect_grammar_mode(self.client, min(self._timeout, 10.0))

    def _request(
        self,
        prompt: Prompt,
        grammar: str | None,
        max_tokens: int,
        temperature: float,
        seed: int | None,
    ) -> dict[str, Any]:
        request: dict[str, Any] = {"model": self._model, "messages": list(prompt.messages)}
        refused = self._refused
        request["max_completion_tokens" if "max_tokens" in refused else "max_tokens"] = max_tokens
        if "temperature" not in refused:
            request["temperature"] = temperature
        if seed is not None and "seed" not in refused:
            request["seed"] = seed
        extra = dict(self._extra_body)
        if grammar:
            place_grammar(self.grammar_mode, grammar, request, extra)
        if extra:
            request["extra_body"] = extra
        return request

    def _sends(self, grammar: str | None) -> bool:
        return bool(grammar) and self.grammar_mode != "none"

    def _redact(self, text: str) -> str:
        return redact(text, [self._secret, *url_secrets(self._base_url)])

    @property
    def _where(self) -> str:
        return f" at {display_url(self._base_url)}" if self._base_url else ""

    def _classify(self, error: Exception, *, constrained: bool) -> Exception:
        """A transient marker to retry, or the BackendError to raise."""
        return classify(
            load_openai(),
            error,
            where=self._where,
            model=self._model,
            mode=self._grammar_mode,
            constrained=constrained,
            redact=self._redact,
            adjusted=self._adjusted,
        )

    def _adjusted(self, error: Any) -> bool:
        """Drop or rename a parameter the model refused; False if there is none to adjust."""
        param = str(getattr(error, "param", "") or "")
        code = str(getattr(error, "code", "") or "")
        if code not in {"unsupported_parameter", "unsupported_value"}:
            return False
        if param not in _ADJUSTABLE or param in self._refused:
            return False
        logger.info("model %s refuses %s (%s); adjusting", self._model, param, code)
        self._refused.add(param)
        return True

    def _completion(self, body: bytes, started: float) -> Completion:
        return read_completion(
            body, started, where=self._where, model=self._model, redact=self._redact
        )

    def _call(self, grammar: str | None, max_tokens: int) -> Call:
        return Call(
            timeout=self._timeout,
            max_attempts=self._max_attempts,
            deadline=self._deadline,
            max_tokens=max_tokens,
            where=self._where,
            classify=lambda error: self._classify(error, constrained=self._sends(grammar)),
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
        """One chat completion, retried on transient failures, within the deadline."""
        client = self.client
        call = self._call(grammar, max_tokens)
        try:
            for attempt in tenacity.Retrying(**call.retrying()):
                with attempt:
                    call.attempts += 1
                    request = self._request(prompt, grammar, max_tokens, temperature, seed)
                    attempt_started = time.perf_counter()
                    body = call.post(client, request)
                    return self._completion(body, attempt_started)
        except TransientError as error:
            raise call.give_up(error) from error
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
        """:meth:`complete` for asyncio; a sync client given to ``from_client`` runs in a thread."""
        if not self._owns_clients and self._user_async is None:
            return await asyncio.to_thread(
                self.complete,
                prompt,
                grammar=grammar,
                max_tokens=max_tokens,
                temperature=temperature,
                seed=seed,
            )
        client = self._async_client()
        call = self._call(grammar, max_tokens)
        try:
            async for attempt in tenacity.AsyncRetrying(**call.retrying()):
                with attempt:
                    call.attempts += 1
                    request = self._request(prompt, grammar, max_tokens, temperature, seed)
                    attempt_started = time.perf_counter()
                    body = await call.apost(client, request)
                    return self._completion(body, attempt_started)
        except TransientError as error:
            raise call.give_up(error) from error
        raise AssertionError("unreachable: tenacity returns or raises")  # pragma: no cover
