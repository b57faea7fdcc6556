"""The orchestration: request → plan → prompt → model (constrained) → critic → validate → repair.

:func:`compose` returns a :class:`~tunesmith.pipeline.composition.Composition`: the tune, the
request and a :class:`~tunesmith.pipeline.composition.Report` of everything that happened on
the way.

On the embedded model, tunesmith runs the decoding loop itself (:mod:`tunesmith.decoding.decode`):
several candidates side by side, each written bar by bar through the tune's plan under
grammars and musical rules, and the critic (:mod:`tunesmith.checks.critic`) keeps the best. A
server gets the whole tune's grammar in one request (:mod:`tunesmith.pipeline.exchange`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import difflib
import os
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, closing, nullcontext
from typing import Any, cast

from tunesmith.backends.base import Backend, LoopBackend
from tunesmith.backends.local import FOLK_ADAPTER, LocalBackend
from tunesmith.backends.openai import OpenAIBackend
from tunesmith.errors import RequestError, RequestTypeError, TunesmithError
from tunesmith.interpreting.interpret import interpret
from tunesmith.pipeline.candidates import compose_in_loop
from tunesmith.pipeline.composition import Composition
from tunesmith.pipeline.exchange import Session
from tunesmith.requests.request import ComposeRequest
from tunesmith.writing.prompts import tune_title
from tunesmith.writing.script import Writing

__all__ = [
    "backend_from_options",
    "compose",
    "compose_async",
    "compose_many",
    "default_backend",
]

DEFAULT_TIMEOUT = 300.0
"""Seconds the embedded model may take for one tune before a BackendError (not counting
time spent waiting while another of the process's tunes holds the model)."""

_default_backend: Backend | None = None


def backend_from_options(
    backend: str | None = None,
    *,
    base_url: str | None = None,
    model: str | None = None,
    adapter: str | None = None,
) -> Backend:
    """A backend by name: ``"local"`` (the embedded model) or ``"openai"`` (any
    OpenAI-compatible server); unset options come from ``TUNESMITH_BACKEND``,
    ``TUNESMITH_BASE_URL`` and ``TUNESMITH_MODEL``. ``adapter`` is the local model's LoRA:
    a GGUF file, or ``"none"`` for the model as it is (default: the folk adapter).
    """  # noqa: D205 - the options read best as one sentence
    name = (backend or os.environ.get("TUNESMITH_BACKEND") or "local").strip().lower()
    if adapter is not None and name != "local":
        raise RequestError("adapter is for the local backend; drop --adapter or --backend openai")
    if name == "openai":
        return OpenAIBackend(model, base_url=base_url)
    if name == "local":
        if base_url is not None:
            raise RequestError("base_url is for the openai backend; add --backend openai")
        chosen = None if adapter == "none" else adapter or FOLK_ADAPTER
        return LocalBackend(model, adapter=chosen)
    raise RequestError(f"unknown backend {name!r}: use 'local' or 'openai'")


def _backend(backend: Backend | str | None) -> Backend:
    """The backend to use: a Backend as it is, a name such as "openai", or the default."""
    if backend is None:
        return default_backend()
    if isinstance(backend, str):
        return backend_from_options(backend)
    if not callable(getattr(backend, "complete", None)):  # isinstance would ask the server
        raise RequestTypeError(
            "backend must be a Backend such as OpenAIBackend(...) or LocalBackend(), or the "
            f"name 'local' or 'openai' (received {type(backend).__name__})"
        )
    return backend


def _closing(given: Backend | str | None, chosen: Backend) -> AbstractContextManager[Any]:
    """Closes ``chosen`` afterwards if it was made here from a name.

    Its connections are then tunesmith's to close; a backend the caller gave, or the
    default backend, stays open.
    """
    made_here = isinstance(given, str) and callable(getattr(chosen, "close", None))
    return closing(cast(Any, chosen)) if made_here else nullcontext()


def _loop_backend(backend: Backend) -> LoopBackend | None:
    """The backend if it runs tunesmith's decoding loop (checked on its type: an instance
    check would read properties, and ``OpenAIBackend.supports_grammar`` asks the server).
    """  # noqa: D205
    kind = type(backend)
    if callable(getattr(kind, "write", None)) and isinstance(getattr(kind, "spelling", None), str):
        return cast(LoopBackend, backend)
    return None


def _check_settings(
    max_attempts: Any, temperature: Any, candidates: Any = None, timeout: Any = DEFAULT_TIMEOUT
) -> None:
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int):
        raise RequestTypeError(f"max_attempts must be a whole number (received {max_attempts!r})")
    if max_attempts < 1:
        raise RequestError(f"max_attempts must be at least 1 (received {max_attempts})")
    if isinstance(temperature, bool) or not isinstance(temperature, int | float):
        raise RequestTypeError(f"temperature must be a number (received {temperature!r})")
    if not 0 <= temperature <= 2:
        raise RequestError(f"temperature must be between 0 and 2 (received {temperature})")
    if candidates is not None and (isinstance(candidates, bool) or not isinstance(candidates, int)):
        raise RequestTypeError(f"candidates must be a whole number (received {candidates!r})")
    if candidates is not None and candidates < 1:
        raise RequestError(f"candidates must be at least 1 (received {candidates})")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise RequestTypeError(f"timeout must be a number of seconds (received {timeout!r})")
    if not timeout > 0:
        raise RequestError(f"timeout must be positive seconds (received {timeout})")


