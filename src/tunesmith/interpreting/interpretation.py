"""What a request in words became: a :class:`ComposeRequest` and how each phrase set it.

Both readers make these: the word tables (:func:`~tunesmith.interpreting.interpret.interpret`)
and a model (:mod:`tunesmith.interpreting.interpret_model`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, PrivateAttr

from tunesmith.requests.request import ComposeRequest

__all__ = ["Explanation", "Interpretation", "Phrase"]


class Phrase(BaseModel):
    """A phrase of the request and what it set (or why it set nothing)."""

    model_config = ConfigDict(frozen=True)

    words: str
    sets: dict[str, Any] = {}
    note: str = ""

    def __str__(self) -> str:
        sets = ", ".join(f"{field}={value!r}" for field, value in self.sets.items())
        return f"{self.words!r} -> " + "; ".join(filter(None, [sets, self.note]))


class Explanation(BaseModel):
    """How a request in words became a :class:`ComposeRequest`."""

    model_config = ConfigDict(frozen=True)

    text: str
    language: str
    reader: str = "the word tables"
    phrases: tuple[Phrase, ...] = ()
    unsupported: tuple[Phrase, ...] = ()
    """Phrases for what tunesmith cannot compose yet, each with the reason."""
    ignored: tuple[str, ...] = ()
    """Words no table knows: nothing was set from them."""
    decisions: tuple[str, ...] = ()
    """Where a rule of precedence chose between phrases, options or readings."""

    def __str__(self) -> str:
        lines = [f"read by {self.reader} ({self.language})"]
        lines += [f"  {phrase}" for phrase in self.phrases]
        lines += [f"  not supported: {phrase}" for phrase in self.unsupported]
        lines += [f"  decided: {decision}" for decision in self.decisions]
        if self.ignored:
            lines.append("  ignored: " + ", ".join(repr(word) for word in self.ignored))
        return "\n".join(lines)


class Interpretation(ComposeRequest):
    """A :class:`ComposeRequest` read from words; :attr:`explanation` says how."""

    _explanation: Explanation | None = PrivateAttr(default=None)

    @property
    def explanation(self) -> Explanation:
        """Each phrase and what it set, what is not supported, each word not used."""
        assert self._explanation is not None, "made by interpret()"
        return self._explanation

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy (see :meth:`ComposeRequest.model_copy`) that keeps the explanation."""
        copy = super().model_copy(update=update, deep=deep)
        copy._explanation = self._explanation
        return copy
