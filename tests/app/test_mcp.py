"""The MCP server, exercised by the mcp SDK's own client over stdio.

One server runs for most tests (``tunesmith mcp --out <folder>`` as a subprocess); the
tests call its tools as an agent would and read what lands in the folder.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import mido
import pytest
from anyio.from_thread import start_blocking_portal
from mcp import ClientSession
from mcp.types import TextResourceContents

from mcp_client import Server, session
from scripted_server import ScriptedServer, answer, status
from tunesmith.app.cli_outputs import SUFFIXES as OUTPUT_SUFFIXES
from tunesmith.model.notation import parse, parse_tune

KEY = "sk-test-secret-0123456789"
BAD_TUNE = "A4:q B4:q C5:q | D5:h |"  # in A major: C is out, bar 2 is short, ends on D


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    out = tmp_path_factory.mktemp("out")
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(session(out, "--max-bars", "64")) as client,
    ):
        yield Server(portal, client, out)


def test_the_server_lists_its_tools_and_resources(server: Server) -> None:
    tools = server.portal.call(server.client.list_tools).tools
    assert {tool.name for tool in tools} == {"compose", "validate", "render"}
    compose = next(tool for tool in tools if tool.name == "compose")
    assert {"words", "notes", "key", "meter", "bars", "files"} <= compose.input_schema[
        "properties"
    ].keys()
    resources = server.portal.call(server.client.list_resources).resources
    assert {str(r.uri) for r in resources} == {
        "tunesmith://styles",
        "tunesmith://instruments",
        "tunesmith://notation",
    }
    templates = server.portal.call(server.client.list_resource_templates).resource_templates
    assert [t.uri_template for t in templates] == ["tunesmith://words/{language}"]


def test_the_resources_are_the_styles_instruments_notation_and_word_tables(server: Server) -> None:
    def read(uri: str) -> str:
        content = server.portal.call(server.client.read_resource, uri).contents[0]
        assert isinstance(content, TextResourceContents)
        return content.text

    styles = json.loads(read("tunesmith://styles"))
    assert (styles["jig"]["meter"], styles["jig"]["meters"]) == ("6/8", ["6/8"])
    assert not {"blues", "chant"} & styles.keys()  # removed: see docs/styles.md
    instruments = json.loads(read("tunesmith://instruments"))
    assert instruments[78] == {"program": 78, "name": "Whistle", "range": ["D5", "B6"]}
    assert read("tunesmith://notation").startswith("# tunesmith notation")
    assert 'code = "uk"' in read("tunesmith://words/uk")


def test_validate_takes_a_composed_tunes_pickup_as_compose_writes_it(server: Server) -> None:
    from tunesmith import compose

    text = compose(style="jig", key="D", seed=2).text  # opens with its real tune's "A|"
    report = server.call("validate", notation=text, key="D", meter="6/8").structured_content
    assert report["ok"] is True
    assert report["request"]["bars"] == 32  # the pickup is not one of the bars
    assert parse_tune(text).bars[0].duration < 3  # and it is there


def test_validate_returns_the_violations_of_a_bad_tune_as_data(server: Server) -> None:
    result = server.call("validate", notation=BAD_TUNE, words="a tune in A major")
    assert not result.is_error
    report = result.structured_content
    assert report["ok"] is False
    assert [(v["kind"], v["bar"], v["found"]) for v in report["violations"]] == [
        ("pitch", 1, "C5"),
        ("bar_length", 1, "3 quarter notes"),
        ("bar_length", 2, "2 quarter notes"),
        ("final", 2, "D5"),
    ]
    assert report["request"]["bars"] == 2  # the tune's own length: the words named none


def test_validate_says_where_a_text_stops_being_notation(server: Server) -> None:
    report = server.call("validate", notation="A4:q B4:x |").structured_content
    assert report["ok"] is False
    assert report["grammar_error"]["line"] == 1
    assert report["grammar_error"]["column"] == 6
    assert report["grammar_error"]["token"] == "B4:x"


def test_render_writes_midi_and_text_into_the_output_folder(server: Server) -> None:
    tune = "A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. |"
    result = server.call(
        "render", notation=tune, files=["set/jig.mid", "jig.txt"], meter="6/8", instrument="flute"
    )
    assert result.structured_content == {"files": ["set/jig.mid", "jig.txt"]}
    written = parse((server.out / "jig.txt").read_text())  # the whole score: header and part
    assert written.melody.tune == parse_tune(tune)
    assert written.header.meter == "6/8"
    midi = mido.MidiFile(server.out / "set" / "jig.mid")
    played = [m.note for track in midi.tracks for m in track if m.type == "note_on" and m.velocity]
    assert played == [69, 71, 73, 78, 79, 81]
    assert any(m.type == "program_change" and m.program == 73 for m in midi.tracks[1])


def test_render_writes_every_format_the_command_line_writes(server: Server) -> None:
    files = [f"jig{suffix}" for suffix in OUTPUT_SUFFIXES]
    result = server.call("render", notation="A4:q B4:q C#5:h |", files=files, meter="4/4")
    assert result.structured_content == {"files": files}
    assert zipfile.is_zipfile(server.out / "jig.mxl")  # compressed MusicXML
    assert all((server.out / name).stat().st_size > 0 for name in files)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../escape.mid", "climbs out of the output folder"),
        ("set/../../escape.mid", "climbs out of the output folder"),
        ("/tmp/escape.mid", "is an absolute path"),
        ("C:\\escape.mid", "is an absolute path"),
        ("~/escape.mid", "is an absolute path"),
        ("outside/escape.mid", "leads out of the output folder through a symbolic link"),
        ("escape.exe", "the suffix picks the format"),
    ],
)
def test_a_path_outside_the_output_folder_is_refused(
    server: Server, name: str, reason: str
) -> None:
    outside = server.out.parent / "outside"
    outside.mkdir(exist_ok=True)
    link = server.out / "outside"
    if not link.exists():
        link.symlink_to(outside, target_is_directory=True)
    result = server.call("render", notation="A4:q B4:q C#5:h |", files=["kept.txt", name])
    assert result.is_error
    message = result.content[0].text
    assert "RequestError:" in message
    assert repr(name) in message
    assert reason in message
    assert not list(outside.iterdir())
    assert not (server.out / "kept.txt").exists()  # every name is checked before any write
    assert not (server.out.parent / "escape.mid").exists()


def test_errors_are_tool_errors_carrying_tunesmiths_message(server: Server) -> None:
    result = server.call("compose", words="a waltz in 6/8")
    assert result.is_error
    assert "ConstraintError: 'waltz' is in 3/4, but 'in 6/8' asks for 6/8" in result.content[0].text


@pytest.mark.parametrize(
    ("arguments", "removed"),
    [({"style": "blues"}, "blues"), ({"words": "a modal chant in D"}, "chant")],
)
def test_a_removed_style_is_a_tool_error_saying_why(
    server: Server, arguments: dict[str, str], removed: str
) -> None:
    result = server.call("compose", **arguments)
    assert result.is_error
    message = result.content[0].text
    assert f"RequestError: style: the {removed} style was removed: " in message
    assert "knows only Irish and Scottish folk dance tunes" in message


def test_bars_are_bounded_before_anything_is_composed(server: Server) -> None:
    result = server.call("compose", words="a 128-bar reel in D")
    assert result.is_error
    assert "bars must be at most 64 on this server (received 128)" in result.content[0].text


@pytest.mark.model
def test_compose_from_words_keeps_the_constraints_and_writes_the_file(server: Server) -> None:
    result = server.call(
        "compose", words="a jig in D for tin whistle, 2 bars", seed=7, files=["jig.mid"]
    )
    assert not result.is_error, result.content
    tune = result.structured_content
    assert tune["files"] == ["jig.mid"]
    assert tune["summary"].startswith("2 bars of 6/8 on local")
    assert tune["request"]["key"] == "D"
    assert {p["words"] for p in tune["explanation"]["phrases"]} == {
        "jig",
        "in D",
        "tin whistle",
        "2 bars",
    }
    midi = mido.MidiFile(server.out / "jig.mid")
    played = [m.note for track in midi.tracks for m in track if m.type == "note_on" and m.velocity]
    assert {note % 12 for note in played} <= {2, 4, 6, 7, 9, 11, 1}  # D major
    assert played[-1] % 12 == 2


# A server on an OpenAI-compatible backend: the key stays secret, composing is bounded.

GOOD = "A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. |"
FIELDS = {
    "notes": ["A", "B", "C#", "F#", "G"],
    "meter": "6/8",
    "bars": 2,
    "low": "A4",
    "high": "A5",
}


def run_against(
    scripted: ScriptedServer, out: Path, log: Path, calls: int, *options: str
) -> list[Any]:
    """Call compose ``calls`` times at once on a server whose backend is ``scripted``."""
    results: list[Any] = []

    async def scenario() -> None:
        backend = ["--backend", "openai", "--base-url", scripted.base_url, "--model", "scripted"]
        env = {"OPENAI_API_KEY": KEY}
        with log.open("w") as errlog:
            async with (
                session(out, *backend, *options, env=env, errlog=errlog) as client,
                anyio.create_task_group() as group,
            ):
                for _ in range(calls):
                    group.start_soon(_collect, client, results)

    anyio.run(scenario)
    return results


async def _collect(client: ClientSession, results: list[Any]) -> None:
    results.append(await client.call_tool("compose", FIELDS))


def test_the_api_key_never_reaches_a_result_or_the_log(tmp_path: Path) -> None:
    with ScriptedServer(default=status(401, f"bad key {KEY}")) as scripted:
        [result] = run_against(scripted, tmp_path, tmp_path / "server.log", 1)
    assert result.is_error
    assert "refused the API key (HTTP 401)" in result.content[0].text
    assert KEY not in result.content[0].text
    log = (tmp_path / "server.log").read_text()
    assert "refused the API key" in log  # the failure is logged, the key is not
    assert KEY not in log


def test_at_most_concurrency_tunes_are_composed_at_once(tmp_path: Path) -> None:
    with ScriptedServer(default=answer(GOOD), delay=0.3) as scripted:
        results = run_against(scripted, tmp_path, tmp_path / "server.log", 5, "--concurrency", "2")
    assert [result.structured_content["notation"] for result in results] == [GOOD] * 5
    assert 1 <= scripted.most_in_flight <= 2


def test_the_client_configurations_in_docs_mcp_md_start_the_server() -> None:
    import re

    text = (Path(__file__).parents[2] / "docs" / "mcp.md").read_text("utf-8")
    configurations = [
        json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.DOTALL)
    ]
    assert len(configurations) == 3
    for configuration in configurations:
        [entry] = (configuration.get("mcpServers") or configuration["servers"]).values()
        assert (entry["command"], entry["args"][:2]) == ("tunesmith", ["mcp", "--out"])
    [example] = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    compile(example, "docs/mcp.md", "exec")
