"""What :func:`~tunesmith.compose` returns: the :class:`Composition` and its :class:`Report`."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from tunesmith.checks.repair import Repair
from tunesmith.checks.validate import Violation
from tunesmith.io.abc import abc_text
from tunesmith.io.audio_files import audio_bytes, write_audio
from tunesmith.io.files import write_atomically
from tunesmith.io.midi import midi_bytes
from tunesmith.io.score import musicxml_bytes, svg_pages
from tunesmith.io.write import score_audio, write_score
from tunesmith.model.header import clean_text
from tunesmith.model.notation import unparse
from tunesmith.model.score import Bar, Header, Key, Part, Repeat, Score, Tune
from tunesmith.requests.request import ComposeRequest

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "Attempt",
    "Candidate",
    "Composition",
    "Report",
    "ReworkReport",
    "header_for",
    "score_for",
]


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


class Candidate(BaseModel):
    """One tune written side by side with others, and how the critic judged it."""

    model_config = ConfigDict(frozen=True)

    number: int
    score: float
    """The critic's score (higher is more like the folk corpus)."""
    intervals: float
    rhythm: float
    distance: float
    tokens: int
    """Tokens the model sampled (bars the plan repeats are not sampled)."""
    redrawn_tokens: int
    """Tokens drawn again because they broke a musical rule."""
    rewritten_bars: int
    """Bars written again because they broke a musical rule."""
    kept_breaking_rules: int
    """Bars kept although every try broke a musical rule (the one breaking fewest)."""


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
    form: str = "A"
    """The parts in the order they are heard, e.g. ``"AABB"``."""
    part_bars: int = 0
    """Bars per part (0: the tune is not in parts)."""
    seed: int | None = None
    """The seed the tune was composed with (drawn at random when the request gave none)."""
    candidates: tuple[Candidate, ...] = ()
    """The tunes written side by side, when the critic chose among several."""
    chosen: int | None = None
    """The number of the candidate kept."""
    why: str = ""
    """Why the critic kept it."""
    chord_tones: float | None = None
    """With chords: the share of strong beats whose note is a tone of its chord, in the
    model's answer (before repair; after it, every one is)."""

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
        if (explanation := getattr(self.request, "explanation", None)) is not None:
            lines.append(str(explanation))  # a request read from words says how
        for attempt in self.attempts:
            verdict = "; ".join(attempt.problems) if attempt.problems else "accepted"
            lines.append(
                f"attempt {attempt.number}: {attempt.completion_tokens} tokens in "
                f"{attempt.seconds:.1f} s ({attempt.finish_reason}): {verdict}"
            )
        if self.candidates:
            lines.append(f"form {self.form} in parts of {self.part_bars} bars, seed {self.seed}")
            lines.append(f"kept: {self.why}")
        for candidate in self.candidates:
            mark = "chosen" if candidate.number == self.chosen else "      "
            lines.append(
                f"{mark} candidate {candidate.number}: score {candidate.score:.2f} (intervals "
                f"{candidate.intervals:.2f}, rhythm {candidate.rhythm:.2f}, distance "
                f"{candidate.distance:.2f}); {candidate.tokens} tokens, "
                f"{candidate.redrawn_tokens} redrawn, {candidate.rewritten_bars} bars rewritten"
            )
        if self.chord_tones is not None:
            lines.append(
                f"chords {self.request.progression}: {self.chord_tones:.0%} of strong beats on a "
                "chord tone as written (100% after repair)"
            )
        lines += [f"violation: {violation}" for violation in self.violations]
        lines += [f"repair: {change}" for change in self.repairs]
        return "\n".join(lines)


