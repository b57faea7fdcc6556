"""A stand-in for the model in tunesmith's decoding loop: random walks through the grammars.

:class:`WalkingBackend` runs the scripts of :mod:`tunesmith.decoding.decode` as the loop does
(forced text as it is, each free segment a sentence of its grammar) but draws the
sentence by a seeded random walk instead of asking the model: whatever the grammar
allows, the pipeline around it must handle, in milliseconds.
"""

from __future__ import annotations

import random

from test_grammar import walk
from tunesmith.backends import Completion, Prompt
from tunesmith.decoding.segments import Forced, LaneResult, SamplerSettings, Script


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
