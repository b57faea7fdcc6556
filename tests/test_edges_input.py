"""Every edge holds (issue 20): bad files, bad arguments and bad answers give typed errors.

A malformed file is refused, before the work its size would cost, with a :class:`ReadError`
that says what is wrong and what to do (how fast: ``bench/refusals.py``); an argument of the
wrong type or out of range is a :class:`RequestError` naming it; an answer no parser can take
is retried like any other.
"""

from __future__ import annotations

import io
import struct
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import mido
import pytest

from scripted_server import ScriptedServer, answer
from tunesmith import (
    ComposeRequest,
    Composition,
    ExportError,
    OpenAIBackend,
    ReadError,
    RequestError,
    RequestTypeError,
    compose,
    compose_async,
    compose_many,
    interpret,
    read_score,
)
from tunesmith.app.cli import EXIT_ERROR, main
from tunesmith.checks.metrics import evaluate_file
from tunesmith.io.limits import MAX_SCORE_BARS, MAX_SCORE_NOTES
from tunesmith.io.write import write_score
from tunesmith.model.notation import parse

NOTES = ["A", "B", "C#", "F#", "G"]
GOOD = "A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. |"
REQUEST = ComposeRequest(notes=NOTES, meter="6/8", bars=2, low="A4", high="A5", seed=1)
KEY = "sk-test-secret-0123456789"
NESTED = "[" * 50_000 + "]" * 50_000
"""JSON nested far deeper than Python's parser recurses (and short enough for a 2-bar
answer: the issue's 100,000 deep is refused as longer than max_tokens can hold)."""


def backend(server: ScriptedServer, **options: object) -> OpenAIBackend:
    settings: dict[str, object] = {"timeout": 2.0, "deadline": 5.0, "grammar": "none"}
    settings.update(options)
    made = OpenAIBackend("scripted", base_url=server.base_url, api_key=KEY, **settings)  # type: ignore[arg-type]
    return server.closing(made)


def midi_file(*messages: mido.Message | mido.MetaMessage) -> bytes:
    """A one-track MIDI file (480 ticks a quarter note) of ``messages``."""
    midi = mido.MidiFile(ticks_per_beat=480)
    midi.tracks.append(mido.MidiTrack(messages))
    data = io.BytesIO()
    midi.save(file=data)
    return data.getvalue()


def one_note(*before: mido.MetaMessage, length: int = 480, channel: int = 0) -> bytes:
    """A middle C (or a kick on channel 10) of ``length`` ticks after ``before``."""
    key = 36 if channel == 9 else 60
    return midi_file(
        *before,
        mido.Message("note_on", channel=channel, note=key, velocity=64, time=0),
        mido.Message("note_off", channel=channel, note=key, time=length),
    )


def many_notes(count: int) -> bytes:
    """A type-0 file of ``count`` sixteenth-note middle Cs, written byte by byte.

    MThd, 6 bytes: format 0, one track, 480 (0x01e0) ticks a quarter note; then MTrk:
    ``00 90 3c 40`` (note on), then per note ``78 3c 00`` (120 ticks later, note off in
    running status) and ``00 3c 40`` (the next note on); ``00 ff 2f 00`` ends the track.
    """
    events = b"\x00\x90\x3c\x40" + b"\x78\x3c\x00\x00\x3c\x40" * (count - 1) + b"\x78\x3c\x00"
    track = events + b"\x00\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480)
    return header + b"MTrk" + struct.pack(">I", len(track)) + track


def musicxml(notes: str, part_list: str = '<score-part id="P1"><part-name/></score-part>') -> bytes:
    body = (
        f'<part id="P1"><measure number="1"><attributes><divisions>1</divisions></attributes>'
        f"{notes}</measure></part>"
        if notes
        else ""
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<score-partwise version="4.0">'
        f"<part-list>{part_list}</part-list>{body}</score-partwise>"
    ).encode()


