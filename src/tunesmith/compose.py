"""The orchestration: request → prompt → model (grammar-constrained) → parse → validate → repair.

:func:`compose` returns a :class:`~tunesmith.composition.Composition`: the tune, the
request and a :class:`~tunesmith.composition.Report` of everything that happened on the way.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from tunesmith.backends.base import Backend, Completion, Prompt
from tunesmith.composition import Attempt, Composition, Report
from tunesmith.errors import (
    CompositionError,
    GrammarError,
    RequestError,
    RequestTypeError,
    TunesmithError,
)
from tunesmith.grammar import grammar_for
from tunesmith.notation import extract, parse
from tunesmith.prompts import render_feedback, render_prompt
from tunesmith.repair import repair
from tunesmith.request import ComposeRequest
from tunesmith.score import DURATIONS, Tune
from tunesmith.theory import expand_form, written_sections
from tunesmith.validate import Violation, validate

__all__ = [
    "backend_from_options",
    "compose",
    "compose_async",
    "compose_many",
    "default_backend",
]

TOKENS_PER_EVENT = 6
"""Generous upper bound on tokens per event ('C#5:q. ' is about 4), for max_tokens."""
MAX_CHARS_PER_TOKEN = 16
"""The longest text a token of notation can be, generously: an answer longer than this
times max_tokens is not read (its backend ignored max_tokens)."""
MAX_FEEDBACK = 8
"""Problems named in the feedback to the model (and in an attempt's record); then a count."""


_default_backend: Backend | None = None


def backend_from_options(
    backend: str | None = None, *, base_url: str | None = None, model: str | None = None
) -> Backend:
    """A backend by name: ``"local"`` (the embedded model) or ``"openai"`` (any
    OpenAI-compatible server); unset options come from ``TUNESMITH_BACKEND``,
    ``TUNESMITH_BASE_URL`` and ``TUNESMITH_MODEL``.
    """  # noqa: D205 - the options read best as one sentence
    name = (backend or os.environ.get("TUNESMITH_BACKEND") or "local").strip().lower()
    if name == "openai":
        from tunesmith.backends.openai import OpenAIBackend  # noqa: PLC0415

        return OpenAIBackend(model, base_url=base_url)
    if name == "local":
        if base_url is not None:
            raise RequestError("base_url is for the openai backend; add --backend openai")
        from tunesmith.backends.local import LocalBackend  # noqa: PLC0415

        return LocalBackend(model) if model else LocalBackend()
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


def _check_settings(max_attempts: Any, temperature: Any) -> None:
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int):
        raise RequestTypeError(f"max_attempts must be a whole number (received {max_attempts!r})")
    if max_attempts < 1:
        raise RequestError(f"max_attempts must be at least 1 (received {max_attempts})")
    if isinstance(temperature, bool) or not isinstance(temperature, int | float):
        raise RequestTypeError(f"temperature must be a number (received {temperature!r})")
    if not 0 <= temperature <= 2:
        raise RequestError(f"temperature must be between 0 and 2 (received {temperature})")


def default_backend() -> Backend:
    """The backend ``TUNESMITH_BACKEND`` names (default: the embedded model), made once."""
    global _default_backend  # noqa: PLW0603 - one model per process, loaded on first use
    if _default_backend is None:
        _default_backend = backend_from_options()
    return _default_backend


def _max_tokens(request: ComposeRequest) -> int:
    constraints = request.constraints
    shortest = min(DURATIONS[code] for code in constraints.durations)
    events_per_bar = int(constraints.bar_length / shortest)
    bars = len(written_sections(constraints.form)) * constraints.section_bars
    return bars * (events_per_bar * TOKENS_PER_EVENT + 2) + 16


def _max_chars(request: ComposeRequest) -> int:
    """The longest answer worth reading: what max_tokens can hold, and then some."""
    return MAX_CHARS_PER_TOKEN * _max_tokens(request)


def _request(
    request: ComposeRequest | Mapping[str, Any] | None, options: dict[str, Any]
) -> ComposeRequest:
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
            "request must be a ComposeRequest or a dict of its options "
            f"(received {type(request).__name__})"
        )
    return request


