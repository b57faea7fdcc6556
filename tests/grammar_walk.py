"""A stand-in for the model in tunesmith's decoding loop: random walks through the grammars.

:class:`WalkingBackend` runs the scripts of :mod:`tunesmith.decoding.decode` as the loop does
(forced text as it is, each free segment a sentence of its grammar) but draws the
sentence by a seeded random walk instead of asking the model: whatever the grammar
allows, the pipeline around it must handle, in milliseconds.
"""

from __future__ import annotations

import random
import re
from typing import Protocol

from tunesmith.backends import Completion, Prompt
from tunesmith.decoding.segments import Forced, LaneResult, SamplerSettings, Script


class Chooser(Protocol):
    """What :func:`walk` draws with: a :class:`random.Random`, or a stand-in for a model."""

    def choice(self, options: list[tuple[str, str]], /) -> tuple[str, str]: ...


def walk(grammar: str, rng: Chooser) -> str:
    """A random sentence: every alternative of tunesmith's grammars is a literal and a rule."""
    lines = grammar.splitlines()
    rules = {
        head: re.findall(r'"((?:[^"\\]|\\.)*)"(?: ([\w-]+))?', body)
        for head, body in (line.split(" ::= ", 1) for line in lines[1:])
    }
    root = re.findall(r'"((?:[^"\\]|\\.)*)"|([\w-]+)', lines[0].split(" ::= ", 1)[1])
    text = [literal for literal, _ in root if literal]
    current = root[-1][1]
    while current:
        literal, current = rng.choice(rules[current])
        text.append(literal.replace("\\n", "\n").replace('\\"', '"'))
    return "".join(text)


class WalkingBackend:
    """A loop backend whose 'model' walks the grammars at random (seeded per lane)."""

    name = "walk"
    model = "random grammar walk"
    spelling = "abc"
    lanes = 4
    supports_grammar = True

    def __init__(self) -> None:
        self.prompts: list[tuple[str, str]] = []

    def complete(
        self,
        prompt: Prompt,
        *,
        grammar: str | None,
        max_tokens: int,
        temperature: float,
        seed: int | None,
    ) -> Completion:
        raise NotImplementedError("the walking backend only runs the loop")

    def write(
        self,
        prefix: str,
        suffix: str,
        scripts: list[Script],
        *,
        seed: int,
        settings: SamplerSettings,
        deadline: float | None,
    ) -> list[LaneResult]:
        self.prompts.append((prefix, suffix))
        results = []
        for lane, script in enumerate(scripts):
            rng, text = random.Random(seed + lane), ""
            while (segment := script.next_segment(text)) is not None:
                text += segment.text if isinstance(segment, Forced) else walk(segment.grammar, rng)
            results.append(LaneResult(text))
        return results
