"""What bad input gets: each case raises its typed error, and docs/errors.md shows them all.

The table in ``docs/errors.md`` is rendered from :data:`CASES` with the messages the cases
really raise, so it cannot go stale: when a message changes, the doc test fails until the
table is written again with ``python tests/test_errors.py``.
"""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tunesmith import (
    ChordError,
    ComposeRequest,
    ConstraintError,
    ExportError,
    GrammarError,
    NoteNameError,
    OpenAIBackend,
    ReadError,
    RequestError,
    RequestTypeError,
    SoundfontError,
    TunesmithError,
    compose,
    compose_many,
    harmonise,
)
from tunesmith.app.cli import main
from tunesmith.io.audio import find_soundfont, write_audio
from tunesmith.io.files import read_text, write_atomically
from tunesmith.model.notation import parse

DOC = Path(__file__).parent.parent / "docs" / "errors.md"
START, END = "<!-- cases: start -->", "<!-- cases: end -->"


class CommandLineError(Exception):
    """What ``tunesmith ...`` printed when it exited with status 2."""


def tunesmith(*args: str) -> None:
    """Run the command line in this process; raise what it printed if it failed."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        try:
            status = main(list(args))
        except SystemExit as exit_:  # argparse's errors
            status = int(exit_.code or 0)
    if status:
        assert status == 2, stderr.getvalue()
        assert stderr.getvalue().count("\n") == 1, stderr.getvalue()
        raise CommandLineError(stderr.getvalue().strip())


@dataclass(frozen=True)
class Case:
    code: str
    """What the user writes: Python, or a command line starting with ``tunesmith``."""
    error: type[Exception]
    match: str

    def run(self) -> None:
        if self.code.startswith("tunesmith "):
            tunesmith(*shlex.split(self.code)[1:])
        else:
            eval(self.code, dict(NAMESPACE))


NAMESPACE = {
    "ComposeRequest": ComposeRequest,
    "OpenAIBackend": OpenAIBackend,
    "compose": compose,
    "compose_many": compose_many,
    "harmonise": harmonise,
    "find_soundfont": find_soundfont,
    "parse": parse,
    "read_text": read_text,
    "write_atomically": write_atomically,
    "write_audio": write_audio,
    "samples": np.zeros((10, 2), dtype=np.float32),
}

CASES = [
    Case("ComposeRequest(notes=42)", RequestTypeError, "notes must be note names"),
    Case('ComposeRequest(notes=["A", "H"])', NoteNameError, "unknown note name 'H'"),
    Case('ComposeRequest(meter="7/0")', RequestError, r"received '7/0'"),
    Case("ComposeRequest(bars=True)", RequestTypeError, "bars must be a whole number"),
    Case("ComposeRequest(bars=0)", RequestError, "bars must be between 1 and 256"),
    Case("ComposeRequest(seed=-1)", RequestError, "seed must be between 0 and"),
    Case('ComposeRequest(low="A9")', NoteNameError, "outside the pitches MIDI can hold"),
    Case('ComposeRequest(low="A5", high="A3")', ConstraintError, "inverted"),
    Case('ComposeRequest(notes=["C"], low="D4", high="B4")', ConstraintError, "contains none"),
    Case('ComposeRequest(key="D", mode="klingon")', RequestError, "unknown mode 'klingon'"),
    Case('ComposeRequest(instrument="kazooo")', RequestError, "unknown instrument"),
    Case('ComposeRequest(style="reeel")', RequestError, "unknown style"),
    Case('ComposeRequest(style="blues")', RequestError, "the blues style was removed"),
    Case("ComposeRequest(bar=8)", RequestError, "unknown option 'bar'"),
    Case("ComposeRequest.model_validate_json('{\"bars\": 0}')", RequestError, "bars must be"),
    Case(
        'ComposeRequest(key="D", chords="D H7")', ChordError, "bar 2 of the chords: unknown chord"
    ),
    Case('ComposeRequest(key="A", mode="minor", chords="i iv VIII")', ChordError, "Roman numeral"),
    Case('ComposeRequest(key="D", chords="D bVII D")', ChordError, "has the root C"),
    Case('ComposeRequest(key="D", bars=4, chords="D G A G D")', ChordError, "more than the tune"),
    Case('ComposeRequest(key="D", meter="6/8", chords="D G A | D")', ChordError, "has 3 chords"),
    Case('ComposeRequest(notes=["A", "B", "C#"], chords="A Fm")', ChordError, "has no note"),
    Case('ComposeRequest(key="D", chords="D A")', ChordError, "ends on its tonic D"),
    Case('ComposeRequest(parts=["melody", "tuba"])', RequestError, "unknown part 'tuba'"),
    Case('ComposeRequest(band=True, instruments={"bass": "kazooo"})', RequestError, "bass part"),
    Case('ComposeRequest(instruments={"bass": "cello"})', RequestError, "not asked for"),
    Case('harmonise("missing.mid")', ReadError, "cannot read missing.mid"),
    Case('compose(max_attempts="3")', RequestTypeError, "max_attempts must be a whole number"),
    Case("compose(temperature=5)", RequestError, "temperature must be between 0 and 2"),
    Case('compose(backend="gpt")', RequestError, "unknown backend 'gpt'"),
    Case("compose(ComposeRequest(), bars=4)", RequestError, "not both"),
    Case("compose_many([], concurrency=0)", RequestError, "concurrency must be at least 1"),
    Case('OpenAIBackend(timeout="5")', RequestTypeError, "timeout must be a number of seconds"),
    Case('OpenAIBackend(grammar="gbnf")', RequestError, "grammar must be one of"),
    Case("parse(None)", RequestTypeError, "parse takes the notation as a str"),
    Case('parse("C4:q D4:x")', GrammarError, "unknown duration 'x'"),
    Case('parse("C4:q G#9:q")', GrammarError, "outside the pitches MIDI can hold"),
    Case('read_text("latin-1.txt")', RequestError, "not UTF-8 text"),
    Case('write_atomically("/no/such/folder/tune.mid", b"")', ExportError, "does not exist"),
    Case('write_audio(samples, "tune.mp3", 44100)', ExportError, "audio files must end in"),
    Case('find_soundfont("/no/such.sf2")', SoundfontError, "does not exist"),
    Case("tunesmith compose --bars abc", CommandLineError, "invalid int value: 'abc'"),
    Case("tunesmith compose --backend bogus", CommandLineError, "invalid choice: 'bogus'"),
    Case("tunesmith compose -o tune.mid --audio tune.mp3", CommandLineError, "must end in"),
    Case("tunesmith batch requests.jsonl --out missing/", CommandLineError, "does not exist"),
    Case("tunesmith compose --parts melody,tuba", CommandLineError, "unknown part 'tuba'"),
    Case("tunesmith compose 'a modal chant'", CommandLineError, "the chant style was removed"),
    Case("tunesmith harmonise missing.mid -o band.mid", CommandLineError, "cannot read"),
]


@contextlib.contextmanager
def in_empty_folder() -> Iterator[None]:
    """Run in a temporary folder, so that messages name files, not machine paths.

    It holds one file: ``latin-1.txt``, a tune saved in Latin-1 rather than UTF-8.
    """
    before = Path.cwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        Path("latin-1.txt").write_bytes("A4:q B4:q | C#5:h | % Café".encode("latin-1"))
        try:
            yield
        finally:
            os.chdir(before)


def message_of(case: Case) -> str:
    with in_empty_folder(), pytest.raises(case.error, match=case.match) as caught:
        case.run()
    return str(caught.value)


def render_table() -> str:
    """The docs' table: each case, the error it raises and its message."""
    rows = ["| you write | you get | the message |", "| --- | --- | --- |"]
    for case in CASES:
        kind = "exit status 2" if case.error is CommandLineError else f"`{case.error.__name__}`"
        message = message_of(case).replace("|", "\\|")
        rows.append(f"| `{case.code}` | {kind} | {message} |")
    return "\n".join(rows)


@pytest.mark.parametrize("case", CASES, ids=[case.code for case in CASES])
def test_bad_input_gets_a_typed_error_that_says_what_to_do(case: Case) -> None:
    message = message_of(case)  # raises case.error, with a message matching case.match
    assert case.error is CommandLineError or issubclass(case.error, TunesmithError)
    assert message
    assert "\n" not in message


def test_the_docs_list_exactly_what_bad_input_gets() -> None:
    doc = DOC.read_text(encoding="utf-8")
    documented = doc.split(START, 1)[1].split(END, 1)[0].strip()
    assert documented == render_table(), "run `python tests/test_errors.py` to update the doc"


def write_doc() -> None:
    doc = DOC.read_text(encoding="utf-8")
    head, rest = doc.split(START, 1)
    tail = rest.split(END, 1)[1]
    DOC.write_text(f"{head}{START}\n{render_table()}\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    write_doc()
    sys.exit(0)
