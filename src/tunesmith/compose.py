"""The orchestration: request → prompt → model (grammar-constrained) → parse → validate → repair.

:func:`compose` returns a :class:`~tunesmith.composition.Composition`: the tune, the
request and a :class:`~tunesmith.composition.Report` of everything that happened on the way.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from tunesmith.backends.base import Backend, Completion, Prompt
from tunesmith.composition import Attempt, Composition, Report, score_for
from tunesmith.errors import CompositionError, GrammarError, RequestError, TunesmithError
from tunesmith.grammar import grammar_for
from tunesmith.notation import extract, parse_tune
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


def _request(request: ComposeRequest | None, options: dict[str, Any]) -> ComposeRequest:
    if request is None:
        return ComposeRequest(**options)
    if options:
        raise RequestError(
            f"pass either a ComposeRequest or keyword options, not both (got {sorted(options)})"
        )
    if not isinstance(request, ComposeRequest):
        raise RequestError(f"request must be a ComposeRequest (received {type(request).__name__})")
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
        if max_attempts < 1:
            raise RequestError(f"max_attempts must be at least 1 (received {max_attempts})")
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
            self.prompt = _with_feedback(self.prompt, completion.text, feedback)

    def finish(self) -> Composition:
        """Repair the best answer (or refuse, when strict) and build the composition."""
        attempts, request = self.attempts, self.request
        if self.best is None:
            raise CompositionError(
                f"none of {len(attempts)} answers from {self.backend.name}:{self.backend.model} "
                f"was tunesmith notation; last problem: {attempts[-1].problems[0]}",
                attempts=len(attempts),
                last_output=attempts[-1].text,
                problems=attempts[-1].problems,
            )
        tune, violations = self.best
        if violations and self.strict:
            listed = "; ".join(str(v) for v in violations)
            raise CompositionError(
                f"strict: after {len(attempts)} attempt(s) the best answer breaks "
                f"{len(violations)} constraint(s): {listed}",
                attempts=len(attempts),
                last_output=attempts[-1].text,
                problems=[str(v) for v in violations],
            )
        repaired, repairs = repair(tune, request)
        left = validate(repaired, request)
        if not left.ok:  # repair guarantees this; a failure here is a tunesmith bug
            raise CompositionError(
                f"repair left violations (please report this): {left}",
                attempts=len(attempts),
                last_output=attempts[-1].text,
            )
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
        return Composition(request=request, score=score_for(request, repaired), report=report)


def compose(
    request: ComposeRequest | None = None,
    /,
    *,
    backend: Backend | None = None,
    strict: bool = False,
    max_attempts: int = 3,
    temperature: float = 0.8,
    **options: Any,
) -> Composition:
    """Compose a tune that satisfies every constraint of the request.

    Pass a :class:`ComposeRequest`, or its fields as keyword arguments::

        compose(notes=["A", "B", "C#", "F#", "G"], meter="6/8", bars=16, seed=7)

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
    backend = backend or default_backend()
    session = _Session(
        _request(request, options),
        backend,
        strict=strict,
        max_attempts=max_attempts,
        temperature=temperature,
    )
    while (call := session.next_call()) is not None:
        session.take(backend.complete(session.prompt, **call))
    return session.finish()


async def compose_async(
    request: ComposeRequest | None = None,
    /,
    *,
    backend: Backend | None = None,
    strict: bool = False,
    max_attempts: int = 3,
    temperature: float = 0.8,
    **options: Any,
) -> Composition:
    """:func:`compose` for asyncio: awaits the backend's ``acomplete`` when it has one.

    A backend without ``acomplete`` (the embedded model) runs in a worker thread.
    """
    backend = backend or default_backend()
    session = _Session(
        _request(request, options),
        backend,
        strict=strict,
        max_attempts=max_attempts,
        temperature=temperature,
    )
    acomplete = getattr(backend, "acomplete", None)
    while (call := session.next_call()) is not None:
        if acomplete is not None:
            completion = await acomplete(session.prompt, **call)
        else:
            completion = await asyncio.to_thread(backend.complete, session.prompt, **call)
        session.take(completion)
    return session.finish()


def compose_many(
    requests: Iterable[ComposeRequest],
    *,
    backend: Backend | None = None,
    concurrency: int = 4,
    on_result: Callable[[int, Composition | TunesmithError], None] | None = None,
    **settings: Any,
) -> list[Composition | TunesmithError]:
    """Compose many requests concurrently; results come back in the order of ``requests``.

    At most ``concurrency`` requests are in flight at once. One failing request does not
    lose the others: its place in the result holds the :class:`TunesmithError` it raised.
    ``on_result(index, result)`` is called as each one finishes (for progress bars).
    ``settings`` (strict, max_attempts, temperature) apply to every request.
    """
    if concurrency < 1:
        raise RequestError(f"concurrency must be at least 1 (received {concurrency})")
    requests = list(requests)
    backend = backend or default_backend()

    async def run_all() -> list[Composition | TunesmithError]:
        slots = asyncio.Semaphore(concurrency)

        async def one(index: int, request: ComposeRequest) -> Composition | TunesmithError:
            async with slots:
                result: Composition | TunesmithError
                try:
                    result = await compose_async(request, backend=backend, **settings)
                except TunesmithError as error:
                    result = error
            if on_result is not None:
                on_result(index, result)
            return result

        return list(await asyncio.gather(*(one(i, r) for i, r in enumerate(requests))))

    return asyncio.run(run_all())


@dataclass(frozen=True)
class _Problems:
    tune: Tune | None
    violations: tuple[Violation, ...]
    messages: list[str]


def _problems(completion: Completion, request: ComposeRequest) -> _Problems:
    """Parse and validate one answer."""
    text = extract(completion.text)
    truncated = completion.finish_reason == "length"
    constraints = request.constraints
    try:
        tune = expand_form(parse_tune(text), constraints.form, constraints.section_bars)
    except GrammarError as error:
        message = f"not tunesmith notation: {error}"
        if truncated:
            message = "the answer was cut off (too many tokens); " + message
        return _Problems(None, (), [message])
    violations = validate(tune, request).violations
    messages = [str(violation) for violation in violations]
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
