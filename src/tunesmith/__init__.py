"""tunesmith: compose music with language models, one note at a time.

>>> from tunesmith import compose
>>> tune = compose(notes=["A", "B", "C#", "F#", "G"], meter="6/8", bars=16)  # doctest: +SKIP
>>> tune.save_midi("jig.mid")  # doctest: +SKIP
"""

from tunesmith.backends import Backend, LocalBackend
from tunesmith.compose import Composition, Report, compose, compose_async, compose_many
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
    SoundfontError,
    TunesmithError,
)
from tunesmith.request import ComposeRequest

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
    "Report",
    "RequestError",
    "SoundfontError",
    "TunesmithError",
    "compose",
    "compose_async",
    "compose_many",
]
