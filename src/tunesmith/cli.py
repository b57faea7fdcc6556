r"""The ``tunesmith`` command.

::

    tunesmith compose --notes "A B C# F# G" --meter 6/8 --bars 16 --tempo 112 \\
        --instrument flute --seed 7 -o jig.mid --audio jig.wav

Errors are one line on stderr and exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from tunesmith.errors import ExportError, TunesmithError

__all__ = ["main"]

EXIT_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tunesmith", description="Compose music with language models, one note at a time."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    compose = commands.add_parser("compose", help="compose a tune and write MIDI/audio/text")
    pitch = compose.add_argument_group("pitches (give --notes, or --key with --mode)")
    pitch.add_argument("--notes", help='allowed notes, the tonic first, e.g. "A B C# F# G"')
    pitch.add_argument("--key", help="tonic of a scale, e.g. D")
    pitch.add_argument("--mode", help="music21 scale name, e.g. dorian (default major)")
    pitch.add_argument("--low", help="lowest pitch, e.g. A3")
    pitch.add_argument("--high", help="highest pitch, e.g. A5")
    compose.add_argument("--meter", default="4/4", help="time signature (default 4/4)")
    compose.add_argument("--bars", type=int, default=8, help="number of bars (default 8)")
    compose.add_argument("--tempo", type=float, default=100, help="beats per minute (default 100)")
    compose.add_argument(
        "--instrument", default="Acoustic Grand Piano", help="General MIDI name or program"
    )
    compose.add_argument("--style", default="folk", help="style text, e.g. 'folk jig'")
    compose.add_argument("--title", help="title for the MIDI track")
    compose.add_argument("--seed", type=int, help="random seed for repeatable output")
    compose.add_argument("--strict", action="store_true", help="fail instead of repairing")
    compose.add_argument("-o", "--output", type=Path, help="MIDI file to write")
    compose.add_argument("--audio", type=Path, help="WAV file to render with FluidSynth")
    compose.add_argument("--soundfont", type=Path, help="General MIDI soundfont (.sf2/.sf3)")
    compose.add_argument("--text", type=Path, help="write the tune in tunesmith notation here")
    compose.add_argument("--report", action="store_true", help="print the full report")
    return parser


def _check_writable(path: Path | None, option: str) -> None:
    """Fail before composing if an output file could not be written."""
    if path is None:
        return
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        raise ExportError(f"{option} {path}: the folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK):
        raise ExportError(f"{option} {path}: the folder {folder} is not writable")
    if path.is_dir():
        raise ExportError(f"{option} {path} is a folder; give a file name")


def _compose(args: argparse.Namespace) -> None:
    from tunesmith.compose import compose  # noqa: PLC0415 - keep --help fast

    for path, option in ((args.output, "-o"), (args.audio, "--audio"), (args.text, "--text")):
        _check_writable(path, option)
    if args.audio is not None:
        from tunesmith.export.audio import find_soundfont  # noqa: PLC0415

        find_soundfont(args.soundfont)
    options = {
        name: value
        for name in ("notes", "key", "mode", "low", "high", "title", "seed")
        if (value := getattr(args, name)) is not None
    }
    instrument: str | int = int(args.instrument) if args.instrument.isdigit() else args.instrument
    composition = compose(
        meter=args.meter,
        bars=args.bars,
        tempo=args.tempo,
        instrument=instrument,
        style=args.style,
        strict=args.strict,
        **options,
    )
    print(composition.text)
    print(composition.report if args.report else composition.report.summary, file=sys.stderr)
    if args.output is not None:
        print(f"wrote {composition.save_midi(args.output)}", file=sys.stderr)
    if args.audio is not None:
        print(
            f"wrote {composition.save_audio(args.audio, soundfont=args.soundfont)}", file=sys.stderr
        )
    if args.text is not None:
        from tunesmith.export.midi import write_atomically  # noqa: PLC0415

        written = write_atomically(args.text, (composition.text + "\n").encode("utf-8"))
        print(f"wrote {written}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        _compose(args)
    except TunesmithError as error:
        print(f"tunesmith: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("tunesmith: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
