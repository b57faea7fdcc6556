"""Every edge holds (issue 20): requests are read strictly and refused whole.

A key never reaches a traceback; a pitch, a style, a number or a switch is what it says or a
:class:`RequestError` saying what is allowed; words with nothing recognisable are refused
like any other; a batch names every bad line before composing; an MCP call names every
argument it does not take and writes a bounded number of files.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

import pytest
from anyio.from_thread import start_blocking_portal

from mcp_client import Server, session
from scripted_server import ScriptedServer, answer
from tunesmith import (
    BackendError,
    ComposeRequest,
    NoteNameError,
    OpenAIBackend,
    RequestError,
    RequestTypeError,
    compose,
    interpret,
)
from tunesmith.app.cli import EXIT_ERROR, main
from tunesmith.app.mcp import MAX_FILES

NOTES = ["A", "B", "C#", "F#", "G"]
GOOD = "A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. |"
REQUEST = ComposeRequest(notes=NOTES, meter="6/8", bars=2, low="A4", high="A5", seed=1)
KEY = "sk-test-secret-0123456789"
URL_KEY = "url-secret-0123456789"


# 16. The API key, and a key in base_url, never reach a traceback


class EchoServer:
    """Answers every request with ``code`` and a body echoing its Authorization and path."""

    def __init__(self, code: int) -> None:
        echo = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                said = f"{self.headers.get('Authorization')} asked {self.path}"
                body = json.dumps({"error": {"message": said, "type": "echo", "code": None}})
                self.send_response(echo.code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

        self.code = code
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> EchoServer:
        Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.mark.parametrize("code", [401, 404, 500])
@pytest.mark.parametrize("where", ["api_key", "base_url"])
def test_no_key_appears_anywhere_in_the_traceback_of_an_answer_that_echoes_it(
    code: int, where: str
) -> None:
    with EchoServer(code) as server:
        url = server.base_url + (f"?api-key={URL_KEY}" if where == "base_url" else "")
        with (
            OpenAIBackend(
                "m", base_url=url, api_key=KEY, grammar="none", max_attempts=2, deadline=5.0
            ) as chosen,
            pytest.raises(BackendError) as caught,
        ):
            compose(REQUEST, backend=chosen)
    text = "".join(traceback.format_exception(caught.value))
    assert "asked /v1/chat/completions" in text  # the server's answer is still in the chain
    assert KEY not in text
    assert URL_KEY not in text


def test_a_base_url_with_a_query_sends_requests_to_the_path_and_keeps_the_query() -> None:
    with ScriptedServer(default=answer(GOOD)) as server:
        url = f"{server.base_url}?api-version=2024-06-01&api-key={URL_KEY}"
        chosen = server.closing(OpenAIBackend("m", base_url=url, grammar="none"))
        compose(REQUEST, backend=chosen)
    assert server.paths == [f"/v1/chat/completions?api-version=2024-06-01&api-key={URL_KEY}"]


# 18. Requests: a value is what it says, or an error saying what is allowed


@pytest.mark.parametrize("low", ["C-2", "E-4", "B-3"])
def test_a_minus_before_the_octave_is_a_minus_sign_and_no_octave_is_below_minus_1(
    low: str,
) -> None:
    with pytest.raises(NoteNameError, match=rf"low: unknown pitch '{low}'.*an octave -1 to 9"):
        ComposeRequest(low=low)


def test_c_minus_1_is_still_the_lowest_midi_pitch_and_a_flat_is_written_b() -> None:
    assert ComposeRequest(notes=["C"], low="C-1", high="C1").constraints.low.midi == 0
    assert str(ComposeRequest(low="Cb2").low) == "Cb2"


@pytest.mark.parametrize(
    ("style", "close"),
    [("dubstep", None), ("zzz", None), ("", None), ("reeel", "reel"), ("a slipjig", "slip jig")],
)
def test_an_unknown_style_is_a_request_error_listing_the_styles(
    style: str, close: str | None
) -> None:
    with pytest.raises(RequestError, match=r"style: unknown style: .*name one of .*jig.*reel") as e:
        ComposeRequest(style=style)
    assert f"received {style!r}" in str(e.value)
    if close is not None:
        assert f"did you mean {close!r}" in str(e.value)


@pytest.mark.parametrize(
    "style", ["folk", "Folk Jig", "a slip jig for dancers", "a slow air", "an enchanted air"]
)
def test_a_style_is_free_text_that_names_a_known_style(style: str) -> None:
    assert ComposeRequest(style=style).style == style


@pytest.mark.parametrize(
    ("style", "removed", "instead"),
    [
        ("blues", "blues", "notes='E G A Bb B D'"),
        ("a twelve-bar Blues", "blues", "'a tune on the E blues scale' in words"),
        ("a blues jig", "blues", "notes='E G A Bb B D'"),
        ("modal chant", "chant", "style='air', key='D', mode='dorian'"),
        ("Plainchant", "chant", "'a slow air in D dorian' in words"),
    ],
)
def test_a_removed_style_is_a_request_error_saying_why_and_what_to_ask_for_instead(
    style: str, removed: str, instead: str
) -> None:
    with pytest.raises(RequestError, match=rf"^style: the {removed} style was removed: ") as e:
        ComposeRequest(style=style)
    message = str(e.value)
    assert "tunesmith's embedded model knows only Irish and Scottish folk dance tunes" in message
    assert f"(received {style!r}); the styles are air, ballad, " in message
    styles = message.split("; the styles are ")[1].split(";", maxsplit=1)[0].split(", ")
    assert {"jig", "air", "folk"} <= set(styles)
    assert not {"blues", "chant"} & set(styles)
    assert instead in message


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"seed": "7"}, r"seed: input should be a valid integer \(received '7'\)"),
        ({"bars": "8"}, r"bars: input should be a valid integer \(received '8'\)"),
        ({"tempo": "120"}, r"tempo: input should be a valid number \(received '120'\)"),
        ({"band": "yes"}, r"band: input should be a valid boolean \(received 'yes'\)"),
        ({"band": 1}, r"band: input should be a valid boolean \(received 1\)"),
    ],
)
def test_text_for_a_number_or_a_switch_is_a_request_type_error_like_max_attempts(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(RequestTypeError, match=message):
        ComposeRequest(**options)
    with pytest.raises(RequestTypeError, match=message):
        compose(backend="openai", **options)
    with pytest.raises(RequestTypeError, match=r"max_attempts must be a whole number"):
        compose(REQUEST, backend="openai", max_attempts="3")  # type: ignore[arg-type]


def test_numbers_and_switches_still_arrive_as_text_where_text_is_all_there_is() -> None:
    strings = {"bars": "4", "tempo": "90.5", "seed": "7", "band": "true"}
    request = ComposeRequest.model_validate_strings(strings)
    assert (request.bars, request.tempo, request.seed, request.band) == (4, 90.5, 7, True)
    assert ComposeRequest.model_validate_json('{"bars": 4, "tempo": 90}').tempo == 90.0


@pytest.mark.parametrize(
    ("words", "message"),
    [
        ("a 0-bar reel", r"bars must be between 1 and 256 \(received 0\) \(read from '0-bar'\)"),
        ("a 100000-bar jig", r"between 1 and 256 \(received 100000\) \(read from '100000-bar'\)"),
        ("a jig at -5 bpm", r"between 10 and 400 beats per minute \(received -5\) .*'at -5 bpm'"),
        ("a seed 99999999999 jig", r"seed must be between 0 and 2147483647 \(received 9+\)"),
    ],
)
def test_a_number_in_words_past_its_limit_says_the_limit_and_the_number_as_written(
    words: str, message: str
) -> None:
    with pytest.raises(RequestError, match=message):
        interpret(words)


@pytest.mark.parametrize("words", ["🎵🎶🎻", "一首快乐的歌", "!!! ???", "🎻 一首"])
def test_words_with_nothing_recognisable_are_an_error_saying_what_is_understood(
    words: str,
) -> None:
    with pytest.raises(RequestError, match=r"no phrase of the request was understood .*English"):
        interpret(words)


def test_words_that_only_ask_for_a_tune_are_understood() -> None:
    assert interpret("compose a tune, please 🎵").constraints.description == "C major"


# 19. A batch names every bad line before composing anything


def batch(tmp_path: Path, lines: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The error ``tunesmith batch`` gives for ``lines``; the model is never asked."""
    (tmp_path / "requests.jsonl").write_text("".join(line + "\n" for line in lines))
    (tmp_path / "out").mkdir()
    with ScriptedServer(default=answer(GOOD)) as server:
        status = main(
            [
                *("batch", str(tmp_path / "requests.jsonl"), "--out", str(tmp_path / "out")),
                *("--backend", "openai", "--base-url", server.base_url, "--model", "m"),
            ]
        )
    assert status == EXIT_ERROR
    assert server.requests == []
    assert not list((tmp_path / "out").iterdir())
    return capsys.readouterr().err


