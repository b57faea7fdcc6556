"""The :class:`Backend` protocol every language-model backend implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from tunesmith.decoding.segments import LaneResult, SamplerSettings, Script

__all__ = ["Backend", "Completion", "LoopBackend", "Prompt"]


@dataclass(frozen=True)
class Prompt:
    """A prompt in both forms a backend may need.

    ``document`` is a text to continue (for base models such as the embedded Gemma 3 270M);
    ``messages`` is the same task as chat messages (for instruction-tuned models).
    """

    document: str
    messages: tuple[dict[str, str], ...] = field(default=())


@dataclass(frozen=True)
class Completion:
    """What a backend returned for one request."""

    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    seconds: float


@runtime_checkable
class Backend(Protocol):
    """Something that completes a prompt, optionally under a GBNF grammar."""

    @property
    def name(self) -> str:
        """A short name for reports, e.g. ``"local"``."""
        ...

    @property
    def model(self) -> str:
        """The model's name for reports."""
        ...

    @property
    def supports_grammar(self) -> bool:
        """Whether :meth:`complete` honours a GBNF ``grammar``."""
        ...

    def complete(
        self,
        prompt: Prompt,
        *,
        grammar: str | None,
        max_tokens: int,
        temperature: float,
        seed: int | None,
    ) -> Completion:
        """Complete ``prompt``; when ``grammar`` is given, the answer must be a sentence of it."""
        ...


@runtime_checkable
class LoopBackend(Backend, Protocol):
    """A backend that runs tunesmith's own decoding loop (:mod:`tunesmith.decoding.decode`)."""

    @property
    def lanes(self) -> int:
        """How many candidates it decodes side by side."""
        ...

    @property
    def spelling(self) -> str:
        """The spelling its model writes in (``"abc"``)."""
        ...

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
        """Decode one candidate per script behind ``prefix`` + ``suffix``."""
        ...
