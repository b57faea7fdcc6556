"""The pipeline: request → prompt → model (grammar-constrained) → parse → validate → repair.

:func:`compose` returns a :class:`Composition`: the tune, the request and a
:class:`Report` of everything that happened on the way.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from tunesmith.backends.base import Backend, Completion, Prompt
from tunesmith.errors import (
    CompositionError,
    ExportError,
    GrammarError,
    RequestError,
    TunesmithError,
)
from tunesmith.notation import DURATIONS, constrained_gbnf, extract, melodic_gbnf, parse
from tunesmith.notation import format as format_tune
from tunesmith.prompts import render_feedback, render_prompt
from tunesmith.repair import Repair, repair
from tunesmith.request import ComposeRequest
from tunesmith.tune import Tune
from tunesmith.validate import Violation, validate

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from tunesmith.export.midi import MidiSettings

__all__ = [
    "Attempt",
    "Composition",
    "Report",
    "backend_from_options",
    "compose",
    "compose_async",
    "compose_many",
    "default_backend",
    "expand_form",
    "grammar_for",
    "midi_settings",
    "written_sections",
]

TOKENS_PER_EVENT = 6
"""Generous upper bound on tokens per event ('C#5:q. ' is about 4), for max_tokens."""


class Attempt(BaseModel):
    """One call to the model and what came of it."""

    model_config = ConfigDict(frozen=True)

    number: int
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    seconds: float
    problems: tuple[str, ...]
    """Why the answer was not taken as it was (parse error or violations); empty if it was."""


class Report(BaseModel):
    """What was asked, what the model gave, what was checked and what was repaired."""

    model_config = ConfigDict(frozen=True)

    request: ComposeRequest
    backend: str
    model: str
    constrained: bool
    """Whether decoding was constrained by the grammar derived from the request."""
    attempts: tuple[Attempt, ...]
    violations: tuple[Violation, ...]
    """Violations in the chosen answer, before repair."""
    repairs: tuple[Repair, ...]
    seconds: float

    @property
    def prompt_tokens(self) -> int:
        """Prompt tokens over all attempts."""
        return sum(attempt.prompt_tokens for attempt in self.attempts)

    @property
    def completion_tokens(self) -> int:
        """Generated tokens over all attempts."""
        return sum(attempt.completion_tokens for attempt in self.attempts)

    @property
    def summary(self) -> str:
        """One line: backend, attempts, tokens, time, violations and repairs."""
        return (
            f"{self.request.bars} bars of {self.request.meter} on {self.backend}:{self.model}"
            f"{' (grammar-constrained)' if self.constrained else ''}: "
            f"{len(self.attempts)} attempt{'s' if len(self.attempts) != 1 else ''}, "
            f"{self.prompt_tokens}+{self.completion_tokens} tokens, {self.seconds:.1f} s, "
            f"{len(self.violations)} violation{'s' if len(self.violations) != 1 else ''}, "
            f"{len(self.repairs)} repair{'s' if len(self.repairs) != 1 else ''}"
        )

    def __str__(self) -> str:
        constraints = self.request.constraints
        lines = [
            self.summary,
            f"asked: {self.request.bars} bars, {self.request.meter} at {self.request.tempo:g} bpm, "
            f"{constraints.description}, range {constraints.low}-{constraints.high}, "
            f"{self.request.instrument}, style {self.request.style!r}, seed {self.request.seed}",
        ]
        for attempt in self.attempts:
            verdict = "; ".join(attempt.problems) if attempt.problems else "accepted"
            lines.append(
                f"attempt {attempt.number}: {attempt.completion_tokens} tokens in "
                f"{attempt.seconds:.1f} s ({attempt.finish_reason}): {verdict}"
            )
        lines += [f"violation: {violation}" for violation in self.violations]
        lines += [f"repair: {change}" for change in self.repairs]
        return "\n".join(lines)


@dataclass(frozen=True)
class Composition:
    """A composed tune with its request and report; writes MIDI, audio and text."""

    request: ComposeRequest
    tune: Tune
    report: Report

    @property
    def text(self) -> str:
        """The tune in tunesmith notation."""
        return format_tune(self.tune)

    @cached_property
    def midi_settings(self) -> MidiSettings:
        """Tempo, meter, key, instrument and title for the MIDI file and the score."""
        return midi_settings(self.request)

    def to_midi_bytes(self, *, humanize: float = 0.0) -> bytes:
        """The tune as a Standard MIDI File (type 1); see :meth:`save_midi` for ``humanize``."""
        from tunesmith.export.midi import midi_bytes  # noqa: PLC0415

        settings = replace(
            self.midi_settings, humanize=humanize, humanize_seed=self.request.seed or 0
        )
        return midi_bytes(self.tune, settings)

    def save_midi(self, path: str | os.PathLike[str], *, humanize: float = 0.0) -> Path:
        """Write the MIDI file for a DAW: tempo, meter, key and instrument set.

        ``humanize`` (0 to 1, default 0: exact) adds a player's timing and velocity jitter,
        seeded by the request's seed.
        """
        from tunesmith.export.midi import write_atomically  # noqa: PLC0415

        return write_atomically(Path(path), self.to_midi_bytes(humanize=humanize))

    def to_musicxml(self) -> bytes:
        """The tune as MusicXML (for MuseScore, Finale, Sibelius, Dorico)."""
        from tunesmith.export.score import musicxml_bytes  # noqa: PLC0415

        return musicxml_bytes(self.tune, self.midi_settings)

    def to_abc(self) -> str:
        """The tune in ABC notation."""
        from tunesmith.export.score import abc_text  # noqa: PLC0415

        return abc_text(self.tune, self.midi_settings)

    def to_svg(self) -> str:
        """The sheet music engraved by verovio (first page) as an SVG document."""
        from tunesmith.export.score import svg_pages  # noqa: PLC0415

        return svg_pages(self.tune, self.midi_settings)[0]

    def save_score(self, path: str | os.PathLike[str]) -> Path:
        """Write sheet music; the suffix picks the format: .musicxml/.xml, .abc or .svg."""
        from tunesmith.export.midi import write_atomically  # noqa: PLC0415

        target = Path(path)
        writers: dict[str, Callable[[], bytes]] = {
            ".musicxml": self.to_musicxml,
            ".xml": self.to_musicxml,
            ".abc": lambda: self.to_abc().encode("utf-8"),
            ".svg": lambda: self.to_svg().encode("utf-8"),
        }
        if target.suffix.lower() not in writers:
            raise ExportError(
                f"cannot write {target}: sheet music files end in .musicxml, .xml, .abc or .svg"
            )
        return write_atomically(target, writers[target.suffix.lower()]())

    def _repr_html_(self) -> str:
        """In Jupyter: the sheet music and an audio player."""
        import base64  # noqa: PLC0415

        from tunesmith.export.audio import wav_bytes  # noqa: PLC0415

        audio = base64.b64encode(wav_bytes(self.to_audio(), 44100)).decode("ascii")
        return (
            f"<div>{self.to_svg()}</div>"
            f'<audio controls src="data:audio/wav;base64,{audio}"></audio>'
            f"<pre>{self.report.summary}</pre>"
        )

    def to_audio(
        self, *, soundfont: str | os.PathLike[str] | None = None, sample_rate: int = 44100
    ) -> npt.NDArray[np.float32]:
        """The tune rendered by FluidSynth: a (samples, 2) array."""
        from tunesmith.export.audio import find_soundfont, render_audio  # noqa: PLC0415

        return render_audio(
            self.to_midi_bytes(), soundfont=find_soundfont(soundfont), sample_rate=sample_rate
        )

    def save_audio(
        self,
        path: str | os.PathLike[str],
        *,
        soundfont: str | os.PathLike[str] | None = None,
        sample_rate: int = 44100,
    ) -> Path:
        """Render the tune with FluidSynth and a General MIDI soundfont to a WAV file."""
        from tunesmith.export.audio import write_audio  # noqa: PLC0415

        samples = self.to_audio(soundfont=soundfont, sample_rate=sample_rate)
        return write_audio(samples, Path(path), sample_rate)


def midi_settings(request: ComposeRequest) -> MidiSettings:
    """Tempo, meter, key, instrument and title of a request, for MIDI and score export."""
    from tunesmith.export.midi import MidiSettings  # noqa: PLC0415 - keep import light

    constraints = request.constraints
    return MidiSettings(
        tempo_qpm=float(request.tempo * constraints.beat_length),
        numerator=constraints.numerator,
        denominator=constraints.denominator,
        program=constraints.program,
        track_name=request.title or f"tunesmith {request.style}",
        instrument_name=request.instrument,
        key_sharps=constraints.key_sharps,
        key_minor=constraints.key_minor,
        beat_length=constraints.beat_length,
    )


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


MAX_MELODIC_STATES = 20_000
"""Above this many (bar, position, pitch) states the grammar drops the leap limit."""


def grammar_for(request: ComposeRequest) -> str:
    """The GBNF grammar for a request: every hard constraint, the form's cadences, and
    melodic steps of at most ``constraints.max_leap`` semitones where the grammar stays small.
    """  # noqa: D205 - the summary needs two lines
    constraints = request.constraints
    parts = len(written_sections(constraints.form))
    bars = parts * constraints.section_bars
    options: dict[str, Any] = {
        "pitches": constraints.pitches,
        "final_pitches": constraints.tonic_pitches,
        "durations": constraints.durations,
        "bar_length": constraints.bar_length,
        "bar_count": bars,
        "cell_length": constraints.cell_length,
        # every part but the last ends open, on a note of the dominant chord
        "cadences": {
            (part + 1) * constraints.section_bars - 1: constraints.half_cadence_pitches
            for part in range(parts - 1)
        },
    }
    shortest = min(DURATIONS[code] for code in constraints.durations)
    states = bars * int(constraints.bar_length / shortest) * len(constraints.pitches)
    if states <= MAX_MELODIC_STATES:
        return melodic_gbnf(max_leap=constraints.max_leap, **options)
    return constrained_gbnf(**options)


def written_sections(form: str) -> str:
    """The sections the model writes, each once, in order of appearance: "AABA" -> "AB"."""
    return "".join(dict.fromkeys(form))


def expand_form(tune: Tune, form: str, section_bars: int) -> Tune:
    """The written sections (A, then B...) laid out in the form's order (A A B B).

    A tune with another number of bars than the written sections need is returned as it
    is, for validation to flag and repair to fix.
    """
    sections = written_sections(form)
    if len(sections) == len(form) or len(tune.bars) != len(sections) * section_bars:
        return tune
    start = {letter: index * section_bars for index, letter in enumerate(sections)}
    return Tune(
        tuple(
            bar
            for letter in form
            for bar in tune.bars[start[letter] : start[letter] + section_bars]
        )
    )


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
        return Composition(request=request, tune=repaired, report=report)


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
        tune = expand_form(parse(text), constraints.form, constraints.section_bars)
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
