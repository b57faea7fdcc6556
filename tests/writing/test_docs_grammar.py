"""docs/grammar.md's examples run: the grammars it shows are the ones the code emits, and
its error example is the error parse raises."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest

import tunesmith.errors
from tunesmith import ComposeRequest
from tunesmith.model.notation import parse
from tunesmith.model.score import Pitch
from tunesmith.writing.script import grammar_for

DOC = (Path(__file__).parents[2] / "docs" / "grammar.md").read_text(encoding="utf-8")
GRAMMARS = re.findall(r"<!-- grammar: (.+?) -->\n```gbnf\n(.*?)```", DOC, re.DOTALL)
ERRORS = re.findall(r"^>>> (.+)\n(\w+): (.+)$", DOC, re.MULTILINE)
NAMESPACE = {
    "ComposeRequest": ComposeRequest,
    "Fraction": Fraction,
    "Pitch": Pitch,
    "grammar_for": grammar_for,
    "parse": parse,
}


def test_the_doc_has_examples() -> None:
    assert len(GRAMMARS) >= 2
    assert ERRORS


@pytest.mark.parametrize(("code", "shown"), GRAMMARS, ids=[code[:40] for code, _ in GRAMMARS])
def test_the_grammars_shown_are_what_the_code_emits(code: str, shown: str) -> None:
    emitted = eval(code, dict(NAMESPACE)).splitlines()
    parts = [part.strip().splitlines() for part in shown.split("...\n")]
    assert parts[0] == emitted[: len(parts[0])], "the start"
    assert parts[-1] == emitted[len(emitted) - len(parts[-1]) :], "the end"
    position = 0
    for part in parts:  # in order, each part a run of consecutive rules
        while emitted[position : position + len(part)] != part:
            position += 1
            assert position < len(emitted), f"not emitted: {part}"
        position += len(part)


@pytest.mark.parametrize(("code", "error", "message"), ERRORS)
def test_the_errors_shown_are_what_the_code_raises(code: str, error: str, message: str) -> None:
    with pytest.raises(getattr(tunesmith.errors, error)) as caught:
        eval(code, dict(NAMESPACE))
    assert str(caught.value) == message
