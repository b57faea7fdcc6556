"""Work with the user's music: continue it, fill bars in, vary them; their other bars locked.

::

    from tunesmith import continue_score, infill, vary
    c = continue_score("first_half.mid", bars=8)       # key, meter, pitch set inferred
    c = infill("tune.musicxml", at="5-8")              # bars 5-8 written again
    c = vary("tune.mid", at="9-16", keep="rhythm")     # same rhythm, new pitches
    c.save_midi("longer.mid")
    print(c.report)                                    # what was inferred, locked, written

The file is read by :func:`~tunesmith.read_score`; the part (default: the melody) and the
request come from it (:mod:`tunesmith.pipeline.context`), the user's options winning. The model
writes in tunesmith's decoding loop (:mod:`tunesmith.writing.rework`): the user's bars before the
first new one are in the prompt (the latest that fit the model's context), every other
bar of theirs is decoded as it is, and each new bar is sampled under its own grammar,
joined to the notes on both sides. The user's bars come back unchanged in every output:
they are never validated into shape or repaired; where they break a constraint the user
gave, the report says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, cast

from tunesmith.backends.base import Backend, LoopBackend
from tunesmith.checks.validate import Violation, validate
from tunesmith.decoding.segments import LaneResult
from tunesmith.errors import CompositionError, RequestError, RequestTypeError
from tunesmith.model.score import Bar, Event, Score, Tune, split_duration
from tunesmith.pipeline.candidates import Sampling, drawn_seed, lane_count, write_lanes
from tunesmith.pipeline.compose import DEFAULT_TIMEOUT, _backend, _check_settings, _loop_backend
from tunesmith.pipeline.composition import Composition, ReworkReport
from tunesmith.pipeline.context import Context, bar_range, context_of, load_score, part_name
from tunesmith.requests.request import MAX_BARS
from tunesmith.writing.plan_script import PlanScript
from tunesmith.writing.prompts import render_tunebook
from tunesmith.writing.rework import Keep, Rework, ReworkScript, melodic_text, writing_for
from tunesmith.writing.rules import bar_key
from tunesmith.writing.script import Writing

__all__ = ["continue_score", "infill", "vary"]

CONTEXT_MARGIN = 64
"""Tokens of the model's context kept free beyond the estimate."""
_GIVEN_KINDS = {"pitch": ("notes", "key", "mode"), "range": ("low", "high")}
_GIVEN_KINDS["final"] = ("notes", "key")


@dataclass(frozen=True)
class _Job:
    """Where and how the bars are written: the part, the backend, sampling, the options."""

    part: int | str | None
    backend: Backend | str | None
    candidates: int | None
    temperature: float
    timeout: float
    options: dict[str, Any]


def _run(operation: str, source: Any, make: Any, new_bars: int | None, job: _Job) -> Composition:
    """Read, infer the context, make the :class:`Rework` with ``make(bars)``, write it."""
    _check_settings(1, job.temperature, job.candidates, job.timeout)
    score, name = load_score(source)
    context = context_of(score, name, job.part, new_bars or 1, job.options)
    rework = make(context.bars)
    if new_bars is None:  # infill, vary: as many bars as the range has to write
        update = {"bars": len(rework.written)}
        context = replace(context, request=context.request.model_copy(update=update))
    chosen = _backend(job.backend)
    looping = _loop_backend(chosen)
    if looping is None:
        raise RequestError(
            f"{operation} runs in tunesmith's decoding loop, which {chosen.name} does not "
            "run: use the embedded model (backend='local') or a LocalBackend"
        )
    return _write(operation, context, rework, looping, job)


