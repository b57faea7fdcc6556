"""Renders the prompt templates in ``prompts/`` (shipped as package data) for a request.

Templates use :class:`string.Template`; a missing placeholder is an error, never an empty
string. The embedded model is a base model, so it gets a *document* to continue: a tune
book with a few real tunes in tunesmith notation and the header of the new one. Chat
models get the same task as system and user messages.
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass
from importlib import resources

from tunesmith.backends.base import Prompt
from tunesmith.request import ComposeRequest
from tunesmith.theory import Constraints

__all__ = ["Example", "load_examples", "render_feedback", "render_prompt"]

MAX_EXAMPLES = 2
_HEADER_RE = re.compile(r"^M:\s*(\S+)", re.MULTILINE)


@functools.cache
def load_template(name: str) -> string.Template:
    """The template ``prompts/{name}.txt``."""
    text = resources.files("tunesmith").joinpath("prompts", f"{name}.txt").read_text("utf-8")
    return string.Template(text)


@dataclass(frozen=True)
class Example:
    """A real tune in prompt form: header lines and the tune in tunesmith notation."""

    name: str
    meter: str
    text: str


@functools.cache
def load_examples() -> tuple[Example, ...]:
    """Every example tune in ``prompts/examples/``, sorted by file name."""
    folder = resources.files("tunesmith").joinpath("prompts", "examples")
    examples = []
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".txt"):
            text = entry.read_text("utf-8").strip()
            match = _HEADER_RE.search(text)
            examples.append(Example(entry.name, match[1] if match else "", text))
    return tuple(examples)


def _choose_examples(meter: str) -> list[Example]:
    """Examples in the requested meter first, then the others, at most MAX_EXAMPLES."""
    examples = sorted(load_examples(), key=lambda example: example.meter != meter)
    return examples[:MAX_EXAMPLES]


def _fields(
    request: ComposeRequest, constraints: Constraints, durations: list[str]
) -> dict[str, str]:
    bar_length = constraints.bar_length
    return {
        "title": request.title or f"A {request.style} tune",
        "meter": request.meter,
        "tempo": f"{request.tempo:g}",
        "style": request.style,
        "instrument": request.instrument,
        "notes": " ".join(map(str, constraints.pitch_classes)),
        "low": str(constraints.low),
        "high": str(constraints.high),
        "tonic": str(constraints.tonic),
        "bars": str(request.bars),
        "bar_length": f"{bar_length} quarter note{'s' if bar_length != 1 else ''}",
        "pitch_rule": constraints.description,
        "durations": " ".join(durations),
        "format_example": "A4:e B4:e C#5:q | D5:h |",
        "length_rule": _length_rule(request, constraints),
    }


def _length_rule(request: ComposeRequest, constraints: Constraints) -> str:
    from tunesmith.theory import written_sections  # noqa: PLC0415

    sections = written_sections(constraints.form)
    if len(sections) == len(constraints.form):
        return f"Write exactly {request.bars} bars."
    bars = constraints.section_bars
    return (
        f"The form is {constraints.form}: write each part once, {' then '.join(sections)}, "
        f"{bars} bars each ({bars * len(sections)} bars in all); they will be played "
        f"{constraints.form}. End every part but the last on a note of the dominant chord."
    )


def render_prompt(request: ComposeRequest, durations: list[str]) -> Prompt:
    """The prompt for ``request`` in document form (base models) and chat form."""
    constraints = request.constraints
    fields = _fields(request, constraints, durations)
    examples = _choose_examples(request.meter)
    # Examples keep their own keys: moved onto the requested pitches, the embedded model
    # copied half of their bars note for note (measured: 4 and 6 of 8 bars on two seeds).
    example_text = "".join(
        f"X: {number}\n{example.text}\n\n" for number, example in enumerate(examples, 1)
    )
    document = load_template("document").substitute(
        fields, examples=example_text, number=len(examples) + 1
    )
    messages = (
        {"role": "system", "content": load_template("system").substitute(fields)},
        {"role": "user", "content": load_template("task").substitute(fields)},
    )
    return Prompt(document=document, messages=messages)


def render_feedback(request: ComposeRequest, problems: list[str]) -> str:
    """A follow-up message listing what was wrong with the model's last answer."""
    listed = "\n".join(f"- {problem}" for problem in problems)
    return load_template("feedback").substitute(
        problems=listed, length_rule=_length_rule(request, request.constraints)
    )
