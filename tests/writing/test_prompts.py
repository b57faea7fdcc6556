"""Prompts: the tune book the embedded model continues, and the task chat models get."""

from __future__ import annotations

import pytest

from tunesmith import ComposeRequest
from tunesmith.music.rhythm import meter_of
from tunesmith.writing.prompts import (
    Example,
    load_examples,
    render_feedback,
    render_prompt,
    render_tunebook,
)
from tunesmith.writing.script import Writing

JIG = ComposeRequest(notes=["A", "B", "C#", "F#", "G"], style="folk jig", bars=16)


def test_the_tune_book_ends_with_the_abc_header_of_the_new_tune() -> None:
    prefix, suffix, examples = render_tunebook(Writing.of(JIG))
    assert suffix == "X:4\nT:Jig on A B C# F# G\nR:jig\nM:6/8\nL:1/8\nK:Amix\n"
    assert len(examples) == 3
    assert prefix.startswith("X:1\n")
    assert prefix.count("\nR:jig\n") == 3  # jigs in the meter asked for, in their own keys


def test_the_prefix_is_the_same_for_every_request_in_a_meter_and_rhythm() -> None:
    other = ComposeRequest(key="G", style="jig", bars=32, title="The Kesh")
    first, second = render_tunebook(Writing.of(JIG))[0], render_tunebook(Writing.of(other))[0]
    assert first == second  # so the decoding loop evaluates it once


def test_a_title_cannot_inject_a_header_line() -> None:
    request = ComposeRequest(key="D", title="Ōdori\nK:C#\nX:9")
    suffix = render_tunebook(Writing.of(request))[1]
    assert "T:Ōdori K:C# X:9\n" in suffix
    assert suffix.count("\nK:") == 1


def test_the_chat_prompt_states_every_constraint() -> None:
    request = ComposeRequest(notes=["A", "B", "C#", "F#", "G"], meter="6/8", bars=8, style="jig")
    system, task = render_prompt(Writing.of(request, "notation")).messages
    assert system["role"] == "system"
    assert "tunesmith notation" in system["content"]
    for fact in (
        "exactly 8 bars",
        "only the notes A B C# F# G",
        "between D4 and D6",
        "End on A",
        "e e e or q e",  # the cells of 5% of real jigs' beats or more
        "3 quarter notes",
    ):
        assert fact in task["content"]


def test_a_tune_in_parts_is_written_once_per_part() -> None:
    _, task = render_prompt(Writing.of(JIG, "notation")).messages
    assert "2 parts (A then B) of 8 bars each: write each part once, 16 bars" in task["content"]


def test_a_tune_that_opens_with_a_pickup_is_asked_for_it_and_its_bars_apart() -> None:
    writing = Writing.of(JIG, "notation")
    assert writing.plan.pickup  # the first real jig drawn (no seed) opens with "AB|"
    _, task = render_prompt(writing).messages
    assert "write each part once, 16 bars in all" in task["content"]
    assert "Open with a pickup of s s before the first bar line" in task["content"]


def test_feedback_lists_each_problem() -> None:
    writing = Writing.of(ComposeRequest(meter="6/8", bars=8), "notation")
    feedback = render_feedback(writing, ["bar 2: pitch D5", "bar 3: bar length 2"])
    assert "- bar 2: pitch D5\n- bar 3: bar length 2" in feedback
    assert "exactly 8 bars" in feedback


@pytest.mark.parametrize("example", load_examples(), ids=lambda example: example.name)
def test_every_example_is_sixteen_whole_bars_of_its_meter(example: Example) -> None:
    bars = example.tune.bars
    assert len(bars) == 16
    assert {bar.duration for bar in bars} == {meter_of(example.meter).bar_length}
    assert example.text(1).startswith(f"X:1\nT:{example.title}\nR:")
