"""The files a ``tunesmith`` command writes.

The options that name them, the checks made before any work (formats, files, folders,
soundfont, verovio), and the atomic writes after it.

Imported by :mod:`tunesmith.app.cli` and :mod:`tunesmith.app.cli_parser`; the writers are
:mod:`tunesmith.io.write`'s.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tunesmith.errors import DependencyError, ExportError
from tunesmith.io import files
from tunesmith.io.audio import audio_format, load_soundfont
from tunesmith.io.write import FORMATS, write_files

if TYPE_CHECKING:
    from tunesmith.model.score import Score

__all__ = [
    "OUTPUTS",
    "SUFFIXES",
    "add_outputs",
    "check_outputs",
    "check_writable",
    "write_outputs",
]

OUTPUTS = (
    ("output", "-o", "MIDI", "MIDI file, or the format its suffix names (.wav, .musicxml...)"),
    ("audio", "--audio", "audio", "audio file (.wav, .flac, .ogg) rendered by FluidSynth"),
    ("musicxml", "--musicxml", "MusicXML", "MusicXML sheet music"),
    ("abc", "--abc", "ABC", "ABC notation"),
    ("svg", "--svg", "SVG", "SVG sheet music (verovio), a file a page: NAME.svg, NAME-2.svg..."),
    ("text", "--text", "notation", "tune in tunesmith notation"),
)
"""Each output option: its destination, its flag, the format it writes, its help."""

SUFFIXES = {suffix: "output" if kind == "midi" else kind for suffix, kind in FORMATS.items()}
"""The suffixes each option takes (:data:`~tunesmith.io.write.FORMATS`); ``-o`` takes every one
and writes the format it names."""


def add_outputs(parser: argparse.ArgumentParser) -> None:
    """``-o``, ``--audio``, ``--musicxml``, ``--abc``, ``--svg``, ``--text`` and ``--soundfont``."""
    for name, flag, _, what in OUTPUTS:
        flags = [flag, "--output"] if name == "output" else [flag]
        parser.add_argument(*flags, dest=name, type=Path, help=f"write the {what} here")
    parser.add_argument("--soundfont", type=Path, help="General MIDI soundfont (.sf2/.sf3)")


def check_writable(path: Path | None, option: str) -> None:
    """Fail before composing if an output file could not be written."""
    if path is not None:
        try:
            files.check_writable(path)
        except ExportError as error:
            reason = str(error).removeprefix(f"cannot write {path}: ")
            raise ExportError(f"{option} {path}: {reason}") from None


def _check_suffix(path: Path, name: str, option: str, kind: str) -> None:
    takes = [suffix for suffix, each in SUFFIXES.items() if name in ("output", each)]
    if path.suffix.lower() not in takes:
        what = "its suffix names the format:" if name == "output" else f"{kind} files must end in"
        raise ExportError(
            f"{option} {path}: {what} {', '.join(takes)} (received {path.suffix or 'no suffix'!r})"
        )


def _check_apart(given: list[tuple[str, Path]]) -> None:
    """Two options naming one file would write it twice, the last write winning."""
    for (option, path), (other, other_path) in itertools.combinations(given, 2):
        if path.resolve() == other_path.resolve():
            raise ExportError(
                f"{option} {path} and {other} {other_path} name the same file; "
                "give each output its own"
            )


def _output_by_suffix(args: argparse.Namespace) -> None:
    """``-o`` with another format's suffix (``.musicxml``, ``.abc``, ``.wav``) writes that."""
    name = SUFFIXES[args.output.suffix.lower()] if args.output is not None else "output"
    if name == "output":
        return
    option, kind = next((flag, kind) for each, flag, kind, _ in OUTPUTS if each == name)
    if (other := getattr(args, name)) is not None:
        raise ExportError(
            f"-o {args.output} and {option} {other} both ask for {kind}; give one of them"
        )
    setattr(args, name, args.output)
    args.output = None


def check_outputs(args: argparse.Namespace) -> None:
    """Everything the outputs need, before any work: formats, files, folders, soundfont, verovio.

    ``-o`` with another format's suffix then stands for that format's option.
    """
    given = [(n, flag, kind) for n, flag, kind, _ in OUTPUTS if getattr(args, n) is not None]
    _check_apart([(flag, getattr(args, name)) for name, flag, _ in given])
    for name, flag, kind in given:
        _check_suffix(getattr(args, name), name, flag, kind)
        check_writable(getattr(args, name), flag)
    _output_by_suffix(args)
    if args.audio is not None:
        audio_format(args.audio)  # a suffix no audio format has fails here, not after composing
        load_soundfont(args.soundfont)  # a corrupt soundfont fails here, not after composing
    if args.svg is not None and importlib.util.find_spec("verovio") is None:
        raise DependencyError(
            "SVG sheet music (--svg) needs verovio", hint="pip install 'tunesmith[score]'"
        )


def write_outputs(score: Score, args: argparse.Namespace, *, seed: int = 0) -> None:
    """Write every file the options name, each atomically; ``wrote PATH`` on stderr for each."""
    for name, _, _, _ in OUTPUTS:
        if (path := getattr(args, name)) is not None:
            for written in write_files(score, path, seed=seed, soundfont=args.soundfont):
                print(f"wrote {written}", file=sys.stderr)
