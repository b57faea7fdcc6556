"""Prompts: templates render completely, examples are real tunes that match their headers."""

from __future__ import annotations

import re

import pytest

from tunesmith import ComposeRequest
from tunesmith.notation import parse_tune
from tunesmith.prompts import load_examples, render_feedback, render_prompt
from tunesmith.validate import validate

JIG = ComposeRequest(notes=["A", "B", "C#", "F#", "G"], meter="6/8", bars=8, style="folk jig")


def test_the_document_prompt_ends_with_the_header_of_the_new_tune() -> None:
    prompt = render_prompt(JIG, ["e", "q", "q."])
    assert "$" not in prompt.document
    assert prompt.document.endswith(
        "M: 6/8  Q: 112  Style: folk jig  Instrument: Flute\n"
        "Notes: A B C# F# G  Range: C4-C7  Ends on: A\n"
    )


def test_examples_in_the_requested_meter_come_first() -> None:
    document = render_prompt(JIG, ["e", "q", "q."]).document
    assert re.findall(r"^M: (\S+)", document, re.MULTILINE) == ["6/8", "6/8", "6/8"]


def test_the_chat_prompt_states_every_constraint() -> None:
    system, task = render_prompt(JIG, ["e", "q", "q."]).messages
    assert system["role"] == "system"
    assert "tunesmith notation" in system["content"]
    for fact in (
        "exactly 8 bars",
        "only the notes A B C# F# G",
        "between C4 and C7",
        "End on A",
        "e q q.",
        "3 quarter notes",
    ):
        assert fact in task["content"]


def test_feedback_lists_each_problem() -> None:
    feedback = render_feedback(JIG, ["bar 2: pitch D5", "bar 3: bar length 2"])
    assert "- bar 2: pitch D5\n- bar 3: bar length 2" in feedback
    assert "exactly 8 bars" in feedback


@pytest.mark.parametrize("example", load_examples(), ids=lambda example: example.name)
def test_every_example_is_a_real_tune_that_keeps_its_header(example: object) -> None:
    text = example.text  # type: ignore[attr-defined]
    fields = dict(re.findall(r"(\w[\w ]*?): (\S+(?: \S+)*?)(?=  |\n|$)", text.split("\n", 3)[2]))
    meter = re.search(r"^M: (\S+)", text, re.MULTILINE)[1]  # type: ignore[index]
    low, high = fields["Range"].split("-")
    request = ComposeRequest(notes=fields["Notes"].split(), meter=meter, bars=8, low=low, high=high)
    assert validate(parse_tune(text.split("\n", 3)[3]), request).ok
