"""tunesmith: compose music with language models, one note at a time.

>>> from tunesmith import compose, read_score
>>> tune = compose(notes=["A", "B", "C#", "F#", "G"], meter="6/8", bars=16)  # doctest: +SKIP
>>> tune.save_midi("jig.mid")  # doctest: +SKIP
>>> tune = compose("a slow air in E dorian for fiddle, 16 bars")  # doctest: +SKIP
>>> score = read_score("jig.mid")  # doctest: +SKIP
"""

import typing

from tunesmith.backends import Backend, LocalBackend, OpenAIBackend
from tunesmith.checks.repair import repair
from tunesmith.checks.validate import validate
from tunesmith.errors import (
    BackendError,
    ChordError,
    CompositionError,
    ConstraintError,
    DependencyError,
    ExportError,
    GrammarError,
    NotationError,
    NoteNameError,
    ReadError,
    RequestError,
    RequestTypeError,
    ScoreError,
    SoundfontError,
    TunesmithError,
)
from tunesmith.interpreting.interpret import interpret
from tunesmith.io.read import read_score
from tunesmith.io.write import write_score
from tunesmith.model.notation import parse, unparse
from tunesmith.model.score import (
    Bar,
    ChordSymbol,
    Drum,
    Event,
    Header,
    Key,
    Part,
    Pitch,
    PitchClass,
    Repeat,
    Score,
)
from tunesmith.pipeline.compose import compose, compose_async, compose_many
from tunesmith.pipeline.composition import Composition, Report
from tunesmith.pipeline.continuation import continue_score, infill, vary
from tunesmith.pipeline.harmonising import harmonise
from tunesmith.requests.request import ComposeRequest

__all__ = [
    "Backend",
    "BackendError",
    "Bar",
    "ChordError",
    "ChordSymbol",
    "ComposeRequest",
    "Composition",
    "CompositionError",
    "ConstraintError",
    "DependencyError",
    "Drum",
    "Event",
    "ExportError",
    "GrammarError",
    "Header",
    "Key",
    "LocalBackend",
    "NotationError",
    "NoteNameError",
    "OpenAIBackend",
    "Part",
    "Pitch",
    "PitchClass",
    "ReadError",
    "Repeat",
    "Report",
    "RequestError",
    "RequestTypeError",
    "Score",
    "ScoreError",
    "SoundfontError",
    "TunesmithError",
    "compose",
    "compose_async",
    "compose_many",
    "continue_score",
    "harmonise",
    "infill",
    "interpret",
    "parse",
    "read_score",
    "repair",
    "unparse",
    "validate",
    "vary",
    "write_score",
]


_GONE = {
    "format": "use tunesmith.unparse(score) (format shadowed the builtin)",
    "Tune": "the data model is the Score (validate and repair take one); a composition's "
    "melody as played is composition.tune, a tunesmith.model.score.Tune",
}
"""Public names that went, and what serves instead (see CHANGELOG.md)."""


def __getattr__(name: str) -> typing.Any:
    """A public name that went: an error that says what serves instead."""
    if name in _GONE:
        raise AttributeError(f"tunesmith.{name} is gone: {_GONE[name]}")
    raise AttributeError(f"module 'tunesmith' has no attribute {name!r}")
