"""Writing a score to files: one table from a file's suffix to the format written.

:func:`write_score` is :func:`~tunesmith.read_score`'s inverse; the command line's ``-o``,
the MCP server and :class:`~tunesmith.Composition`'s ``save_*`` methods all write through
it, so a suffix means the same format everywhere. Every write is atomic
(:func:`~tunesmith.io.files.write_atomically`): a file is whole or not there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from tunesmith.errors import ExportError
from tunesmith.io.abc import abc_text
from tunesmith.io.audio import find_soundfont, render_audio, write_audio
from tunesmith.io.files import file_path, write_atomically
from tunesmith.io.midi import midi_bytes
from tunesmith.io.score import musicxml_bytes, mxl_bytes, write_svg
from tunesmith.model.notation import unparse
from tunesmith.model.score import Score

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["FORMATS", "format_of", "score_audio", "write_files", "write_score"]

FORMATS = {".mid": "midi", ".midi": "midi", ".wav": "audio", ".flac": "audio", ".ogg": "audio"}
FORMATS |= {".musicxml": "musicxml", ".xml": "musicxml", ".mxl": "musicxml", ".abc": "abc"}
FORMATS |= {".svg": "svg", ".txt": "text"}
"""The format each suffix writes: MIDI, audio (FluidSynth), MusicXML, ABC, SVG (verovio),
or tunesmith notation."""


def format_of(path: str | os.PathLike[str]) -> str:
    """The format a file's suffix names (a value of :data:`FORMATS`).

    Raises :class:`~tunesmith.errors.ExportError` for a suffix no writer takes, naming them,
    and :class:`~tunesmith.errors.RequestTypeError` for a ``path`` that is not one.
    """
    target = file_path(path)
    if (kind := FORMATS.get(target.suffix.lower())) is None:
        raise ExportError(
            f"cannot write {target}: the suffix names the format, one of "
            f"{', '.join(FORMATS)} (received {target.suffix or 'no suffix'!r})"
        )
    return kind


def score_audio(
    score: Score, *, soundfont: str | os.PathLike[str] | None = None, sample_rate: int = 44100
) -> npt.NDArray[np.float32]:
    """Every part and the drums rendered by FluidSynth: a (samples, 2) float array.

    ``soundfont`` as :func:`~tunesmith.io.audio.find_soundfont` finds one when not given.
    """
    midi = midi_bytes(score)
    return render_audio(midi, soundfont=find_soundfont(soundfont), sample_rate=sample_rate)


def write_files(
    score: Score,
    path: str | os.PathLike[str],
    *,
    humanize: float = 0.0,
    seed: int = 0,
    soundfont: str | os.PathLike[str] | None = None,
    sample_rate: int = 44100,
) -> list[Path]:
    """Write ``score`` in the format ``path``'s suffix names; every file written.

    One file, except SVG: a file a page (``tune.svg``, ``tune-2.svg``...). ``humanize`` and
    ``seed`` are MIDI's (:func:`~tunesmith.io.midi.midi_bytes`), ``soundfont`` and
    ``sample_rate`` audio's.

    Raises
    ------
    ExportError
        A suffix no writer takes, or a file that cannot be written.
    DependencyError
        FluidSynth (audio) or verovio (SVG) is not installed.
    """
    target = file_path(path)
    kind = format_of(target)
    if kind == "svg":
        return write_svg(score, target)
    if kind == "audio":
        samples = score_audio(score, soundfont=soundfont, sample_rate=sample_rate)
        return [write_audio(samples, target, sample_rate)]
    if kind == "midi":
        data = midi_bytes(score, humanize=humanize, seed=seed)
    elif kind == "musicxml":
        data = mxl_bytes(score) if target.suffix.lower() == ".mxl" else musicxml_bytes(score)
    elif kind == "abc":
        data = abc_text(score).encode("utf-8")
    else:
        data = (unparse(score) + "\n").encode("utf-8")
    return [write_atomically(target, data)]


def write_score(
    score: Score,
    path: str | os.PathLike[str],
    *,
    humanize: float = 0.0,
    seed: int = 0,
    soundfont: str | os.PathLike[str] | None = None,
    sample_rate: int = 44100,
) -> Path:
    """Write a score to a file; the suffix picks the format (:data:`FORMATS`).

    ``.mid``/``.midi``; ``.wav``, ``.flac``, ``.ogg`` (rendered by FluidSynth);
    ``.musicxml``/``.xml``, ``.mxl`` (compressed); ``.abc``; ``.svg`` (a file a page, the
    first returned); ``.txt`` (tunesmith notation). Options and errors as
    :func:`write_files`::

        score = read_score("tune.mid")
        write_score(score, "tune.musicxml")
    """
    written = write_files(
        score, path, humanize=humanize, seed=seed, soundfont=soundfont, sample_rate=sample_rate
    )
    return written[0]
