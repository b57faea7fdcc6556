r"""The band options of ``tunesmith compose`` and the ``tunesmith harmonise`` command.

::

    tunesmith compose --style reel --key G --chords auto --band -o reel.mid --audio reel.wav
    tunesmith compose --style waltz --key F --parts melody,chords,bass \
        --instruments chords=accordion -o waltz.mid
    tunesmith harmonise melody.mid -o band.mid --style jig --musicxml band.musicxml

Imported by :mod:`tunesmith.app.cli` and :mod:`tunesmith.app.cli_parser`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tunesmith.errors import RequestError
from tunesmith.pipeline.harmonising import harmonise

__all__ = ["BAND_OPTIONS", "add_band_options", "add_harmonise_command", "harmonise_command"]

BAND_OPTIONS = ("chords", "band", "parts", "instruments")
"""The request fields these options set."""


def add_band_options(parser: argparse.ArgumentParser) -> None:
    """``--chords``, ``--band``, ``--parts`` and ``--instruments``."""
    group = parser.add_argument_group("harmony and band")
    group.add_argument(
        "--chords", help="progression the melody fits: 'D G | D A', 'i iv V i', or 'auto'"
    )
    group.add_argument(
        "--band", action="store_true", default=None, help="add chords, bass and drums"
    )
    group.add_argument("--parts", help="parts to write, e.g. melody,chords,bass (melody first)")
    group.add_argument(
        "--instruments", help="instruments of the other parts, e.g. chords=accordion,bass=cello"
    )


def add_harmonise_command(commands: Any) -> argparse.ArgumentParser:
    """The ``harmonise`` subcommand's parser.

    Its outputs are added by :mod:`tunesmith.app.cli_parser`.
    """
    parser: argparse.ArgumentParser = commands.add_parser(
        "harmonise", help="put chords and a band under a melody file"
    )
    parser.add_argument("melody", type=Path, help="MIDI, MusicXML, ABC or notation file")
    parser.add_argument("--style", default="folk", help="the band's style, e.g. jig, waltz")
    parser.add_argument(
        "--parts", default="chords,bass,drums", help="parts to add (default chords,bass,drums)"
    )
    parser.add_argument("--instruments", help="e.g. chords=accordion,bass=cello")
    parser.add_argument(
        "--rhythm",
        choices=["bar", "strong", "beat"],
        default="strong",
        help="a chord a bar, a strong beat (default) or a beat",
    )
    parser.add_argument(
        "--new-chords", action="store_true", help="choose chords even where the file has some"
    )
    return parser


def _pairs(text: str | None) -> dict[str, str]:
    pairs = {}
    for pair in (text or "").split(","):
        if not pair.strip():
            continue
        part, equals, instrument = pair.partition("=")
        if not equals:
            raise RequestError(
                f"--instruments takes part=instrument pairs, e.g. chords=accordion "
                f"(received {pair.strip()!r})"
            )
        pairs[part.strip().lower()] = instrument.strip()
    return pairs


def harmonise_command(args: argparse.Namespace) -> Any:
    """Harmonise the melody file; returns the score for :mod:`tunesmith.app.cli` to write."""
    parts = [part.strip().lower() for part in args.parts.split(",") if part.strip()]
    harmonised = harmonise(
        args.melody,
        style=args.style,
        parts=parts,
        instruments=_pairs(args.instruments),
        rhythm=args.rhythm,
        keep_chords=not args.new_chords,
    )
    print(" ".join(chord.figure for chord in harmonised.score.harmony))
    return harmonised.score