LONG_NOTE = (
    "<note><pitch><step>C</step><octave>4</octave></pitch><duration>999999999</duration>"
    "<type>whole</type></note>"
)
TOO_LONG = f"it is longer than {MAX_SCORE_BARS:,} bars"
MALFORMED_FILES: list[tuple[str, Callable[[], bytes], str]] = [
    (
        "time-signature-0-1.mid",
        lambda: one_note(mido.MetaMessage("time_signature", numerator=0, denominator=1)),
        r"its time signature 0/1 at quarter note 0 is not a meter \(meter must be N/D with N "
        r"from 1 to 999.*; correct it in a MIDI editor",
    ),
    (
        "time-signature-255-1.mid",
        lambda: one_note(mido.MetaMessage("time_signature", numerator=255, denominator=1)),
        "its time signature 255/1 at quarter note 0 is not a meter",
    ),
    (
        "delta-0x0FFFFFFF.mid",
        lambda: one_note(length=0x0FFFFFFF),
        f"{TOO_LONG}, the most tunesmith reads; it lasts 559,241 quarter notes: a corrupt "
        "time signature, note length or MIDI delta time",
    ),
    ("note-C999999999.abc", lambda: b"X:1\nM:4/4\nL:1/8\nK:C\nC999999999|]\n", TOO_LONG),
    ("barred-C999999999.abc", lambda: b"X:1\nM:4/4\nL:1/8\nK:C\nC999999999|C8|]\n", TOO_LONG),
    ("duration-999999999.musicxml", lambda: musicxml(LONG_NOTE), TOO_LONG),
    (
        "too-many-notes.mid",
        lambda: many_notes(MAX_SCORE_NOTES + 1),
        f"it has {MAX_SCORE_NOTES + 1:,} notes; tunesmith reads scores of up to "
        f"{MAX_SCORE_NOTES:,}: cut the score into shorter files",
    ),
    (
        "tempo-0.mid",
        lambda: one_note(mido.MetaMessage("set_tempo", tempo=0)),
        "its tempo is 0 microseconds a quarter note; correct it in a MIDI editor",
    ),
    (
        "tempo-1.mid",
        lambda: one_note(mido.MetaMessage("set_tempo", tempo=1)),
        "its header cannot be read: tempo must give 3.6 to 60000 quarter notes a minute",
    ),
]


@pytest.mark.parametrize(
    ("name", "make", "message"), MALFORMED_FILES, ids=[name for name, _, _ in MALFORMED_FILES]
)
def test_a_malformed_file_is_a_read_error_saying_what_is_wrong(
    tmp_path: Path, name: str, make: Callable[[], bytes], message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(make())
    with pytest.raises(ReadError, match=message) as caught:
        read_score(path)
    assert str(caught.value).startswith(f"cannot read {path}: ")


def test_a_midi_metronome_click_that_is_no_note_length_leaves_the_meters_beat(
    tmp_path: Path,
) -> None:
    path = tmp_path / "click.mid"
    click = mido.MetaMessage("time_signature", numerator=6, denominator=8, clocks_per_click=5)
    path.write_bytes(one_note(click, length=480 * 3))
    assert read_score(path).header.beat == Fraction(3, 2)  # a dotted quarter, as 6/8 counts


def test_a_20000_note_midi_file_reads_in_seconds(tmp_path: Path) -> None:
    """Measured here: over 60 s before notes went to their bars in one pass; about 3 s now."""
    path = tmp_path / "long.mid"
    path.write_bytes(many_notes(20_000))
    started = time.perf_counter()
    score = read_score(path)
    assert time.perf_counter() - started < 15.0
    assert score.bar_count == 20_000 // 16
    assert len(score.melody.tune.notes) == 20_000


@pytest.mark.parametrize(
    ("command", "name", "make"),
    [
        ("evaluate", "meter.mid", MALFORMED_FILES[0][1]),
        ("show", "long.abc", MALFORMED_FILES[3][1]),
        ("harmonise", "delta.mid", MALFORMED_FILES[2][1]),
        ("evaluate", "delta.mid", MALFORMED_FILES[2][1]),
    ],
    ids=["evaluate-meter-0-1", "show-abc-C999999999", "harmonise-delta", "evaluate-delta"],
)
def test_the_commands_refuse_a_malformed_file_in_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    name: str,
    make: Callable[[], bytes],
) -> None:
    path = tmp_path / name
    path.write_bytes(make())
    assert main([command, str(path)]) == EXIT_ERROR
    error = capsys.readouterr().err
    assert error.startswith(f"tunesmith: error: cannot read {path}: ")
    assert error.count("\n") == 1