def _budget(
    writing: Writing, rework: Rework, backend: LoopBackend, *, lanes: int, prefix: str, head: str
) -> int:
    """Characters (at least tokens) of the user's bars the prompt can hold before the first
    new bar, once the candidates have room for every bar from there to the last new one.
    """  # noqa: D205
    n_ctx = getattr(backend, "n_ctx", None)
    if not isinstance(n_ctx, int):
        return 1 << 30
    texts = [melodic_text(writing.spelling, bar) for bar in rework.bars]
    per_bar = max(map(len, texts), default=16) + 4  # with bar lines and a line break
    span = rework.last - rework.first + 1
    needed = len(prefix) + len(head) + CONTEXT_MARGIN + lanes * span * per_bar
    if needed > n_ctx:
        fits = max((n_ctx - len(prefix) - len(head) - CONTEXT_MARGIN) // (lanes * per_bar), 0)
        raise RequestError(
            f"writing {span} bars with {lanes} candidates needs about {needed} tokens, more "
            f"than the model's context of {n_ctx} allows (about {fits} bars at once): ask "
            "for fewer bars, or fewer candidates (candidates=1)"
        )
    return n_ctx - needed


def _prompt(
    writing: Writing, rework: Rework, backend: LoopBackend, lanes: int
) -> tuple[str, str, list[str]]:
    """The prompt's prefix and suffix: the latest of the user's bars before the first new one."""
    prefix, head, _ = render_tunebook(writing)
    room = _budget(writing, rework, backend, lanes=lanes, prefix=prefix, head=head)
    pieces: list[str] = []
    for index in range(rework.first - 1, -1, -1):
        before, after = writing.layout(index)
        piece = before + melodic_text(writing.spelling, rework.bars[index]) + after
        if len(piece) > room:
            break
        room -= len(piece)
        pieces.insert(0, piece)
    notes = []
    if len(pieces) < rework.first:
        notes.append(
            f"the prompt holds the last {len(pieces)} of the {rework.first} bars before bar "
            f"{rework.first + 1} (the model's context)"
        )
    return prefix, head + "".join(pieces), notes


def _write(
    operation: str, context: Context, rework: Rework, backend: LoopBackend, job: _Job
) -> Composition:
    started = time.perf_counter()
    request = context.request
    lanes = lane_count(backend, job.candidates)
    seed = drawn_seed(request.seed)
    writing = writing_for(request, rework, backend.spelling)
    prefix, suffix, notes = _prompt(writing, rework, backend, lanes)
    _, _, examples = render_tunebook(writing)
    forbidden = writing.examples_forbidden([example.tune for example in examples])
    if rework.kind == "vary":
        forbidden |= {bar_key(rework.bars[index]) for index in rework.written}
    scripts = [ReworkScript(writing, rework, forbidden=forbidden) for _ in range(lanes)]

    def tune_of(script: PlanScript, _: LaneResult) -> Tune:
        return Tune((*script.bars, *rework.bars[len(script.bars) :]))

    sampling = Sampling(seed, job.temperature, job.timeout, started)
    written = write_lanes(backend, (prefix, suffix), scripts, request, sampling, tune_of=tune_of)
    _, tune, winner, result = written.winner
    script = cast("ReworkScript", winner)  # the lanes' scripts are the ReworkScripts above
    bars = tune.bars
    found = validate(tune, request).violations
    ours = tuple(v for v in found if v.bar is not None and _ours(v, rework, bars))
    if ours:  # the grammars guarantee every constraint in the new bars: a tunesmith bug
        raise CompositionError(
            f"the written bars break the request: {'; '.join(map(str, ours))} (please report this)",
            attempts=1,
            last_output=result.text,
        )
    report = ReworkReport(
        request=request,
        backend=backend.name,
        model=backend.model,
        constrained=True,
        violations=(),
        repairs=(),
        seconds=time.perf_counter() - started,
        form=writing.plan.form,
        part_bars=writing.plan.part_bars,
        seed=seed,
        **written.report_fields(),
        operation=operation,
        source=context.source,
        part=part_name(context.score, context.index),
        context=context.inferred,
        locked=tuple(index + 1 for index in rework.locked),
        written=tuple(index + 1 for index in sorted(rework.written)),
        keep=rework.keep if rework.kind == "vary" else None,
        user_violations=_users(found, rework, context),
        notes=(*notes, *_ties(rework), *dict.fromkeys(script.notes)),
    )
    return Composition(request=request, score=_score(context, rework, bars), report=report)


def _ours(violation: Violation, rework: Rework, bars: tuple[Bar, ...]) -> bool:
    """Whether a violation is in a written bar (a short bar keeps its length, as the user's)."""
    index = violation.bar - 1  # type: ignore[operator]
    if index not in rework.written:
        return False
    kept = index < len(rework.bars) and bars[index].duration == rework.bars[index].duration
    return violation.kind != "bar_length" or not kept


def _users(found: tuple[Violation, ...], rework: Rework, context: Context) -> tuple[Violation, ...]:
    """Violations in the user's bars of a constraint the user gave (not one inferred)."""
    return tuple(
        v
        for v in found
        if v.bar is not None
        and v.bar - 1 not in rework.written
        and any(name in context.given for name in _GIVEN_KINDS.get(v.kind, ()))
    )


def _ties(rework: Rework) -> list[str]:
    """The user's notes tied into a bar the model wrote: they now end at the bar line."""
    return [
        f"bar {index + 1}: its last note was tied into bar {index + 2}, which the model wrote; "
        "it ends at the bar line"
        for index in rework.locked
        if rework.bars[index].events[-1].tie and index + 1 in rework.written
    ]


def _score(context: Context, rework: Rework, bars: tuple[Bar, ...]) -> Score:
    """The user's score with the part's bars written; other parts rest in new bars."""
    score, request = context.score, context.request
    length = request.constraints.bar_length
    rest = Bar(tuple(Event.rest(piece) for piece in split_duration(length)))
    added = rework.total - len(rework.bars)
    program = request.constraints.program if "instrument" in context.given else None
    parts = []
    for index, part in enumerate(score.parts):
        if index == context.index:
            part = replace(part, bars=bars, program=part.program if program is None else program)  # noqa: PLW2901
        else:
            part = replace(part, bars=part.bars + (rest,) * added)  # noqa: PLW2901
        parts.append(part)
    return replace(score, parts=tuple(parts), source=None)


def _refuse_bars(operation: str, options: dict[str, Any]) -> None:
    """``bars`` counts bars everywhere; the bars to write again are ``at``."""
    if "bars" in options:
        raise RequestTypeError(
            f"{operation} takes the bars to write as at={options['bars']!r}, e.g. "
            f"{operation}(source, at='5-8'); bars= counts bars (compose, continue_score)"
        )


def continue_score(
    source: Any,
    bars: int = 8,
    *,
    part: int | str | None = None,
    backend: Backend | str | None = None,
    candidates: int | None = None,
    temperature: float = 0.8,
    timeout: float = DEFAULT_TIMEOUT,
    **options: Any,
) -> Composition:
    """Continue the user's music by ``bars`` new bars; their bars come back unchanged.

    ``source`` is a MIDI, MusicXML, ABC or tunesmith notation file, or a
    :class:`~tunesmith.Score`. ``part`` is a part's name or index in ``score.parts``
    (default: the melody); other parts rest in the new bars. The meter, key or pitch set,
    tempo and range come from the file unless given as options (``notes``, ``key``,
    ``mode``, ``low``, ``high``, ``meter``, ``tempo``, ``instrument``, ``style``, ``title``,
    ``seed``). The first new note is within a leap of the user's last, and the new bars
    end on the tonic.

    Raises
    ------
    ReadError
        The file cannot be read, or has no notes.
    RequestError
        A bad option, a part that does not exist or is drums, or more bars than the
        model's context holds (the message says how many fit).
    """
    if isinstance(bars, bool) or not isinstance(bars, int):
        raise RequestTypeError(f"bars must be a whole number of new bars (received {bars!r})")
    if not 1 <= bars <= MAX_BARS:
        raise RequestError(f"bars must be between 1 and {MAX_BARS} new bars (received {bars})")

    def make(user: tuple[Bar, ...]) -> Rework:
        total = len(user) + bars
        return Rework(user, frozenset(range(len(user), total)), total, "continue")

    job = _Job(part, backend, candidates, temperature, timeout, options)
    return _run("continue", source, make, bars, job)


def infill(
    source: Any,
    at: str | int | tuple[int, int] | None = None,
    *,
    part: int | str | None = None,
    backend: Backend | str | None = None,
    candidates: int | None = None,
    temperature: float = 0.8,
    timeout: float = DEFAULT_TIMEOUT,
    **options: Any,
) -> Composition:
    """Write the bars ``at`` (``"5-8"``, 1-based, inclusive) again; every other bar is locked.

    The new bars join the user's at both ends: the first note within a leap of the note
    before, the last within a leap of the next bar's first note; a bar at a cadence of the
    form still ends as one. Options and errors as :func:`continue_score`, and a
    :class:`RequestError` for a range that is reversed or outside the tune.
    """
    _refuse_bars("infill", options)
    if at is None:
        raise RequestTypeError("infill needs the bars to write again: at='5-8' (1-based)")

    def make(user: tuple[Bar, ...]) -> Rework:
        span = bar_range(at, len(user), "at")
        return Rework(user, frozenset(span), len(user), "infill")

    job = _Job(part, backend, candidates, temperature, timeout, options)
    return _run("infill", source, make, None, job)


def vary(
    source: Any,
    at: str | int | tuple[int, int] | None = None,
    *,
    keep: Keep | None = "rhythm",
    amount: float = 1.0,
    part: int | str | None = None,
    backend: Backend | str | None = None,
    candidates: int | None = None,
    temperature: float = 0.8,
    timeout: float = DEFAULT_TIMEOUT,
    **options: Any,
) -> Composition:
    """A variation of the bars ``at`` (``"9-16"``; default: every bar); the others are locked.

    ``keep="rhythm"`` keeps each bar's rhythm with new pitches; ``keep="contour"`` keeps
    its rhythm and the direction of every move (up, down, repeat), new intervals;
    ``keep=None`` writes each bar anew. ``amount`` (0 to 1) is the share of the bars in
    the range that change, spread evenly (0.5: every other bar). A varied bar never
    repeats its original. Options and errors as :func:`infill`.
    """
    _refuse_bars("vary", options)
    if keep not in {"rhythm", "contour", None}:
        raise RequestError(
            f"keep must be 'rhythm', 'contour' or None for a free variation (received {keep!r})"
        )
    if isinstance(amount, bool) or not isinstance(amount, int | float) or not 0 < amount <= 1:
        raise RequestError(
            f"amount must be a share of the bars above 0 and at most 1 (received {amount!r})"
        )

    def make(user: tuple[Bar, ...]) -> Rework:
        span = range(len(user)) if at is None else bar_range(at, len(user), "at")
        sounding = [index for index in span if any(e.pitches for e in user[index].events)]
        if not sounding:
            raise RequestError(
                f"at={at!r}: those bars hold no notes to vary: choose bars with notes"
            )
        count = max(1, round(amount * len(sounding)))
        chosen = {sounding[number * len(sounding) // count] for number in range(count)}
        return Rework(user, frozenset(chosen), len(user), "vary", keep)

    job = _Job(part, backend, candidates, temperature, timeout, options)
    return _run("vary", source, make, None, job)
