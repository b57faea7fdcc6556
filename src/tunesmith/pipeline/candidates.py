"""Composing on tunesmith's decoding loop: candidates side by side, the critic keeps one.

The request's :class:`~tunesmith.writing.script.Writing` gives every candidate the same plan,
prompt (a tune book in ABC) and rules; the backend decodes them as lanes of one batch;
the critic (:mod:`tunesmith.checks.critic`) judges each written tune against the corpus and the
best is validated, repaired if need be (never, under the grammar), and laid out as a score.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tunesmith.backends.base import LoopBackend
from tunesmith.band.harmonise import finish, heard_harmony
from tunesmith.checks.critic import Judgement, judge
from tunesmith.checks.repair import repair
from tunesmith.checks.validate import validate
from tunesmith.decoding.segments import LaneResult, SamplerSettings
from tunesmith.errors import CompositionError, RequestError
from tunesmith.model.score import Tune
from tunesmith.music.harmony import chord_tone_share
from tunesmith.pipeline.composition import Attempt, Candidate, Composition, Report, score_for
from tunesmith.requests.request import ComposeRequest
from tunesmith.writing.plan_script import PlanScript
from tunesmith.writing.prompts import render_tunebook
from tunesmith.writing.script import Writing

__all__ = [
    "Lanes",
    "Sampling",
    "attempts",
    "candidate",
    "choose",
    "compose_in_loop",
    "drawn_seed",
    "explain_choice",
    "lane_count",
    "write_lanes",
]


# Only a model reaches this function (the tests run the embedded one): mutation testing,
# which leaves the model's tests out for their minutes per mutant, leaves it out too.
# pragma: no mutate start
def compose_in_loop(
    request: ComposeRequest,
    backend: LoopBackend,
    *,
    candidates: int | None,
    temperature: float,
    timeout: float,
) -> Composition:
    """Compose on a backend that runs tunesmith's decoding loop: best of ``candidates``."""
    count = lane_count(backend, candidates)
    started = time.perf_counter()
    seed = drawn_seed(request.seed)
    request = request.model_copy(update={"seed": seed})  # the plan draws its form from it too
    writing = Writing.of(request, backend.spelling)
    prefix, suffix, examples = render_tunebook(writing)
    forbidden = writing.examples_forbidden([example.tune for example in examples])
    scripts = [PlanScript(writing, forbidden=forbidden) for _ in range(count)]
    lanes = write_lanes(
        backend,
        (prefix, suffix),
        scripts,
        request,
        Sampling(seed, temperature, timeout, started),
        tune_of=lambda _, result: writing.read(result.text),
    )
    _, written, _, result = lanes.winner
    tune = writing.played(written)
    lane = heard_harmony(writing, result.text, tune)
    violations = validate(tune, request, harmony=lane).violations
    repaired, repairs = repair(tune, request, harmony=lane)
    if not validate(repaired, request, harmony=lane).ok:  # repair guarantees this
        raise CompositionError(
            "repair left violations (please report this)", attempts=1, last_output=result.text
        )
    report = Report(
        request=request,
        backend=backend.name,
        model=backend.model,
        constrained=True,
        violations=violations,
        repairs=tuple(repairs),
        seconds=time.perf_counter() - started,
        form=writing.plan.form,
        part_bars=writing.plan.part_bars,
        seed=seed,
        **lanes.report_fields(),
        chord_tones=chord_tone_share(tune, lane, writing.rhythm.meter),
    )
    score = score_for(request, repaired, writing.plan.form, writing.plan.part_bars)
    return Composition(request=request, score=finish(score, request, lane), report=report)


# pragma: no mutate end
@dataclass(frozen=True)
class Sampling:
    """How the lanes are sampled: the seed, the temperature, the seconds they may take, and
    when the work began (the report's attempts count from there).
    """  # noqa: D205

    seed: int
    temperature: float
    timeout: float
    started: float


@dataclass(frozen=True)
class Lanes:
    """The candidates written side by side, as the critic judged them, and the one kept."""

    judged: tuple[tuple[Judgement, Tune, PlanScript, LaneResult], ...]
    """Each lane that finished: its judgement, its tune, its script and what it wrote."""
    best: int
    why: str
    seconds: float

    @property
    def winner(self) -> tuple[Judgement, Tune, PlanScript, LaneResult]:
        """The kept candidate's judgement, tune, script and lane."""
        return self.judged[self.best]

    def report_fields(self) -> dict[str, Any]:
        """The report's attempts, candidates, the one chosen and why."""
        return {
            "attempts": attempts([lane for *_, lane in self.judged], self.seconds),
            "candidates": tuple(
                candidate(number, judgement, lane)
                for number, (judgement, _, _, lane) in enumerate(self.judged, 1)
            ),
            "chosen": self.best + 1,
            "why": self.why,
        }