class _Session:
    """One composition in progress: which call to make next, and what the answers gave."""

    def __init__(
        self,
        request: ComposeRequest,
        backend: Backend,
        *,
        strict: bool,
        max_attempts: int,
        temperature: float,
    ) -> None:
        self.request, self.backend, self.strict = request, backend, strict
        self.max_attempts, self.temperature = max_attempts, temperature
        constraints = request.constraints
        self.grammar = grammar_for(request) if backend.supports_grammar else None
        self.prompt = render_prompt(request, list(constraints.durations))
        self.started = time.perf_counter()
        self.attempts: list[Attempt] = []
        self.best: tuple[Tune, tuple[Violation, ...]] | None = None

    def next_call(self) -> dict[str, Any] | None:
        """Keyword arguments for the next ``backend.complete``, or None when done."""
        done = self.best is not None and not self.best[1]
        if done or len(self.attempts) >= self.max_attempts:
            return None
        seed = self.request.seed
        return {
            "grammar": self.grammar,
            "max_tokens": _max_tokens(self.request),
            "temperature": self.temperature,
            "seed": None if seed is None else seed + len(self.attempts),
        }

    def take(self, completion: Completion) -> None:
        """Judge one answer; keep it if it is the best so far; prepare feedback if not perfect."""
        problems = _problems(completion, self.request)
        self.attempts.append(_attempt(len(self.attempts) + 1, completion, problems.messages))
        if problems.tune is not None and (
            self.best is None or len(problems.violations) < len(self.best[1])
        ):
            self.best = (problems.tune, problems.violations)
        if problems.messages:
            feedback = render_feedback(self.request, problems.messages)
            answer = completion.text[: _max_chars(self.request)]  # never echo a runaway answer
            self.prompt = _with_feedback(self.prompt, answer, feedback)

    def finish(self) -> Composition:
        """Repair the best answer (or refuse, when strict) and build the composition."""
        attempts, request = self.attempts, self.request
        usage: dict[str, Any] = {
            "attempts": len(attempts),
            "last_output": attempts[-1].text,
            "prompt_tokens": sum(attempt.prompt_tokens for attempt in attempts),
            "completion_tokens": sum(attempt.completion_tokens for attempt in attempts),
        }
        if self.best is None:
            raise CompositionError(
                f"none of {len(attempts)} answers from {self.backend.name}:{self.backend.model} "
                f"was tunesmith notation; last problem: {attempts[-1].problems[0]}",
                problems=attempts[-1].problems,
                **usage,
            )
        tune, violations = self.best
        if violations and self.strict:
            listed = "; ".join(_bounded([str(v) for v in violations]))
            raise CompositionError(
                f"strict: after {len(attempts)} attempt(s) the best answer breaks "
                f"{len(violations)} constraint(s): {listed}",
                problems=[str(v) for v in violations],
                **usage,
            )
        repaired, repairs = repair(tune, request)
        left = validate(repaired, request)
        if not left.ok:  # repair guarantees this; a failure here is a tunesmith bug
            raise CompositionError(f"repair left violations (please report this): {left}", **usage)
        report = Report(
            request=request,
            backend=self.backend.name,
            model=self.backend.model,
            constrained=self.grammar is not None,
            attempts=tuple(attempts),
            violations=violations,
            repairs=tuple(repairs),
            seconds=time.perf_counter() - self.started,
        )
        return Composition(request=request, tune=repaired, report=report)


def compose(
    request: ComposeRequest | Mapping[str, Any] | None = None,
    /,
    *,
    backend: Backend | str | None = None,
    strict: bool = False,
    max_attempts: int = 3,
    temperature: float = 0.8,
    **options: Any,
) -> Composition:
    """Compose a tune that satisfies every constraint of the request.

    Pass a :class:`ComposeRequest` (or a dict of its fields), or its fields as keyword
    arguments::

        compose(notes=["A", "B", "C#", "F#", "G"], meter="6/8", bars=16, seed=7)

    ``backend`` is a :class:`~tunesmith.Backend`, or the name ``"local"`` or ``"openai"``
    (made as :func:`backend_from_options` makes it); default ``$TUNESMITH_BACKEND``.

    The model writes notes under a grammar derived from the request when the backend takes
    one. An answer that does not parse or breaks a constraint is retried (with feedback for
    chat models) up to ``max_attempts`` times; then the best answer is repaired, unless
    ``strict`` is set, in which case :class:`CompositionError` lists what was wrong.

    Raises
    ------
    RequestError
        A bad argument (the message says which and what is allowed).
    BackendError
        The model could not be asked.
    CompositionError
        No answer could be parsed, or ``strict`` and the answer broke a constraint.
    """
    _check_settings(max_attempts, temperature)
    composing = _request(request, options)  # before the backend: a bad option costs nothing
    chosen = _backend(backend)
    session = _Session(
        composing, chosen, strict=strict, max_attempts=max_attempts, temperature=temperature
    )
    while (call := session.next_call()) is not None:
        session.take(chosen.complete(session.prompt, **call))
    return session.finish()