@dataclass(frozen=True)
class Composition:
    """A composed score with its request and report; writes MIDI, audio, sheet music and text.

    ``score`` is the whole of it (header, the melody part, repeats); ``tune`` is the melody
    as it is played, repeats written out, for validation and metrics.
    """

    request: ComposeRequest
    score: Score
    report: Report

    @cached_property
    def tune(self) -> Tune:
        """The melody as played (repeats written out): the tune the request asked for."""
        return self.score.expanded().melody.tune

    @property
    def text(self) -> str:
        """The melody as played, in tunesmith notation (bars only; ``unparse(score)`` has all)."""
        return unparse(self.tune)

    def to_midi_bytes(self, *, humanize: float = 0.0) -> bytes:
        """The score as a Standard MIDI File (type 1); see :meth:`save_midi` for ``humanize``."""
        return midi_bytes(self.score, humanize=humanize, seed=self.request.seed or 0)

    def save_midi(self, path: str | os.PathLike[str], *, humanize: float = 0.0) -> Path:
        """Write the MIDI file for a DAW: tempo, meter, key and instrument set.

        ``humanize`` (0 to 1, default 0: exact) adds a player's timing and velocity jitter,
        seeded by the request's seed.
        """
        return write_atomically(path, self.to_midi_bytes(humanize=humanize))

    def to_musicxml(self) -> bytes:
        """The score as MusicXML (for MuseScore, Finale, Sibelius, Dorico)."""
        return musicxml_bytes(self.score)

    def to_abc(self) -> str:
        """The score in ABC notation."""
        return abc_text(self.score)

    def to_svg(self) -> str:
        """The sheet music engraved by verovio (first page) as an SVG document."""
        return svg_pages(self.score)[0]

    def save_score(self, path: str | os.PathLike[str]) -> Path:
        """Write the score in the format the suffix names, as :func:`~tunesmith.write_score`.

        Sheet music (``.musicxml``/``.xml``/``.mxl``, ``.abc``, ``.svg``), tunesmith notation
        (``.txt``), and MIDI or audio too.
        """
        return write_score(self.score, path, seed=self.request.seed or 0)

    def _repr_html_(self) -> str:
        """In Jupyter: the sheet music and an audio player (Ogg Vorbis, a tenth of a WAV)."""
        audio = base64.b64encode(audio_bytes(self.to_audio(), 44100, "OGG")).decode("ascii")
        return (
            f"<div>{self.to_svg()}</div>"
            f'<audio controls src="data:audio/ogg;base64,{audio}"></audio>'
            f"<pre>{self.report.summary}</pre>"
        )

    def to_audio(
        self, *, soundfont: str | os.PathLike[str] | None = None, sample_rate: int = 44100
    ) -> npt.NDArray[np.float32]:
        """The score rendered by FluidSynth: a (samples, 2) array."""
        return score_audio(self.score, soundfont=soundfont, sample_rate=sample_rate)

    def save_audio(
        self,
        path: str | os.PathLike[str],
        *,
        soundfont: str | os.PathLike[str] | None = None,
        sample_rate: int = 44100,
    ) -> Path:
        """Render the score with FluidSynth to an audio file: ``.wav``, ``.flac`` or ``.ogg``."""
        samples = self.to_audio(soundfont=soundfont, sample_rate=sample_rate)
        return write_audio(samples, path, sample_rate)


def header_for(request: ComposeRequest) -> Header:
    """The header a request asks for: meter, key (and pitch set), tempo and beat, title."""
    constraints = request.constraints
    key = None
    if constraints.key_mode is not None:  # the key signature the tune is written in
        key = Key(constraints.tonic, constraints.key_mode)
    return Header(
        meter=f"{constraints.numerator}/{constraints.denominator}",
        key=key,
        tempo=request.tempo,
        beat=constraints.beat_length,
        title=clean_text(request.title or f"tunesmith {request.style}"),
        notes=constraints.pitch_classes if request.notes is not None else None,
    )


def score_for(request: ComposeRequest, tune: Tune, form: str = "A", part_bars: int = 0) -> Score:
    """The one-part score of a composed melody (as played), parts the form plays twice in a
    row (the AA and BB of AABB) written once between repeat marks; a pickup before them.
    """  # noqa: D205
    constraints = request.constraints
    pickup = tune.has_pickup(constraints.bar_length, request.bars)
    heard = tune.bars[pickup:]
    size = part_bars or len(heard)
    sections = [heard[i * size : (i + 1) * size] for i in range(len(form))]
    bars: list[Bar] = list(tune.bars[:pickup])
    repeats: list[Repeat] = []
    position = 0
    if len(heard) != len(form) * size:
        sections, form, bars = [tune.bars], "A", []
    while position < len(form):
        section = sections[position]
        twice = position + 1 < len(form) and form[position + 1] == form[position]
        if twice and sections[position + 1] == section and not section[-1].events[-1].tie:
            repeats.append(Repeat(len(bars), len(bars) + len(section)))
            position += 1
        bars += section
        position += 1
    instrument = request.instrument if isinstance(request.instrument, str) else ""
    part = Part(tuple(bars), name=clean_text(instrument), program=constraints.program)
    return Score(header_for(request), (part,), repeats=tuple(repeats))


class ReworkReport(Report):
    """The :class:`~tunesmith.Report`, and what was inferred, locked and written."""

    operation: str
    """``"continue"``, ``"infill"``, ``"vary"`` or ``"harmonise"``."""
    source: str
    part: str
    """The part's name in quotes, or ``#index`` for a part without one."""
    context: tuple[str, ...]
    """What came from the file or was estimated, and what the user gave."""
    locked: tuple[int, ...]
    """The user's bars (1-based) that come back as they are."""
    written: tuple[int, ...]
    """The bars (1-based) the model wrote."""
    keep: str | None = None
    user_violations: tuple[Violation, ...] = ()
    """Where the user's own bars break a constraint the user gave: left as written."""
    notes: tuple[str, ...] = ()

    @property
    def overview(self) -> str:
        """What was inferred, locked and written, and what the user's bars break."""
        written = f"bars {_spans(self.written)} written" if self.written else "no bars written"
        lines = [
            f"{self.operation} {self.source}, part {self.part}: {written}"
            f"{f' (keeping their {self.keep})' if self.keep else ''}, bars "
            f"{_spans(self.locked) or 'none'} locked as the user wrote them",
            *(f"context: {line}" for line in self.context),
            *(f"your bars: {v} (left as written)" for v in self.user_violations),
            *self.notes,
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return f"{self.overview}\n{super().__str__()}"


def _spans(numbers: tuple[int, ...]) -> str:
    """``1-8, 13-16``."""
    spans: list[list[int]] = []
    for number in numbers:
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in spans)