def write_lanes(
    backend: LoopBackend,
    prompt: tuple[str, str],
    scripts: Sequence[PlanScript],
    request: ComposeRequest,
    sampling: Sampling,
    *,
    tune_of: Callable[[PlanScript, LaneResult], Tune],
) -> Lanes:
    """Write a candidate a script side by side after ``prompt`` (prefix and suffix); the
    critic judges each finished one (``tune_of`` reads it) and :func:`choose` keeps one.
    """  # noqa: D205
    results = backend.write(
        *prompt,
        list(scripts),
        seed=sampling.seed,
        settings=SamplerSettings(temperature=sampling.temperature),
        deadline=time.monotonic() + sampling.timeout,
    )
    seconds = time.perf_counter() - sampling.started
    tonic = request.constraints.tonic.semitone
    judged = []
    for script, result in zip(scripts, results, strict=True):
        if result.finished:  # a lane stopped behind the first to finish is dropped
            tune = tune_of(script, result)
            judged.append((judge(tune, request.meter, tonic), tune, script, result))
    judgements = [judgement for judgement, *_ in judged]
    best, kept = choose(judgements, [result for *_, result in judged])
    stopped = sum(1 for result in results if not result.finished)
    why = explain_choice(judgements, best, kept, stopped=stopped)
    return Lanes(tuple(judged), best, why, seconds)


def lane_count(backend: LoopBackend, candidates: int | None) -> int:
    """How many candidates to write side by side: ``candidates``, or one a lane of the backend.

    Raises :class:`RequestError` for a number the backend cannot write at once.
    """
    count = backend.lanes if candidates is None else candidates
    if not 1 <= count <= backend.lanes:
        raise RequestError(
            f"candidates must be between 1 and {backend.lanes} for this backend (received {count})"
        )
    return count


def drawn_seed(seed: int | None) -> int:
    """The request's seed, or a fresh one where it gave none (the report names it)."""
    return seed if seed is not None else random.SystemRandom().randrange(2**31)


def attempts(lanes: Sequence[LaneResult], seconds: float) -> tuple[Attempt, ...]:
    """The report's attempts: one a candidate, all written together in ``seconds``."""
    return tuple(
        Attempt(
            number=number,
            text=lane.text,
            prompt_tokens=0,
            completion_tokens=lane.tokens,
            finish_reason="stop",
            seconds=seconds,
            problems=(),
        )
        for number, lane in enumerate(lanes, 1)
    )


def choose(judgements: Sequence[Judgement], lanes: Sequence[LaneResult]) -> tuple[int, list[int]]:
    """The winning candidate's index, and the indices it was chosen among.

    Candidates whose every bar keeps the musical rules (the fewest bars kept although they
    broke one) come first; among them the critic's best wins.
    """
    fewest = min(lane.accepted_with_problems for lane in lanes)
    kept = [index for index, lane in enumerate(lanes) if lane.accepted_with_problems == fewest]
    return max(kept, key=lambda index: judgements[index].score), kept


def explain_choice(
    judgements: Sequence[Judgement], best: int, kept: Sequence[int], *, stopped: int = 0
) -> str:
    """Why candidate ``best`` won, in words, for the report.

    :func:`choose` gives ``best`` and ``kept``; ``stopped`` lanes fell behind the first to
    finish and were not judged.
    """
    winner = judgements[best]
    why = f"candidate {best + 1}, the most like the corpus's tunes (score {winner.score:.2f})"
    if len(kept) > 1:
        runner_up = max(
            (judgements[index] for index in kept if index != best),
            key=lambda judgement: judgement.score,
        )
        why += (
            f"; of {len(kept)} candidates the next scored {runner_up.score:.2f}, "
            f"and {winner.edge_over(runner_up)} made the difference"
        )
    if broke := len(judgements) - len(kept):
        why += f"; {broke} more kept a bar that broke a musical rule"
    if stopped:
        why += f"; {stopped} more stopped when they fell behind the first to finish"
    return why


def candidate(number: int, judgement: Judgement, lane: LaneResult) -> Candidate:
    """The report's record of candidate ``number``: the critic's judgement and the lane's costs."""
    return Candidate(
        number=number,
        score=round(judgement.score, 4),
        intervals=round(judgement.intervals, 4),
        rhythm=round(judgement.rhythm, 4),
        distance=round(judgement.distance, 4),
        tokens=lane.tokens,
        redrawn_tokens=lane.refused_tokens,
        rewritten_bars=lane.retries,
        kept_breaking_rules=lane.accepted_with_problems,
    )