async def compose_async(
    request: ComposeRequest | Mapping[str, Any] | None = None,
    /,
    *,
    backend: Backend | str | None = None,
    strict: bool = False,
    max_attempts: int = 3,
    temperature: float = 0.8,
    **options: Any,
) -> Composition:
    """:func:`compose` for asyncio: awaits the backend's ``acomplete`` when it has one.

    A backend without ``acomplete`` (the embedded model) runs in a worker thread, and so
    does anything else that may block: making the backend, and asking it whether it takes
    a grammar (``OpenAIBackend(grammar="auto")`` asks the server once).
    """
    _check_settings(max_attempts, temperature)
    composing = _request(request, options)
    chosen = await asyncio.to_thread(_backend, backend)
    await asyncio.to_thread(getattr, chosen, "supports_grammar")  # resolved and kept
    session = _Session(
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
    requests: Iterable[ComposeRequest | Mapping[str, Any]],
    *,
    backend: Backend | str | None = None,
    concurrency: int = 4,
    on_result: Callable[[int, Composition | TunesmithError], None] | None = None,
    strict: bool = False,
    max_attempts: int = 3,
    temperature: float = 0.8,
) -> list[Composition | TunesmithError]:
    """Compose many requests concurrently; results come back in the order of ``requests``.

    At most ``concurrency`` requests are in flight at once. One failing request does not
    lose the others: its place in the result holds the :class:`TunesmithError` it raised
    (a request given as a dict of options that is not valid, too).
    ``on_result(index, result)`` is called as each one finishes (for progress bars, or to
    write each result at once). ``strict``, ``max_attempts`` and ``temperature`` apply to
    every request, as in :func:`compose`.

    Works from inside a running event loop too (Jupyter): the batch then runs in a
    worker thread with its own loop; in async code, gather :func:`compose_async` instead.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int):
        raise RequestTypeError(f"concurrency must be a whole number (received {concurrency!r})")
    if concurrency < 1:
        raise RequestError(f"concurrency must be at least 1 (received {concurrency})")
    _check_settings(max_attempts, temperature)
    requests = list(requests)
    for index, request in enumerate(requests):
        if not isinstance(request, ComposeRequest | Mapping):
            raise RequestTypeError(
                f"requests[{index}] must be a ComposeRequest or a dict of its options "
                f"(received {type(request).__name__})"
            )
    chosen = _backend(backend)

    async def run_all() -> list[Composition | TunesmithError]:
        slots = asyncio.Semaphore(concurrency)

        async def one(
            index: int, request: ComposeRequest | Mapping[str, Any]
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
                    )
                except TunesmithError as error:
                    result = error
            if on_result is not None:
                on_result(index, result)
            return result

        return list(await asyncio.gather(*(one(i, r) for i, r in enumerate(requests))))

    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no loop in this thread: the usual case
        return asyncio.run(run_all())
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="compose_many") as pool:
        return pool.submit(asyncio.run, run_all()).result()


@dataclass(frozen=True)
class _Problems:
    tune: Tune | None
    violations: tuple[Violation, ...]
    messages: list[str]


def _bounded(messages: list[str]) -> list[str]:
    """The first :data:`MAX_FEEDBACK` messages, and how many more there were."""
    if len(messages) <= MAX_FEEDBACK:
        return messages
    return [*messages[:MAX_FEEDBACK], f"... and {len(messages) - MAX_FEEDBACK} more"]


def _problems(completion: Completion, request: ComposeRequest) -> _Problems:
    """Parse and validate one answer (at most the first problems, counted)."""
    if len(completion.text) > (limit := _max_chars(request)):
        message = (
            f"the answer is {len(completion.text)} characters long, far more than "
            f"{request.bars} bars need (at most {limit}); write only the notes"
        )
        return _Problems(None, (), [message])
    text = extract(completion.text)
    truncated = completion.finish_reason == "length"
    constraints = request.constraints
    try:
        tune = expand_form(parse(text), constraints.form, constraints.section_bars)
    except GrammarError as error:
        message = f"not tunesmith notation: {error}"
        if truncated:
            message = "the answer was cut off (too many tokens); " + message
        return _Problems(None, (), [message])
    violations = validate(tune, request).violations
    messages = _bounded([str(violation) for violation in violations])
    if truncated:
        messages.insert(0, "the answer was cut off (too many tokens)")
    return _Problems(tune, violations, messages)


def _attempt(number: int, completion: Completion, problems: list[str]) -> Attempt:
    return Attempt(
        number=number,
        text=completion.text,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        finish_reason=completion.finish_reason,
        seconds=completion.seconds,
        problems=tuple(problems),
    )


def _with_feedback(prompt: Prompt, answer: str, feedback: str) -> Prompt:
    """The chat prompt extended by the model's answer and what was wrong with it."""
    messages = (
        *prompt.messages,
        {"role": "assistant", "content": answer},
        {"role": "user", "content": feedback},
    )
    return replace(prompt, messages=messages)
