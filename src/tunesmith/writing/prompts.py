"""Renders the prompts in ``prompts/`` (shipped as package data) for a :class:`Writing`.

Templates use :class:`string.Template`; a missing placeholder is an error, never an empty
string. The embedded model is a base model, so it gets a *document* to continue: a tune
book of real folk tunes from music21's corpus (``prompts/examples/*.abc``, in the meter
asked for) and the header of the new tune; the prefix before that header is the same for
every request in a meter, so the decoding loop evaluates it once. Chat models get the task
as system and user messages.
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass
from importlib import resources

from tunesmith.backends.base import Prompt
from tunesmith.io.abc import key_field
from tunesmith.model.meter import meter_of
from tunesmith.model.score import Tune, duration_code
from tunesmith.music.progression import harmony_rule
from tunesmith.writing.script import Writing
from tunesmith.writing.spelling import AbcSpelling

__all__ = ["Example", "load_examples", "render_feedback", "render_prompt", "tune_title"]

MAX_EXAMPLES = 3
_FIELD_RE = re.compile(r"^([A-Z]):\s*(.*)$")
_KEY_RE = re.compile(r"^([A-G][b#]?)(m|dor|mix|lyd|phr|loc)?$")
_MODES = {"": "major", "m": "minor", "dor": "dorian", "mix": "mixolydian", "lyd": "lydian"}
_MODES |= {"phr": "phrygian", "loc": "locrian"}


@functools.cache
def load_template(name: str) -> string.Template:
    """The template ``prompts/{name}.txt``."""
    text = resources.files("tunesmith").joinpath("prompts", f"{name}.txt").read_text("utf-8")
    return string.Template(text)


@dataclass(frozen=True)
class Example:
    """A real tune for the prompt: its ABC header fields and its bars."""

    name: str
    title: str
    rhythm: str
    meter: str
    key: str
    """ABC's ``K:`` value, e.g. ``"G"`` or ``"Ador"``."""
    body: str
    """The tune in tunesmith's ABC dialect."""

    @property
    def tune(self) -> Tune:
        """The example's notes."""
        return Tune(tuple(self.spelling.read(self.body)))

    @property
    def spelling(self) -> AbcSpelling:
        """How the example is spelled: its own key signature, accidentals written out."""
        from music21 import key  # noqa: PLC0415 - music21 takes a second to import

        match = _KEY_RE.match(self.key)
        if match is None:
            raise ValueError(f"example {self.name}: K:{self.key} is not a key tunesmith reads")
        tonic = match[1].replace("b", "-") if len(match[1]) > 1 else match[1]
        sharps = key.Key(tonic, _MODES[match[2] or ""]).sharps
        return AbcSpelling(meter_of(self.meter), sharps, frozenset())

    def text(self, number: int) -> str:
        """The example as an ABC tune numbered ``number``."""
        return (
            f"X:{number}\nT:{self.title}\nR:{self.rhythm}\nM:{self.meter}\nL:1/8\n"
            f"K:{self.key}\n{self.body}\n"
        )


@functools.cache
def load_examples() -> tuple[Example, ...]:
    """Every example tune in ``prompts/examples/``, sorted by file name."""
    folder = resources.files("tunesmith").joinpath("prompts", "examples")
    examples = []
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".abc"):
            continue
        header: dict[str, str] = {}
        body: list[str] = []
        for line in entry.read_text("utf-8").splitlines():
            match = _FIELD_RE.match(line)
            if match and not body:
                header[match[1]] = match[2].strip()
            elif line.strip():
                body.append(line)
        examples.append(
            Example(
                name=entry.name,
                title=header["T"],
                rhythm=header.get("R", ""),
                meter=header["M"],
                key=header["K"],
                body="\n".join(body),
            )
        )
    return tuple(examples)


def choose_examples(meter: str, rhythm: str) -> list[Example]:
    """Examples in the meter and rhythm asked for first, then the meter, at most MAX_EXAMPLES."""
    same_meter = [example for example in load_examples() if example.meter == meter]
    ranked = sorted(same_meter, key=lambda example: example.rhythm != rhythm)
    if not ranked:  # a meter no example has: the common folk meters, so the form is clear
        ranked = [example for example in load_examples() if example.meter in {"6/8", "4/4"}]
    return ranked[:MAX_EXAMPLES]


def tune_title(writing: Writing) -> str:
    """The request's title, or one from the style and the pitches: "Jig in D dorian"."""
    request = writing.request
    if request.title:
        return request.title
    kind = str(writing.style.get("name") or f"{request.style} tune").capitalize()
    description = request.constraints.description
    if description.startswith("only the notes "):
        return f"{kind} on {description.removeprefix('only the notes ')}"
    return f"{kind} in {description}"


