"""What :func:`~tunesmith.compose` returns: the :class:`Composition` and its :class:`Report`."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from tunesmith.errors import ExportError
from tunesmith.notation import format as format_tune
from tunesmith.repair import Repair
from tunesmith.request import ComposeRequest
from tunesmith.score import Tune
from tunesmith.validate import Violation

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from tunesmith.io.midi import MidiSettings

__all__ = ["Attempt", "Candidate", "Composition", "Report", "midi_settings"]


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
        from tunesmith.io.midi import midi_bytes  # noqa: PLC0415

        settings = replace(
            self.midi_settings, humanize=humanize, humanize_seed=self.request.seed or 0
        )
        return midi_bytes(self.tune, settings)

    def save_midi(self, path: str | os.PathLike[str], *, humanize: float = 0.0) -> Path:
        """Write the MIDI file for a DAW: tempo, meter, key and instrument set.

        ``humanize`` (0 to 1, default 0: exact) adds a player's timing and velocity jitter,
        seeded by the request's seed.
        """
        from tunesmith.io.files import write_atomically  # noqa: PLC0415

        return write_atomically(Path(path), self.to_midi_bytes(humanize=humanize))

    def to_musicxml(self) -> bytes:
        """The tune as MusicXML (for MuseScore, Finale, Sibelius, Dorico)."""
        from tunesmith.io.score import musicxml_bytes  # noqa: PLC0415

        return musicxml_bytes(self.tune, self.midi_settings)

    def to_abc(self) -> str:
        """The tune in ABC notation."""
        from tunesmith.io.score import abc_text  # noqa: PLC0415

        return abc_text(self.tune, self.midi_settings)

    def to_svg(self) -> str:
        """The sheet music engraved by verovio (first page) as an SVG document."""
        from tunesmith.io.score import svg_pages  # noqa: PLC0415

        return svg_pages(self.tune, self.midi_settings)[0]

    def save_score(self, path: str | os.PathLike[str]) -> Path:
        """Write sheet music; the suffix picks the format: .musicxml/.xml, .abc or .svg."""
        from tunesmith.io.files import write_atomically  # noqa: PLC0415

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

        from tunesmith.io.audio import wav_bytes  # noqa: PLC0415

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
        from tunesmith.io.audio import find_soundfont, render_audio  # noqa: PLC0415

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
        from tunesmith.io.audio import write_audio  # noqa: PLC0415

        samples = self.to_audio(soundfont=soundfont, sample_rate=sample_rate)
        return write_audio(samples, Path(path), sample_rate)


def midi_settings(request: ComposeRequest) -> MidiSettings:
    """Tempo, meter, key, instrument and title of a request, for MIDI and score export."""
    from tunesmith.io.midi import MidiSettings  # noqa: PLC0415 - keep import light

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
