"""The ``tunesmith`` command's parser: every subcommand and its options.

:func:`build_parser` makes it; argparse's own errors come out as one line and exit status
:data:`EXIT_ERROR`, like every other error. The commands themselves are
:mod:`tunesmith.app.cli`'s.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, NoReturn

from tunesmith.app import cli_band, cli_outputs

__all__ = ["EXIT_ERROR", "build_parser"]

EXIT_ERROR = 2
"""The exit status of every error."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line and exit status 2, like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"tunesmith: error: {message} (see: {self.prog} --help)\n")


def _add_request_options(parser: argparse.ArgumentParser, *, pitches: bool) -> None:
    if pitches:
        group = parser.add_argument_group("pitches (give --notes, or --key with --mode)")
        group.add_argument("--notes", help='allowed notes, the tonic first, e.g. "A B C# F# G"')
        group.add_argument("--key", help="tonic of a scale, e.g. D")
        group.add_argument("--mode", help="music21 scale name, e.g. dorian (default major)")
        group.add_argument("--low", help="lowest pitch, e.g. A3 (default: the instrument's)")
        group.add_argument("--high", help="highest pitch, e.g. A5 (default: the instrument's)")
        parser.add_argument("--bars", type=int, help="number of bars (default 8, or the style's)")
        parser.add_argument("--seed", type=int, help="random seed for repeatable output")
        parser.add_argument("--strict", action="store_true", help="fail instead of repairing")
    parser.add_argument("--meter", help="time signature (default 4/4, or the style's)")
    parser.add_argument("--tempo", type=float, help="beats per minute (default 100)")
    parser.add_argument("--instrument", help="General MIDI name or program number 0-127")
    parser.add_argument("--style", help="e.g. 'folk jig', 'reel', 'waltz' (default folk)")
    parser.add_argument("--title", help="title for the MIDI file and the score")


def _add_backend_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model (default: the embedded offline model)")
    group.add_argument("--backend", choices=["local", "openai"], help="default $TUNESMITH_BACKEND")
    group.add_argument("--base-url", help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1")
    group.add_argument("--model", help="model name (openai) or GGUF path (local)")
    group.add_argument(
        "--adapter",
        help="LoRA for the local model: a GGUF file, or 'none' for the base model "
        "(default: the folk adapter tunesmith ships)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The parser of every ``tunesmith`` command and its options."""
    parser = _Parser(
        prog="tunesmith", description="Compose music with language models, one note at a time."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    composer = commands.add_parser("compose", help="compose a tune and write MIDI, audio, score")
    composer.add_argument("words", nargs="?", help="the tune in words; options given win over them")
    _add_request_options(composer, pitches=True)
    cli_band.add_band_options(composer)
    _add_backend_options(composer)
    cli_outputs.add_outputs(composer)
    composer.add_argument("--report", action="store_true", help="print the full report")
    batch = commands.add_parser("batch", help="compose every request of a JSON-lines file")
    batch.add_argument("requests", type=Path, help="one ComposeRequest as JSON per line")
    batch.add_argument("--out", type=Path, required=True, help="folder for NNN.mid and NNN.txt")
    batch.add_argument("--concurrency", type=int, default=4, help="requests in flight (default 4)")
    _add_backend_options(batch)
    show = commands.add_parser("show", help="turn any score file into MIDI, audio, sheet music")
    show.add_argument(
        "tune", type=Path, help="notation, MIDI, MusicXML or ABC file ('-': notation on stdin)"
    )
    _add_request_options(show, pitches=False)
    cli_outputs.add_outputs(show)
    render = commands.add_parser("render", help="render any score file to audio with FluidSynth")
    render.add_argument("midi", type=Path, help="MIDI, MusicXML, ABC or notation file")
    render.add_argument("--audio", type=Path, required=True, help="audio file to write")
    render.add_argument("--soundfont", type=Path, help="General MIDI soundfont (.sf2/.sf3)")
    render.add_argument("--sample-rate", type=int, default=44100)
    evaluate = commands.add_parser("evaluate", help="musical metrics of any score file's melody")
    evaluate.add_argument("tune", type=Path, help="MIDI, MusicXML, ABC or notation file")
    commands.add_parser("soundfonts", help="list the soundfonts tunesmith finds, in order")
    cli_outputs.add_outputs(cli_band.add_harmonise_command(commands))
    _add_words_commands(commands)
    _add_rework_commands(commands)
    return parser


def _add_rework_commands(commands: Any) -> None:
    jobs = {
        "continue": "continue a MIDI, MusicXML or ABC file by new bars, its own bars locked",
        "infill": "write bars of a file again (e.g. --at 5-8), every other bar locked",
        "vary": "vary bars of a file, keeping their rhythm or contour; the others locked",
    }
    for name, what in jobs.items():
        job = commands.add_parser(name, help=what)
        job.add_argument("file", type=Path, help="MIDI, MusicXML, ABC or notation file")
        if name == "continue":
            job.add_argument("--bars", type=int, default=8, help="new bars (default 8)")
        else:
            job.add_argument(
                "--at", help="the bars to write: 5-8" + (" (required)" if name == "infill" else "")
            )
            job.add_argument("--bars", help=argparse.SUPPRESS)  # the old spelling, refused
        if name == "vary":
            job.add_argument("--keep", choices=["rhythm", "contour", "none"], default="rhythm")
            job.add_argument("--amount", type=float, default=1.0, help="share of bars (0-1]")
        job.add_argument("--part", help="the part's name or index (default: the melody)")
        group = job.add_argument_group("what the file does not say, or you want otherwise")
        for option in ("notes", "key", "mode", "low", "high"):
            group.add_argument(f"--{option}", help=f"{option} (default: from the file)")
        job.add_argument("--seed", type=int, help="random seed for repeatable output")
        job.add_argument("--report", action="store_true", help="print the full report")
        _add_request_options(job, pitches=False)
        _add_backend_options(job)
        cli_outputs.add_outputs(job)


def _add_words_commands(commands: Any) -> None:
    interpreter = commands.add_parser("interpret", help="show the request words become (no tune)")
    interpreter.add_argument("words", help='e.g. "a jig in 6/8 on the notes D E F# A B"')
    interpreter.add_argument("--language", help="a word table: en or uk (default: guessed)")
    interpreter.add_argument("--json", action="store_true", help="print the request as JSON")
    _add_backend_options(interpreter)
    server = commands.add_parser("mcp", help="serve the MCP tools on stdio for agents")
    server.add_argument("--out", type=Path, default=Path(), help="the only folder it writes in")
    server.add_argument("--max-bars", type=int, default=64, help="longest tune (default 64)")
    server.add_argument("--concurrency", type=int, default=2, help="tunes at once (default 2)")
    _add_backend_options(server)
