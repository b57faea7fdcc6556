"""``tunesmith mcp``: a Model Context Protocol server on stdio, for language-model agents.

Tools:

``compose``
    a tune from words and/or a request's fields; every constraint checked and repaired;
``validate``
    a tune in tunesmith notation against constraints: the violations, as data;
``render``
    a tune in tunesmith notation to MIDI, audio or sheet music files.

Resources: ``tunesmith://styles``, ``tunesmith://instruments``, ``tunesmith://notation``
and the word tables ``tunesmith://words/{language}``.

Safety: files are written only inside the output folder given at start (names are
relative; ``..``, absolute paths and symbolic links that lead out are refused); bars, the
files one call writes and the number of tunes composed at once are bounded; an argument a
tool does not take, or of another JSON type than its schema says, is refused; the model's
answers are parsed as notation or JSON, never executed; the API key never reaches a log or
a result (the OpenAI backend redacts it). Errors are MCP tool errors carrying tunesmith's
message. See ``docs/mcp.md``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError

from tunesmith.app.mcp_safety import MAX_FILES, OutputFolder, check_arguments
from tunesmith.backends.base import Backend
from tunesmith.checks.validate import validate as validate_tune
from tunesmith.errors import GrammarError, RequestError, TunesmithError
from tunesmith.interpreting.interpret import interpret
from tunesmith.interpreting.interpretation import Interpretation
from tunesmith.interpreting.phrases import languages, meanings
from tunesmith.io.write import write_score
from tunesmith.model.notation import parse_tune
from tunesmith.model.score import Score, Tune
from tunesmith.pipeline.compose import compose_async
from tunesmith.pipeline.composition import score_for
from tunesmith.requests.presets import gm_instruments, instrument_ranges, style_presets
from tunesmith.requests.request import ComposeRequest

__all__ = ["MAX_FILES", "MAX_NOTATION", "build_server", "serve"]

MAX_NOTATION = 100_000
"""The longest tune text the tools read, in characters."""
INSTRUCTIONS = """\
tunesmith composes melodies under exact constraints (notes or key and mode, meter, bars,
tempo, range, instrument, style), checks every constraint and repairs what the model broke.
compose takes words ("a slow air in E dorian for fiddle, 16 bars") and/or fields; validate
checks a tune in tunesmith notation (resource tunesmith://notation); render writes MIDI,
audio or sheet music. Files go into the server's output folder; give names such as
"jig.mid" or "set/jig.wav"."""


class _Server(MCPServer):
    """The SDK's server, with every call's arguments checked by :func:`check_arguments`."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        """Check the arguments, then call the tool as the SDK does."""
        tool = next((tool for tool in await self.list_tools() if tool.name == name), None)
        if tool is not None:
            try:
                check_arguments(name, arguments, tool.input_schema)
            except RequestError as error:
                raise ToolError(f"{type(error).__name__}: {error}") from None
        return await super().call_tool(name, arguments, context)


def _fields(**given: Any) -> dict[str, Any]:
    return {name: value for name, value in given.items() if value is not None}


def _clean_pickup(tune: Tune, request: ComposeRequest) -> bool:
    """Whether a tune given without a bar count opens with a pickup: a short first bar before
    bars that are all whole (as ``compose`` writes one); else a short first bar is a bar.
    """  # noqa: D205
    length = request.constraints.bar_length
    return tune.has_pickup(length) and all(bar.duration == length for bar in tune.bars[1:])


def _tune(notation: str) -> Tune:
    if len(notation) > MAX_NOTATION:
        raise RequestError(
            f"the tune is {len(notation):,} characters; the tools read at most {MAX_NOTATION:,}"
        )
    return parse_tune(notation)


def build_server(  # noqa: PLR0915 - the tools are closures over the server's settings
    out: str | Path, backend: Backend, *, max_bars: int = 64, concurrency: int = 2
) -> MCPServer:
    """The MCP server: tools, resources and their bounds (see the module docstring)."""
    if concurrency < 1 or max_bars < 1:
        raise RequestError(
            f"concurrency and max_bars must be at least 1 (received {concurrency}, {max_bars})"
        )
    folder = OutputFolder(out)
    slots = asyncio.Semaphore(concurrency)
    server: MCPServer = _Server("tunesmith", instructions=INSTRUCTIONS)

    def write(music: Tune | Score, request: ComposeRequest, names: list[str]) -> list[str]:
        """Write a composition's score, or a tune as the request's one-part score."""
        score = music if isinstance(music, Score) else score_for(request, music)
        paths = folder.paths(names)  # every name checked before any write
        return [folder.relative(write_score(score, path)) for path in paths]

    def fail(error: TunesmithError) -> ToolError:
        return ToolError(f"{type(error).__name__}: {error}")

    @server.tool()
    async def compose(
        *,
        words: str | None = None,
        notes: list[str] | None = None,
        key: str | None = None,
        mode: str | None = None,
        meter: str | None = None,
        bars: int | None = None,
        tempo: float | None = None,
        low: str | None = None,
        high: str | None = None,
        instrument: str | None = None,
        style: str | None = None,
        title: str | None = None,
        seed: int | None = None,
        chords: str | None = None,
        band: bool | None = None,
        files: list[str] | None = None,
    ) -> dict[str, Any]:
        """Compose a melody that keeps every constraint, from words and/or fields.

        chords: a progression the melody fits ("D G | D A", "i iv V i", or "auto" for the
        model's own); band: chords, bass and drums behind the melody, each its own track.

        words: the tune in English or Ukrainian, e.g. "a slow air in E dorian for fiddle,
        16 bars"; fields given as well win over the words. files: names to write in the
        output folder; the suffix picks the format (.mid, .wav, .musicxml, .abc, .txt...).
        Returns the tune in tunesmith notation, the report's summary, the request, how
        the words were read, and the files written.
        """
        fields = _fields(
            notes=notes,
            key=key,
            mode=mode,
            meter=meter,
            bars=bars,
            tempo=tempo,
            low=low,
            high=high,
            instrument=instrument,
            style=style,
            title=title,
            seed=seed,
            chords=chords,
            band=band,
        )
        try:
            request = await asyncio.to_thread(
                lambda: (
                    interpret(words, backend=backend, **fields)
                    if words
                    else ComposeRequest(**fields)
                )
            )
            if request.bars > max_bars:
                raise RequestError(
                    f"bars must be at most {max_bars} on this server (received {request.bars})"
                )
            folder.paths(files or [])  # refuse a bad name before composing
            async with slots:
                composition = await compose_async(request, backend=backend)
            written = await asyncio.to_thread(write, composition.score, request, files or [])
        except TunesmithError as error:
            raise fail(error) from None
        explanation = request.explanation if isinstance(request, Interpretation) else None
        return {
            "notation": composition.text,
            "summary": composition.report.summary,
            "request": request.model_dump(mode="json"),
            "explanation": None if explanation is None else explanation.model_dump(mode="json"),
            "files": written,
        }

    @server.tool()
    async def validate(
        *,
        notation: str,
        words: str | None = None,
        notes: list[str] | None = None,
        key: str | None = None,
        mode: str | None = None,
        meter: str | None = None,
        bars: int | None = None,
        low: str | None = None,
        high: str | None = None,
        instrument: str | None = None,
        style: str | None = None,
    ) -> dict[str, Any]:
        """Check a tune in tunesmith notation against constraints given as words or fields.

        Returns ok, and each violation (kind, bar, beat, found, expected), or where the
        text stops being tunesmith notation. bars defaults to the tune's own.
        """
        fields = _fields(
            notes=notes,
            key=key,
            mode=mode,
            meter=meter,
            bars=bars,
            low=low,
            high=high,
            instrument=instrument,
            style=style,
        )
        try:
            tune = _tune(notation)
        except GrammarError as error:
            where = {"line": error.line, "column": error.column, "token": error.token}
            return {"ok": False, "grammar_error": {**where, "message": str(error)}}
        except TunesmithError as error:
            raise fail(error) from None

        def check() -> dict[str, Any]:
            request = interpret(words, **fields) if words else ComposeRequest(**fields)
            said = isinstance(request, Interpretation) and any(
                "bars" in phrase.sets for phrase in request.explanation.phrases
            )
            if bars is None and not said:  # the tune's own bars, a pickup not counted
                fields["bars"] = len(tune.bars) - _clean_pickup(tune, request)
                request = interpret(words, **fields) if words else ComposeRequest(**fields)
            report = validate_tune(tune, request)
            return {
                "ok": report.ok,
                "violations": [v.model_dump(mode="json") for v in report.violations],
                "request": request.model_dump(mode="json"),
            }

        try:
            return await asyncio.to_thread(check)
        except TunesmithError as error:
            raise fail(error) from None

    @server.tool()
    async def render(
        *,
        notation: str,
        files: list[str],
        meter: str | None = None,
        tempo: float | None = None,
        instrument: str | None = None,
        key: str | None = None,
        mode: str | None = None,
        title: str | None = None,
    ) -> dict[str, Any]:
        """Write a tune in tunesmith notation to files in the output folder.

        The suffix of each name picks the format: .mid/.midi, .wav/.flac/.ogg (FluidSynth),
        .musicxml/.xml/.mxl, .abc, .svg, .txt. Returns the files written.
        """
        fields = _fields(
            meter=meter, tempo=tempo, instrument=instrument, key=key, mode=mode, title=title
        )
        try:
            tune = _tune(notation)
            request = ComposeRequest(bars=len(tune.bars), **fields)
            if _clean_pickup(tune, request):  # not counted among the bars
                request = ComposeRequest(bars=len(tune.bars) - 1, **fields)
            return {"files": await asyncio.to_thread(write, tune, request, files)}
        except TunesmithError as error:
            raise fail(error) from None

    @server.resource("tunesmith://styles", mime_type="application/json")
    def styles() -> str:
        """The style presets: meter, tempo, bars, instrument, form, and the meters they allow."""
        allowed = meanings()["styles"]
        found = {
            name: {**preset, "meters": allowed.get(name, {}).get("meters")}
            for name, preset in style_presets().items()
        }
        return json.dumps(found, indent=2)

    @server.resource("tunesmith://instruments", mime_type="application/json")
    def instruments() -> str:
        """The General MIDI instruments by program, with playable ranges where known."""
        ranges = instrument_ranges()
        listing = [
            {"program": program, "name": name, "range": ranges.get(name)}
            for program, name in enumerate(gm_instruments())
        ]
        return json.dumps(listing, indent=2)

    @server.resource("tunesmith://notation", mime_type="text/markdown")
    def notation() -> str:
        """The text form of a tune (tunesmith notation) that validate and render read."""
        return resources.files("tunesmith").joinpath("notation.md").read_text("utf-8")

    @server.resource("tunesmith://words/{language}", mime_type="application/toml")
    def words(language: str) -> str:
        """The phrases compose understands in one language (en, uk), as a TOML table."""
        if language not in languages():
            raise ResourceNotFoundError(f"no word table {language!r}: use {', '.join(languages())}")
        return resources.files("tunesmith").joinpath("words", f"{language}.toml").read_text("utf-8")

    return server


def serve(out: str | Path, backend: Backend, **settings: int) -> None:
    """Run the server on stdio until the client closes it.

    The log goes to stderr one record a line (the SDK's default, rich's console, wraps a
    record over several lines at the terminal's width, so a grep for a message misses it).
    """
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    build_server(out, backend, **settings).run("stdio")