def default_backend() -> Backend:
    """The backend ``TUNESMITH_BACKEND`` names (default: the embedded model), made once."""
    global _default_backend  # noqa: PLW0603 - one model per process, loaded on first use
    if _default_backend is None:
        _default_backend = backend_from_options()
    return _default_backend


def _request(
    request: ComposeRequest | Mapping[str, Any] | str | None,
    options: dict[str, Any],
    backend: Backend | None,
) -> ComposeRequest:
    if isinstance(request, str):  # words: options given explicitly win over them
        return interpret(request, backend=backend, **options)
    if request is None:
        return ComposeRequest(**options)
    if options:
        raise RequestError(
            f"pass either a ComposeRequest or keyword options, not both (got {sorted(options)})"
        )
    if isinstance(request, Mapping):
        return ComposeRequest.model_validate(request)
    if not isinstance(request, ComposeRequest):
        raise RequestTypeError(
            "request must be a ComposeRequest or a dict of its options, or words "
            f"(received {type(request).__name__})"
        )
    return request


def _titled(request: ComposeRequest) -> ComposeRequest:
    """The request with its title, or one from its style and pitches ("Jig in D major")."""
    if request.title is not None:
        return request
    return request.model_copy(update={"title": tune_title(Writing.of(request))})


def compose(
    request: ComposeRequest | Mapping[str, Any] | str | None = None,
    /,
    *,
    backend: Backend | str | None = None,
    strict: bool = False,
    max_attempts: int = 3,
    temperature: float = 0.8,
    candidates: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    **options: Any,
) -> Composition:
    """Compose a tune that satisfies every constraint of the request.

    Pass a :class:`ComposeRequest` (or a dict of its fields), its fields as keyword
    arguments, or words (read by :func:`~tunesmith.interpret`; keyword arguments win over
    the words)::

        compose(notes=["A", "B", "C#", "F#", "G"], meter="6/8", bars=16, seed=7)
        compose("a slow air in E dorian for fiddle, 16 bars", seed=7)

    ``backend`` is a :class:`~tunesmith.Backend`, or the name ``"local"`` or ``"openai"``
    (made as :func:`backend_from_options` makes it); default ``$TUNESMITH_BACKEND``.

    On the embedded model, ``candidates`` tunes (default: the backend's lanes, 4) are
    written side by side and the critic keeps the most folk-like; ``timeout`` bounds the
    seconds that takes, not counting a wait while another of the process's tunes holds the
    model (:mod:`tunesmith.backends.sharing`). On a server, the model writes under
    a grammar derived from the request when the server takes one; an answer that does not
    parse or breaks a constraint is retried with feedback up to ``max_attempts`` times, then
    the best answer is repaired, unless ``strict`` is set, in which case
    :class:`CompositionError` lists what was wrong.

    Raises
    ------
    RequestError
        A bad argument (the message says which and what is allowed).
    BackendError
        The model could not be asked, or ran past ``timeout``.
    CompositionError
        No answer could be parsed, or ``strict`` and the answer broke a constraint.
    """
    _check_settings(max_attempts, temperature, candidates, timeout)
    # a bad option is free: found before the backend is made (words need the backend)
    given = None if isinstance(request, str) else _request(request, options, None)
    chosen = _backend(backend)
    with _closing(backend, chosen):
        composing = _titled(given if given is not None else _request(request, options, chosen))
        if (looping := _loop_backend(chosen)) is not None:
            return compose_in_loop(
                composing, looping, candidates=candidates, temperature=temperature, timeout=timeout
            )
        session = Session(
            composing, chosen, strict=strict, max_attempts=max_attempts, temperature=temperature
        )
        while (call := session.next_call()) is not None:
            session.take(chosen.complete(session.prompt, **call))
        return session.finish()


