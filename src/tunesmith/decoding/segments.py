"""What drives the decoding loop: segments, lane scripts, sampler settings and results.

A :class:`Script` hands one lane (one candidate tune) its segments in turn: text to force
(:class:`Forced`: a bar the plan repeats, a bar line) or text to sample under a grammar
(:class:`Free`), and judges what the lane writes. :mod:`tunesmith.decoding.decode` runs scripts on
llama.cpp; :mod:`tunesmith.writing.script` writes them for a planned tune.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "Forced",
    "Free",
    "LaneResult",
    "OneGrammar",
    "RunStats",
    "SamplerSettings",
    "Script",
    "Segment",
]


@dataclass(frozen=True)
class Forced:
    """Text decoded as it is (a bar repeated from earlier, a bar line)."""

    text: str


@dataclass(frozen=True)
class Free:
    """Text sampled under a GBNF grammar; the segment ends where the grammar can end."""

    grammar: str
    checked: bool = True
    """Offer the finished segment to :meth:`Script.judge`."""
    penalty: float = 0.0
    """Subtracted from the logit of every token holding one of ``penalised``."""
    penalised: frozenset[str] = frozenset()


Segment = Forced | Free


class Script(Protocol):
    """What one lane writes: the segments in order, and judges of its sampled text."""

    def next_segment(self, text: str) -> Segment | None:
        """The next segment after ``text`` (everything the lane wrote so far), or None."""
        ...

    def allows(self, segment: str) -> bool:
        """Whether the free segment so far (the sampled token's text included) may go on.

        A token it refuses is drawn again, from the others the grammar allows.
        """
        ...

    def judge(self, text: str, segment: str) -> int:
        """How many rules ``segment`` (just written, after ``text``) breaks; 0 accepts it."""
        ...


class OneGrammar:
    """A script of one grammar-constrained segment that no rule judges (``complete``'s)."""

    def __init__(self, grammar: str) -> None:
        self.grammar: str | None = grammar

    def next_segment(self, text: str) -> Segment | None:
        """The grammar's segment once, then nothing."""
        grammar, self.grammar = self.grammar, None
        return None if grammar is None else Free(grammar, checked=False)

    def allows(self, segment: str) -> bool:
        """Every token the grammar allows."""
        return True

    def judge(self, text: str, segment: str) -> int:
        """No rule: every segment is accepted."""
        return 0


@dataclass(frozen=True)
class SamplerSettings:
    """The sampling parameters, as ``Llama.create_completion`` names them."""

    temperature: float = 0.8
    top_k: int = 40
    top_p: float = 0.95
    min_p: float = 0.05
    typical_p: float = 1.0
    retries: int = 2
    """How many times a segment the script refuses is decoded again (each costs a bar's
    decoding: with one retry a 16-bar jig took 10% less time, and 17% of tunes kept a
    repeated bar against 3%)."""
    token_tries: int = 8
    """How many tokens are drawn at one step before the grammar's choice is kept anyway."""
    retry_heat: float = 0.15
    """Temperature added at each retry, so a refused segment is not written again."""
    patience: float = 0.25
    """Once a lane finishes, the others get this share of its steps (and 8 more) to finish
    too; a lane still writing then is stopped (``LaneResult.finished`` is False)."""


@dataclass
class LaneResult:
    """What one lane wrote, and what it cost."""

    text: str
    tokens: int = 0
    """Tokens sampled (forced tokens excluded)."""
    forced_tokens: int = 0
    retries: int = 0
    """Segments decoded again because the script refused them."""
    refused_tokens: int = 0
    """Tokens drawn again because the script refused them."""
    accepted_with_problems: int = 0
    """Segments kept although the script refused every try (the one breaking fewest rules)."""
    finished: bool = True
    """False for a lane stopped because it fell too far behind the first one to finish."""


@dataclass
class RunStats:
    """What the last :meth:`Decoder.run` cost."""

    prompt_seconds: float = 0.0
    """Evaluating the prompt (the prefix only when it was not cached)."""
    steps: int = 0
    """Batches decoded after the prompt (a token, or a forced text, per lane each)."""
    loop_seconds: float = 0.0
    """Time in those steps: decoding, sampling, rules."""