def test_a_notation_file_past_the_limit_is_a_read_error(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text("C4:w |\n" * (MAX_SCORE_BARS + 1))
    with pytest.raises(ReadError, match=TOO_LONG):
        read_score(path)


# -- bare tracebacks ------------------------------------------------------------------------


def test_a_musicxml_file_with_an_empty_part_list_is_a_read_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.musicxml"
    path.write_bytes(
        b'<?xml version="1.0"?>\n<score-partwise version="4.0"><part-list/></score-partwise>'
    )
    with pytest.raises(ReadError, match="the file has no parts; export it again with its parts"):
        read_score(path)


def test_evaluate_on_a_drums_only_file_says_it_needs_a_tune(tmp_path: Path) -> None:
    path = tmp_path / "drums.mid"
    path.write_bytes(one_note(channel=9))
    with pytest.raises(ReadError, match="it has only drum parts; evaluate measures a melody"):
        evaluate_file(path)


def test_rendering_a_midi_file_hours_long_is_refused_before_fluidsynth_plays_it(
    tmp_path: Path,
) -> None:
    from tunesmith.io.audio import find_soundfont, render_audio

    try:
        soundfont = find_soundfont()
    except ExportError:
        pytest.skip("no soundfont: apt-get install fluid-soundfont-gm")
    with pytest.raises(ExportError, match=r"lasts 4,660 minutes; tunesmith renders up to 15"):
        render_audio(one_note(length=0x0FFFFFFF), soundfont=soundfont)


# -- bad arguments --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "error", "message"),
    [
        ({"timeout": "x"}, RequestTypeError, r"timeout must be a number of seconds \(received 'x'"),
        ({"timeout": -1}, RequestError, r"timeout must be positive seconds \(received -1\)"),
        ({"timeout": float("nan")}, RequestError, "timeout must be positive seconds"),
        ({"candidates": 0}, RequestError, r"candidates must be at least 1 \(received 0\)"),
        ({"candidates": -1}, RequestError, r"candidates must be at least 1 \(received -1\)"),
    ],
    ids=["timeout-str", "timeout-negative", "timeout-nan", "candidates-0", "candidates-negative"],
)
def test_compose_refuses_a_bad_timeout_or_candidates_on_a_server_before_asking_it(
    setting: dict[str, object], error: type[Exception], message: str
) -> None:
    import asyncio

    with ScriptedServer(default=answer(GOOD)) as server:
        chosen = backend(server)
        with pytest.raises(error, match=message):
            compose(REQUEST, backend=chosen, **setting)  # type: ignore[arg-type]
        with pytest.raises(error, match=message):
            asyncio.run(compose_async(REQUEST, backend=chosen, **setting))  # type: ignore[arg-type]
    assert server.requests == []


@pytest.mark.parametrize("rework", ["continue_score", "infill", "vary"])
def test_continue_infill_and_vary_refuse_a_timeout_that_is_not_a_number(rework: str) -> None:
    import tunesmith

    with pytest.raises(RequestTypeError, match=r"timeout must be a number of seconds"):
        getattr(tunesmith, rework)(parse(GOOD), 2, timeout="x")


def test_compose_many_names_a_misspelt_option_and_the_one_meant() -> None:
    with pytest.raises(
        RequestTypeError,
        match=r"unknown option 'max_attemps' \(did you mean 'max_attempts'\?\): compose_many's "
        r"options are backend, concurrency, on_result, strict, max_attempts, temperature",
    ):
        compose_many([REQUEST], backend="openai", max_attemps=1)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://[::zz]/v1", "'::zz' does not appear to be an IPv4 or IPv6 address"),
        ("http://localhost:99999/v1", "Port out of range"),
    ],
    ids=["bad-ipv6", "bad-port"],
)
def test_an_openai_base_url_that_is_not_a_url_is_a_request_error(url: str, reason: str) -> None:
    with pytest.raises(RequestError, match=rf"base_url is not a URL \({reason}.*localhost:8080"):
        OpenAIBackend("m", base_url=url, api_key=KEY)


@pytest.fixture(scope="module")
def composition() -> Composition:
    with ScriptedServer(default=answer(GOOD)) as server:
        return compose(REQUEST, backend=backend(server))


@pytest.mark.parametrize("path", [None, 42], ids=["None", "int"])
def test_save_midi_to_something_that_is_not_a_path_is_a_request_type_error(
    composition: Composition, path: object
) -> None:
    with pytest.raises(RequestTypeError, match="path must be a file path, a str or pathlib"):
        composition.save_midi(path)  # type: ignore[arg-type]  # not a path, on purpose
    for score in (parse(GOOD), composition.score):
        with pytest.raises(RequestTypeError, match="path must be a file path, a str or pathlib"):
            write_score(score, path)  # type: ignore[arg-type]  # not a path, on purpose


# -- bad answers ----------------------------------------------------------------------------


def test_a_deeply_nested_json_body_is_retried_like_any_unreadable_answer() -> None:
    with ScriptedServer([("garbage", NESTED), answer(GOOD)]) as server:
        composition = compose(REQUEST, backend=backend(server))
    assert composition.text == GOOD
    assert len(server.requests) == 2


def test_a_deeply_nested_json_body_every_time_is_a_backend_error() -> None:
    from tunesmith import BackendError

    with (
        ScriptedServer(default=("garbage", NESTED)) as server,
        pytest.raises(BackendError, match="not JSON"),
    ):
        compose(REQUEST, backend=backend(server, max_attempts=2))


def test_a_deeply_nested_json_reading_of_words_falls_back_to_the_word_tables() -> None:
    with ScriptedServer(default=answer(NESTED)) as server:
        request = interpret("a jig in D", backend=backend(server, max_attempts=1), bars=8)
    assert (request.style, request.key) == ("jig", "D")
    assert "the model's answer is not a JSON object" in request.explanation.decisions[-1]