def test_batch_names_every_bad_line_before_composing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = json.dumps({"notes": NOTES, "meter": "6/8", "bars": 2})
    bad = {
        2: '{"meter": "7/0"}',
        4: "{bars: 2}",
        5: "[1, 2]",
        7: '{"bars": "8"}',
        9: '{"style": "dubstep"}',
        12: '{"low": "C-2"}',
        13: '{"colour": "red"}',
    }
    lines = [bad.get(number, good) for number in range(1, 14)]
    err = batch(tmp_path, lines, capsys)
    path = tmp_path / "requests.jsonl"
    assert err.endswith(
        f"tunesmith: error: 7 of 13 lines of {path} are not requests (see above); "
        "nothing was composed\n"
    )
    assert [line.split(":")[0] for line in err.splitlines()[:-1]] == [f"line {n}" for n in bad]
    assert "line 13: unknown option 'colour'" in err


def test_batch_shows_twenty_bad_lines_and_counts_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = batch(tmp_path, ['{"bars": 0}'] * 5000, capsys).splitlines()
    assert [line.split(":")[0] for line in lines[:20]] == [f"line {n}" for n in range(1, 21)]
    assert lines[0] == "line 1: bars: bars must be between 1 and 256 (received 0)"
    assert lines[20] == "and 4,980 more bad lines"
    assert "5,000 of 5,000 lines" in lines[21]
    assert len(lines) == 22