def _rhythm_name(writing: Writing) -> str:
    return str(writing.style.get("rhythm") or writing.request.style)


def render_tunebook(writing: Writing) -> tuple[str, str, list[Example]]:
    """The document prompt, cut where the cached prefix ends, and its examples.

    A tune book in ABC (or, for the spelling comparison in ``docs/benchmarks.md``, the same
    tunes in tunesmith notation). The prefix (the examples) depends only on the meter and
    the rhythm.
    """
    request, constraints = writing.request, writing.request.constraints
    examples = choose_examples(request.meter, _rhythm_name(writing))
    abc = writing.spelling.name == "abc"
    prefix = "".join(
        f"{example.text(number) if abc else _respelled(example, number, writing)}\n"
        for number, example in enumerate(examples, 1)
    )
    suffix = load_template("tunebook" if abc else "tunebook-notation").substitute(
        number=len(examples) + 1,
        title=_one_line(tune_title(writing)),
        rhythm=_one_line(_rhythm_name(writing)),
        meter=request.meter,
        key=key_field(str(constraints.tonic), constraints.key_mode),
    )
    return prefix, suffix, examples


def _respelled(example: Example, number: int, writing: Writing) -> str:
    """An example tune's header, and its bars in the writing's spelling, laid out as it is."""
    spelling = writing.spelling
    body = []
    for index, bar in enumerate(example.tune.bars):
        number_in_part = index % 8 + 1
        body.append(
            (spelling.part_start() if number_in_part == 1 else "")
            + spelling.write(bar)
            + spelling.separator(line_end=number_in_part % 4 == 0, part_end=number_in_part == 8)
        )
    return (
        f"X:{number}\nT:{example.title}\nR:{example.rhythm}\nM:{example.meter}\n"
        f"K:{example.key}\n{''.join(body)}"
    )


def _one_line(text: str) -> str:
    """A header field's value on one line (a newline would start a new header field)."""
    return " ".join(text.split())


def _fields(writing: Writing) -> dict[str, str]:
    request, constraints = writing.request, writing.request.constraints
    meter = meter_of(request.meter)
    plan = writing.plan
    bars = len(plan.bars) - plan.pickup
    length_rule = f"Write exactly {bars} bars."
    if len(plan.parts) > 1:
        length_rule = (
            f"The tune has {len(plan.parts)} parts ({' then '.join(plan.parts)}) of "
            f"{plan.part_bars} bars each: write each part once, {bars} bars in all; they are "
            f"played {plan.form}. End each part on {constraints.tonic}."
        )
    pickup = writing.slots[0] if plan.pickup and writing.slots else None
    if pickup:
        rhythm = " ".join(duration_code(d) for cell in pickup if cell for d in cell.durations)
        length_rule += (
            f" Open with a pickup of {rhythm} before the first bar line: it leads into bar 1 "
            "and is not one of the bars."
        )
    cells = " or ".join(
        " ".join(map(duration_code, cell.durations)) for cell in writing.rhythm.cells
    )
    return {
        "title": _one_line(tune_title(writing)),
        "meter": request.meter,
        "tempo": f"{request.tempo:g}",
        "style": _one_line(request.style),
        "instrument": request.instrument,
        "notes": " ".join(map(str, constraints.pitch_classes)),
        "low": str(constraints.low),
        "high": str(constraints.high),
        "tonic": str(constraints.tonic),
        "bar_length": f"{meter.bar_length} quarter note{'s' if meter.bar_length != 1 else ''}",
        "pitch_rule": constraints.description,
        "cells": cells,
        "length_rule": length_rule,
        "format_example": "A4:e B4:e C#5:q | D5:h |",
        "harmony_rule": harmony_rule(writing.harmony, request.progression),
    }


def render_prompt(writing: Writing) -> Prompt:
    """The prompt for a writing: the tune book (document) and the task as chat messages."""
    fields = _fields(writing)
    prefix, suffix, _ = render_tunebook(writing)
    messages = (
        {"role": "system", "content": load_template("system").substitute(fields)},
        {"role": "user", "content": load_template("task").substitute(fields)},
    )
    return Prompt(document=prefix + suffix, messages=messages)


def render_feedback(writing: Writing, problems: list[str]) -> str:
    """A follow-up message listing what was wrong with the model's last answer."""
    listed = "\n".join(f"- {problem}" for problem in problems)
    return load_template("feedback").substitute(
        problems=listed, length_rule=_fields(writing)["length_rule"]
    )
