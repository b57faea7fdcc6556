"""The files a ``tunesmith`` command writes.

The options that name them, the checks made before any work (folders, formats, soundfont,
verovio), and the atomic writes after it.

Imported by :mod:`tunesmith.cli`; nothing heavy is imported until a command writes.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tunesmith.errors import DependencyError, ExportError

if TYPE_CHECKING:
    from tunesmith.score import Score

__all__ = [
    "OUTPUTS",
    "add_outputs",
    "check_outputs",
    "check_writable",
    "output_by_suffix",
    "write_outputs",
]

OUTPUTS = (
    ("output", "-o", "MIDI file"),
    ("audio", "--audio", "audio file (.wav, .flac, .ogg) rendered by FluidSynth"),
    ("musicxml", "--musicxml", "MusicXML sheet music"),
    ("abc", "--abc", "ABC notation"),
    ("svg", "--svg", "SVG sheet music (verovio)"),
    ("text", "--text", "tune in tunesmith notation"),
)


def add_outputs(parser: argparse.ArgumentParser) -> None:
    """``-o``, ``--audio``, ``--musicxml``, ``--abc``, ``--svg``, ``--text`` and ``--soundfont``."""
    for name, flag, what in OUTPUTS:
        flags = [flag, "--output"] if name == "output" else [flag]
        parser.add_argument(*flags, dest=name, type=Path, help=f"write the {what} here")
    parser.add_argument("--soundfont", type=Path, help="General MIDI soundfont (.sf2/.sf3)")


def check_writable(path: Path | None, option: str) -> None:
    """Fail before composing if an output file could not be written."""
    if path is None:
        return
    folder = path.parent
    if not folder.is_dir():
        raise ExportError(f"{option} {path}: the folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK):
        raise ExportError(f"{option} {path}: the folder {folder} is not writable")
    if path.is_dir():
        raise ExportError(f"{option} {path} is a folder; give a file name")


def check_outputs(args: argparse.Namespace) -> None:
    """Everything the outputs need, before any work: folders, formats, soundfont, verovio."""
    for name, flag, _ in OUTPUTS:
        check_writable(getattr(args, name), flag)
    if args.audio is not None:
        from tunesmith.io.audio import audio_format, load_soundfont  # noqa: PLC0415

        audio_format(args.audio)
        load_soundfont(args.soundfont)  # a corrupt soundfont fails here, not after composing
    if args.svg is not None and importlib.util.find_spec("verovio") is None:
        raise DependencyError(
            "SVG sheet music (--svg) needs verovio", hint="pip install 'tunesmith[score]'"
        )


_SCORE_SUFFIXES = {".musicxml": "musicxml", ".xml": "musicxml", ".mxl": "musicxml"}
_SCORE_SUFFIXES |= {".abc": "abc", ".txt": "text", ".svg": "svg", ".wav": "audio"}


def output_by_suffix(args: argparse.Namespace) -> None:
    """``-o`` with a score or audio suffix (``.musicxml``, ``.abc``, ``.wav``) writes that."""
    if args.output is not None and (kind := _SCORE_SUFFIXES.get(args.output.suffix.lower())):
        setattr(args, kind, args.output)
        args.output = None


def write_outputs(score: Score, args: argparse.Namespace, *, seed: int = 0) -> None:
    """Write every file the options name, each atomically; ``wrote PATH`` on stderr."""
    from tunesmith.io import abc, audio, files  # noqa: PLC0415
    from tunesmith.io import score as sheet  # noqa: PLC0415

    def musicxml(path: Path) -> bytes:
        return sheet.mxl_bytes(score) if path.suffix.lower() == ".mxl" else score.to_musicxml()

    writers: dict[str, Callable[[Path], Path]] = {
        "output": lambda path: score.save_midi(path, seed=seed),
        "audio": lambda path: score.save_audio(path, soundfont=args.soundfont),
        "musicxml": lambda path: files.write_atomically(path, musicxml(path)),
        "abc": lambda path: files.write_atomically(path, abc.abc_text(score).encode("utf-8")),
        "svg": lambda path: files.write_atomically(path, score.to_svg().encode("utf-8")),
        "text": lambda path: files.write_atomically(path, (score.text + "\n").encode("utf-8")),
    }
    assert audio  # the audio module is imported above so a missing FluidSynth fails early
    for name, write in writers.items():
        if (path := getattr(args, name)) is not None:
            print(f"wrote {write(path)}", file=sys.stderr)
