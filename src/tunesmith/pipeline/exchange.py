"""Composing through completions (servers): ask, check, feed back, repair.

A server takes one prompt and, where it can, one grammar per answer: the model writes the
whole tune (each part once) in tunesmith notation. An answer that does not parse or breaks
a constraint goes back with feedback that names the written bar and beat, up to
``max_attempts`` times; then the best answer is repaired (or refused, when strict).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from tunesmith.backends.base import Backend, Completion, Prompt
from tunesmith.band.harmonise import finish, heard_harmony
from tunesmith.checks.repair import repair
from tunesmith.checks.validate import Violation, validate
from tunesmith.errors import CompositionError, GrammarError
from tunesmith.model.notation import extract
from tunesmith.model.score import Tune
from tunesmith.music.harmony import chord_tone_share
from tunesmith.pipeline.composition import Attempt, Composition, Report, score_for
from tunesmith.requests.request import ComposeRequest
from tunesmith.writing.prompts import render_feedback, render_prompt
from tunesmith.writing.script import Writing

__all__ = ["Session"]

TOKENS_PER_EVENT = 6
"""Generous upper bound on tokens per event ('C#5:q. ' is about 4), for max_tokens."""
MAX_CHARS_PER_TOKEN = 16
"""The longest text a token of notation can be, generously: an answer longer than this
times max_tokens is not read (its backend ignored max_tokens)."""
MAX_FEEDBACK = 8
"""Problems named in the feedback to the model (and in an attempt's record); then a count."""


def _max_tokens(writing: Writing) -> int:
    events_per_bar = int(writing.rhythm.meter.bar_length / writing.rhythm.shortest)
    return len(writing.plan.bars) * (events_per_bar * TOKENS_PER_EVENT + 2) + 16


def _max_chars(writing: Writing) -> int:
    """The longest answer worth reading: what max_tokens can hold, and then some."""
    return MAX_CHARS_PER_TOKEN * _max_tokens(writing)


class Session:
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
        self.writing = Writing.of(request, "notation")
        self.grammar = self.writing.whole_grammar() if backend.supports_grammar else None
        self.prompt = render_prompt(self.writing)
        self.started = time.perf_counter()
        self.attempts: list[Attempt] = []
        self.best: tuple[Tune, tuple[Violation, ...], str] | None = None

    def next_call(self) -> dict[str, Any] | None:
        """Keyword arguments for the next ``backend.complete``, or None when done."""
        done = self.best is not None and not self.best[1]
        if done or len(self.attempts) >= self.max_attempts:
            return None
        seed = self.request.seed
        return {
            "grammar": self.grammar,
            "max_tokens": _max_tokens(self.writing),
            "temperature": self.temperature,
            "seed": None if seed is None else seed + len(self.attempts),
        }

    def take(self, completion: Completion) -> None:
        """Judge one answer; keep it if it is the best so far; prepare feedback if not perfect."""
        problems = _problems(completion, self.writing)
        self.attempts.append(_attempt(len(self.attempts) + 1, completion, problems.messages))
        if problems.tune is not None and (
            self.best is None or len(problems.violations) < len(self.best[1])
        ):
            self.best = (problems.tune, problems.violations, completion.text)
        if problems.messages:
            feedback = render_feedback(self.writing, problems.messages)
            answer = completion.text[: _max_chars(self.writing)]  # never echo a runaway answer
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
        tune, violations, text = self.best
        if violations and self.strict:
            listed = "; ".join(_bounded([str(v) for v in violations]))
            raise CompositionError(
                f"strict: after {len(attempts)} attempt(s) the best answer breaks "
                f"{len(violations)} constraint(s): {listed}",
                problems=[str(v) for v in violations],
                **usage,
            )
        lane = heard_harmony(self.writing, extract(text), tune)
        repaired, repairs = repair(tune, request, harmony=lane)
        left = validate(repaired, request, harmony=lane)
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
            form=self.writing.plan.form,
            part_bars=self.writing.plan.part_bars,
            seed=request.seed,
            chord_tones=chord_tone_share(tune, lane, self.writing.rhythm.meter),
        )
        plan = self.writing.plan
        score = score_for(request, repaired, plan.form, plan.part_bars)
        return Composition(request=request, score=finish(score, request, lane), report=report)


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


def _problems(completion: Completion, writing: Writing) -> _Problems:
    """Parse and validate one answer; problems name the bars as the model wrote them."""
    if len(completion.text) > (limit := _max_chars(writing)):
        message = (
            f"the answer is {len(completion.text)} characters long, far more than "
            f"{len(writing.plan.bars)} bars need (at most {limit}); write only the notes"
        )
        return _Problems(None, (), [message])
    text = extract(completion.text)
    truncated = completion.finish_reason == "length"
    try:
        written = writing.read(text)
    except GrammarError as error:
        message = f"not tunesmith notation: {error}"
        if truncated:
            message = "the answer was cut off (too many tokens); " + message
        return _Problems(None, (), [message])
    tune = writing.played(written)
    lane = heard_harmony(writing, text, tune)
    violations = validate(tune, writing.request, harmony=lane).violations
    order = writing.heard_order(written)
    first = int(writing.plan.pickup and len(written.bars) == len(writing.plan.bars))
    messages = _bounded(
        list(
            dict.fromkeys(
                str(v) if order is None else _as_written(v, order, first) for v in violations
            )
        )
    )
    if truncated:
        messages.insert(0, "the answer was cut off (too many tokens)")
    return _Problems(tune, violations, messages)


def _as_written(violation: Violation, order: list[int], first: int) -> str:
    """A violation, its bar numbered as the model wrote it (each part once), not as played.

    ``order`` is the written bars' indices as heard; ``first`` is 1 where the tune opens with
    a pickup, which the prompt does not count among the bars: it is bar 0 here.
    """
    if violation.bar is None or violation.kind == "bar_count":
        return str(violation)
    heard = violation.bar - 1
    if not 0 <= heard < len(order):
        return str(violation)
    return str(violation.model_copy(update={"bar": order[heard] + 1 - first}))


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