async def compose_async(
    request: ComposeRequest | Mapping[str, Any] | str | None = None,
    /,
    *,
    backend: Backend | str | None = None,
    strict: bool = False,
    max_attempts: int = 3,
    temperature: float = 0.8,
    candidates: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    **options: Any,
) -> Composition:
    """:func:`compose` for asyncio: awaits the backend's ``acomplete`` when it has one.

    The embedded model runs in a worker thread, and so does anything else that may block:
    reading words, making the backend, and asking it whether it takes a grammar
    (``OpenAIBackend(grammar="auto")`` asks the server once).
    """
    _check_settings(max_attempts, temperature, candidates, timeout)
    given = None if isinstance(request, str) else _request(request, options, None)
    chosen = await asyncio.to_thread(_backend, backend)
    with _closing(backend, chosen):
        if given is None:
            given = await asyncio.to_thread(_request, request, options, chosen)
        composing = _titled(given)
        if (looping := _loop_backend(chosen)) is not None:
            return await asyncio.to_thread(
                compose_in_loop,
                composing,
                looping,
                candidates=candidates,
                temperature=temperature,
                timeout=timeout,
            )
        await asyncio.to_thread(getattr, chosen, "supports_grammar")  # resolved and kept
        session = Session(
            composing, chosen, strict=strict, max_attempts=max_attempts, temperature=temperature
        )
        acomplete = getattr(chosen, "acomplete", None)
        while (call := session.next_call()) is not None:
            if acomplete is not None:
                completion = await acomplete(session.prompt, **call)
            else:
                completion = await asyncio.to_thread(chosen.complete, session.prompt, **call)
            session.take(completion)
        return session.finish()


def compose_many(
    requests: Iterable[ComposeRequest | Mapping[str, Any] | str],
    *,
    backend: Backend | str | None = None,
    concurrency: int = 4,
    on_result: Callable[[int, Composition | TunesmithError], None] | None = None,
    strict: bool = False,
    max_attempts: int = 3,
    temperature: float = 0.8,
    candidates: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    **unknown: Any,
) -> list[Composition | TunesmithError]:
    """Compose many requests concurrently; results come back in the order of ``requests``.

    Each request is what :func:`compose` takes: a :class:`ComposeRequest`, a dict of its
    fields, or words (``"a slow air in E dorian, 16 bars"``). At most ``concurrency``
    requests are in flight at once. One failing request does not lose the others: its place
    in the result holds the :class:`TunesmithError` it raised (a request given as a dict of
    options that is not valid, too).
    ``on_result(index, result)`` is called as each one finishes (for progress bars, or to
    write each result at once). ``strict``, ``max_attempts``, ``temperature``,
    ``candidates`` and ``timeout`` apply to every request, as in :func:`compose`.

    Works from inside a running event loop too (Jupyter): the batch then runs in a
    worker thread with its own loop; in async code, gather :func:`compose_async` instead.
    The embedded model composes one request at a time (its candidates side by side).
    """
    if unknown:  # a misspelt option is named, as compose() names one (a TypeError, as Python's)
        allowed = (
            "backend",
            "concurrency",
            "on_result",
            "strict",
            "max_attempts",
            "temperature",
            "candidates",
            "timeout",
        )
        name = sorted(unknown)[0]
        close = difflib.get_close_matches(name, allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise RequestTypeError(
            f"unknown option {name!r}{hint}: compose_many's options are {', '.join(allowed)}"
        )
    if isinstance(concurrency, bool) or not isinstance(concurrency, int):
        raise RequestTypeError(f"concurrency must be a whole number (received {concurrency!r})")
    if concurrency < 1:
        raise RequestError(f"concurrency must be at least 1 (received {concurrency})")
    _check_settings(max_attempts, temperature, candidates, timeout)
    requests = list(requests)
    for index, request in enumerate(requests):
        if not isinstance(request, ComposeRequest | Mapping | str):
            raise RequestTypeError(
                f"requests[{index}] must be a ComposeRequest, a dict of its options or words "
                f"(received {type(request).__name__})"
            )
    chosen = _backend(backend)

    async def run_all() -> list[Composition | TunesmithError]:
        slots = asyncio.Semaphore(concurrency)

        async def one(
            index: int, request: ComposeRequest | Mapping[str, Any] | str
        ) -> Composition | TunesmithError:
            async with slots:
                result: Composition | TunesmithError
                try:
                    result = await compose_async(
                        request,
                        backend=chosen,
                        strict=strict,
                        max_attempts=max_attempts,
                        temperature=temperature,
                        candidates=candidates,
                        timeout=timeout,
                    )
                except TunesmithError as error:
                    result = error
            if on_result is not None:
                on_result(index, result)
            return result

        return list(await asyncio.gather(*(one(i, r) for i, r in enumerate(requests))))

    with _closing(backend, chosen):
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no loop in this thread: the usual case
            return asyncio.run(run_all())
        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="compose_many") as pool:
            return pool.submit(asyncio.run, run_all()).result()
