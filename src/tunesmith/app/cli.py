r"""The ``tunesmith`` command.

::

    tunesmith compose --notes "A B C# F# G" --meter 6/8 --bars 16 --tempo 112 \
        --instrument flute --seed 7 -o jig.mid --audio jig.wav
    tunesmith compose "a sad waltz in D minor for accordion" -o waltz.mid --audio waltz.wav
    tunesmith interpret "a jig in 6/8 on the notes D E F# A B"
    tunesmith mcp --out tunes/
    tunesmith show tune.txt -o tune.mid --svg tune.svg
    tunesmith continue first_half.mid --bars 8 -o longer.mid
    tunesmith infill tune.musicxml --at 5-8 -o fixed.musicxml
    tunesmith vary tune.mid --at 9-16 --keep rhythm -o varied.mid
    tunesmith render any.musicxml --audio any.wav
    tunesmith evaluate any.abc
    tunesmith compose --style reel --key G --chords auto --band -o reel.mid
    tunesmith harmonise melody.mid -o band.mid --style jig
    tunesmith batch requests.jsonl --out tunes/ --backend openai --concurrency 8
    tunesmith soundfonts

Errors are one line on stderr and exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from tunesmith.app import cli_band, cli_outputs
from tunesmith.app.cli_parser import EXIT_ERROR, build_parser
from tunesmith.checks.metrics import evaluate_file
from tunesmith.errors import (
    DependencyError,
    ExportError,
    RequestError,
    RequestTypeError,
    TunesmithError,
)
from tunesmith.interpreting.interpret import interpret
from tunesmith.io.audio import find_soundfont, render_audio, soundfont_candidates, write_audio
from tunesmith.io.files import read_text, write_atomically
from tunesmith.io.midi import midi_bytes
from tunesmith.io.read import READERS, read_midi_file, read_score
from tunesmith.model.header import clean_text
from tunesmith.model.notation import parse
from tunesmith.model.score import Score
from tunesmith.pipeline import continuation
from tunesmith.pipeline.compose import backend_from_options, compose, compose_many
from tunesmith.pipeline.composition import Composition
from tunesmith.requests.presets import program_number
from tunesmith.requests.request import ComposeRequest

__all__ = ["EXIT_ERROR", "main"]

BAD_LINES_SHOWN = 20
"""The bad lines of a batch file shown; the others are counted."""


def _request_options(args: argparse.Namespace, names: Sequence[str]) -> dict[str, Any]:
    options = {name: value for name in names if (value := getattr(args, name, None)) is not None}
    instrument = options.get("instrument")
    if isinstance(instrument, str) and instrument.isdigit():
        options["instrument"] = int(instrument)
    return options


def _compose(args: argparse.Namespace) -> None:
    cli_outputs.check_outputs(args)
    names = ("notes", "key", "mode", "low", "high", "bars", "meter", "tempo", "instrument")
    options = _request_options(args, (*names, "style", "title", "seed", *cli_band.BAND_OPTIONS))
    composition = compose(args.words, strict=args.strict, backend=_backend(args), **options)
    if args.words is not None:
        print(composition.request.explanation, file=sys.stderr)  # type: ignore[attr-defined]
    print(composition.text)
    print(composition.report if args.report else composition.report.summary, file=sys.stderr)
    cli_outputs.write_outputs(composition.score, args, seed=composition.request.seed or 0)


def _backend(args: argparse.Namespace) -> Any:
    return backend_from_options(
        args.backend, base_url=args.base_url, model=args.model, adapter=args.adapter
    )


def _read_request(line: str) -> ComposeRequest:
    try:
        options = json.loads(line)
    except json.JSONDecodeError as error:
        raise RequestError(f"not JSON ({error})") from error
    if not isinstance(options, dict):
        raise RequestError(f"not a JSON object of options (received {type(options).__name__})")
    return ComposeRequest(**options)


def _read_requests(path: Path) -> list[ComposeRequest]:
    """Every request of the file, or an error naming every bad line (the first 20 shown)."""
    requests, bad = [], []
    lines = [(n, line) for n, line in enumerate(read_text(path).splitlines(), 1) if line.strip()]
    for number, line in lines:
        try:
            requests.append(_read_request(line))
        except RequestError as error:
            bad.append((number, error))
    if len(bad) == 1:
        number, problem = bad[0]
        raise RequestError(f"{path}, line {number}: {problem}") from problem
    if bad:
        for number, problem in bad[:BAD_LINES_SHOWN]:
            print(f"line {number}: {problem}", file=sys.stderr)
        if len(bad) > BAD_LINES_SHOWN:
            print(f"and {len(bad) - BAD_LINES_SHOWN:,} more bad lines", file=sys.stderr)
        raise RequestError(
            f"{len(bad):,} of {len(lines):,} lines of {path} are not requests (see above); "
            "nothing was composed"
        )
    return requests


def _batch(args: argparse.Namespace) -> None:
    """Compose every request; write each result as it completes; report every failure."""
    out: Path = args.out
    if not out.is_dir():
        raise ExportError(f"--out {out}: the folder does not exist; create it first")
    if not os.access(out, os.W_OK):
        raise ExportError(f"--out {out}: the folder is not writable")
    requests = _read_requests(args.requests)
    backend = _backend(args)
    failures: dict[int, str] = {}
    done = 0

    def write(index: int, result: object) -> None:
        nonlocal done
        done += 1
        if isinstance(result, Composition):
            stem = out / f"{index + 1:03d}"
            try:
                result.save_midi(stem.with_suffix(".mid"))
                write_atomically(stem.with_suffix(".txt"), (result.text + "\n").encode("utf-8"))
            except Exception as error:  # one bad write must not lose the rest of the batch
                failures[index] = f"composed, but not written: {error}"
        else:
            failures[index] = str(result)
        filled = 30 * done // max(len(requests), 1)
        status = "failed" if index in failures else "ok"
        bar = "#" * filled + "." * (30 - filled)
        print(f"\r[{bar}] {done}/{len(requests)} (#{index + 1} {status})", end="", file=sys.stderr)

    compose_many(requests, backend=backend, concurrency=args.concurrency, on_result=write)
    print(file=sys.stderr)
    for index in sorted(failures):
        print(f"request {index + 1}: {failures[index]}", file=sys.stderr)
    written = len(requests) - len(failures)
    print(f"{written} of {len(requests)} composed into {out}", file=sys.stderr)
    if failures:
        raise ExportError(f"{len(failures)} of {len(requests)} requests failed (see above)")


def _read(path: Path) -> Score:
    """A score from a file, or from notation on stdin for ``-``."""
    return parse(sys.stdin.read()) if str(path) == "-" else read_score(path)


def _show(args: argparse.Namespace) -> None:
    cli_outputs.check_outputs(args)
    score = _read(args.tune)
    changes = {name: getattr(args, name) for name in ("meter", "tempo", "title")}
    options = {name: value for name, value in changes.items() if value is not None}
    if "meter" in options:
        options["beat"] = Fraction(0)  # the new meter's own beat
    if "title" in options:
        options["title"] = clean_text(options["title"])
    if options:
        score = replace(score, header=replace(score.header, **options))
    if args.instrument is not None:
        instrument = int(args.instrument) if args.instrument.isdigit() else args.instrument
        melody = replace(score.melody, program=program_number(instrument))
        parts = tuple(melody if part is score.melody else part for part in score.parts)
        score = replace(score, parts=parts)
    for number, length in enumerate(score.bar_lengths[1:-1], 2):
        if length != score.header.bar_length:
            print(
                f"warning: bar {number} lasts {length} quarter notes; a bar of "
                f"{score.header.meter} lasts {score.header.bar_length}",
                file=sys.stderr,
            )
    cli_outputs.write_outputs(score, args)


def _render(args: argparse.Namespace) -> None:
    cli_outputs.check_writable(args.audio, "--audio")
    if READERS.get(args.midi.suffix.lower()) == "midi":
        data = read_midi_file(args.midi)  # played as it is: every track, channel and drum
    else:
        data = midi_bytes(_read(args.midi))
    samples = render_audio(
        data, soundfont=find_soundfont(args.soundfont), sample_rate=args.sample_rate
    )
    print(f"wrote {write_audio(samples, args.audio, args.sample_rate)}", file=sys.stderr)


def _evaluate(args: argparse.Namespace) -> None:
    print(evaluate_file(args.tune))


def _interpret(args: argparse.Namespace) -> None:
    request = interpret(args.words, language=args.language, backend=_backend(args))
    if args.json:
        dump = {"request": request.model_dump(), "explanation": request.explanation.model_dump()}
        print(json.dumps(dump, ensure_ascii=False, indent=2))
        return
    for field, value in request.model_dump().items():
        if value is not None:
            print(f"{field}: {' '.join(value) if isinstance(value, tuple) else value}")
    print(request.explanation)


def _mcp(args: argparse.Namespace) -> None:
    try:
        from tunesmith.app.mcp import serve  # noqa: PLC0415 - the mcp SDK loads only for this command
    except ImportError as error:
        raise DependencyError(
            f"the MCP server needs the mcp package ({error})",
            hint="pip install 'tunesmith[server]'",
        ) from None

    serve(args.out, _backend(args), max_bars=args.max_bars, concurrency=args.concurrency)


def _soundfonts(_: argparse.Namespace) -> None:
    """The soundfonts the search finds, the one renders use first; none usable: an error."""
    find_soundfont()  # a missing TUNESMITH_SOUNDFONT, or no soundfont at all, is an error
    for origin, path in soundfont_candidates():
        print(f"{path}  ({origin})")


def _rework(args: argparse.Namespace) -> None:
    """continue, infill, vary."""
    cli_outputs.check_outputs(args)
    names = ("notes", "key", "mode", "low", "high", "meter", "tempo", "instrument")
    options = _request_options(args, (*names, "style", "title", "seed"))
    options["part"] = int(args.part) if args.part and args.part.isdigit() else args.part
    if args.command != "continue" and args.bars is not None:
        raise RequestTypeError(
            f"{args.command} takes the bars to write as --at {args.bars}; --bars counts bars "
            "(compose, continue)"
        )
    if args.command == "infill" and args.at is None:
        raise RequestError("infill needs the bars to write again: --at 5-8")
    options["backend"] = _backend(args)
    if args.command == "continue":
        result = continuation.continue_score(args.file, args.bars, **options)
    elif args.command == "infill":
        result = continuation.infill(args.file, args.at, **options)
    else:
        keep = None if args.keep == "none" else args.keep
        result = continuation.vary(args.file, args.at, keep=keep, amount=args.amount, **options)
    print(result.text)
    report = result.report
    shown = report if args.report else f"{report.overview}\n{report.summary}"  # type: ignore[attr-defined]
    print(shown, file=sys.stderr)
    cli_outputs.write_outputs(result.score, args, seed=result.request.seed or 0)


def _harmonise(args: argparse.Namespace) -> None:
    cli_outputs.check_outputs(args)
    cli_outputs.write_outputs(cli_band.harmonise_command(args), args)


COMMANDS = {
    "compose": _compose,
    "harmonise": _harmonise,
    "show": _show,
    "render": _render,
    "evaluate": _evaluate,
    "soundfonts": _soundfonts,
    "batch": _batch,
    "interpret": _interpret,
    "mcp": _mcp,
    "continue": _rework,
    "infill": _rework,
    "vary": _rework,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except TunesmithError as error:
        print(f"tunesmith: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("tunesmith: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