# 18 and 20. MCP arguments are what the tool takes, with their types; files are bounded


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    out = tmp_path_factory.mktemp("out")
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(session(out)) as client,
    ):
        yield Server(portal, client, out)


TUNE = "A4:q B4:q C#5:h |"


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        ("compose", {"bars": "8"}, "bars must be an integer (received '8')"),
        ("compose", {"band": "yes"}, "band must be a boolean (received 'yes')"),
        ("validate", {"notation": TUNE, "bars": 2.5}, "bars must be an integer (received 2.5)"),
        ("render", {"notation": TUNE, "files": "a.mid"}, "files must be an array (received"),
        ("render", {"notation": 5, "files": ["a.mid"]}, "notation must be a string (received 5)"),
    ],
)
def test_an_mcp_argument_of_the_wrong_type_is_refused(
    server: Server, tool: str, arguments: dict[str, Any], message: str
) -> None:
    result = server.call(tool, **arguments)
    assert result.is_error
    assert f"RequestTypeError: {message}" in result.content[0].text


def test_an_unknown_mcp_argument_is_an_error_naming_it(server: Server) -> None:
    result = server.call("render", notation=TUNE, files=["a.mid"], colour="red", speed=2)
    assert result.is_error
    text = result.content[0].text
    assert "RequestError: render takes no argument 'colour', 'speed'" in text
    assert "notation, files, meter" in text  # what it does take
    assert not (server.out / "a.mid").exists()


def test_render_writes_at_most_max_files_files_in_one_call(server: Server) -> None:
    names = [f"many/{number}.mid" for number in range(MAX_FILES + 1)]
    result = server.call("render", notation=TUNE, files=names)
    assert result.is_error
    assert (
        f"RequestError: {MAX_FILES + 1} files asked for; one call writes at most {MAX_FILES}"
        in result.content[0].text
    )
    assert not (server.out / "many").exists()
    result = server.call("render", notation=TUNE, files=names[:MAX_FILES])
    assert not result.is_error, result.content
    assert len(list((server.out / "many").iterdir())) == MAX_FILES


def test_compose_refuses_too_many_files_before_composing(server: Server) -> None:
    names = [f"c{number}.mid" for number in range(MAX_FILES + 1)]
    result = server.call("compose", words="a 2-bar jig in D", files=names)
    assert result.is_error
    assert f"one call writes at most {MAX_FILES}" in result.content[0].text
