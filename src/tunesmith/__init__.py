"""tunesmith: compose music with language models, one note at a time.

>>> from tunesmith import compose
>>> tune = compose(notes=["A", "B", "C#", "F#", "G"], meter="6/8", bars=16)  # doctest: +SKIP
>>> tune.save_midi("jig.mid")  # doctest: +SKIP
>>> tune = compose("a slow air in E dorian for fiddle, 16 bars")  # doctest: +SKIP
"""

import typing

from tunesmith.backends import Backend, LocalBackend
from tunesmith.compose import compose, compose_async, compose_many
from tunesmith.composition import Composition, Report
from tunesmith.errors import (
    BackendError,
    CompositionError,
    ConstraintError,
    DependencyError,
    ExportError,
    GrammarError,
    NotationError,
    NoteNameError,
    RequestError,
    RequestTypeError,
    SoundfontError,
    TunesmithError,
)
from tunesmith.interpret import interpret
from tunesmith.request import ComposeRequest

if typing.TYPE_CHECKING:
    from tunesmith.backends.openai import OpenAIBackend

__all__ = [
    "Backend",
    "BackendError",
    "ComposeRequest",
    "Composition",
    "CompositionError",
    "ConstraintError",
    "DependencyError",
    "ExportError",
    "GrammarError",
    "LocalBackend",
    "NotationError",
    "NoteNameError",
    "OpenAIBackend",
    "Report",
    "RequestError",
    "RequestTypeError",
    "SoundfontError",
    "TunesmithError",
    "compose",
    "compose_async",
    "compose_many",
    "interpret",
]


def __getattr__(name: str) -> typing.Any:
    """``OpenAIBackend`` on first use: ``import tunesmith`` does not import the openai SDK."""
    if name == "OpenAIBackend":
        from tunesmith.backends.openai import OpenAIBackend  # noqa: PLC0415

        return OpenAIBackend
    raise AttributeError(f"module 'tunesmith' has no attribute {name!r}")
