"""Every error tunesmith raises. Catch :class:`TunesmithError` to catch them all.

The tree::

    TunesmithError
    ├── RequestError (ValueError)           a bad argument to compose() or the CLI
    │   ├── RequestTypeError (TypeError)     an argument of the wrong type, e.g. notes=42
    │   ├── NoteNameError                    a note or pitch name that cannot be read
    │   ├── ConstraintError                  constraints that no tune can satisfy
    │   └── ChordError                       a chord or progression that cannot be read or fit
    ├── GrammarError (ValueError)           text that is not tunesmith notation (line, column)
    ├── NotationError (ValueError)          a tune that the notation cannot write
    ├── ScoreError (ValueError)             a score whose parts, bars, chords or repeats disagree
    ├── ReadError (ValueError)              a file that cannot be read as a score (path, reason)
    ├── BackendError (RuntimeError)         the language model could not be asked or did not answer
    ├── DependencyError (ImportError)       an optional dependency or model file is missing
    ├── CompositionError (RuntimeError)     every attempt failed (attempts, last output, usage)
    └── ExportError (OSError)               a file could not be written or rendered
        └── SoundfontError                   no usable soundfont (names every place tried)

Messages name what was wrong, what is allowed and what was received. An error raised
because of another one (the openai SDK's, pydantic's, an ``OSError``) keeps it as
``__cause__``. ``docs/errors.md`` lists what each kind of bad input gets.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "BackendError",
    "ChordError",
    "CompositionError",
    "ConstraintError",
    "DependencyError",
    "ExportError",
    "GrammarError",
    "NotationError",
    "NoteNameError",
    "ReadError",
    "RequestError",
    "RequestTypeError",
    "ScoreError",
    "SoundfontError",
    "TunesmithError",
]


class TunesmithError(Exception):
    """The root of every error tunesmith raises."""


class RequestError(TunesmithError, ValueError):
    """A bad argument: the message names the parameter, what is allowed and what was given."""


class RequestTypeError(RequestError, TypeError):
    """An argument of the wrong type, such as ``notes=42`` or ``max_attempts="3"``.

    Both a :class:`RequestError` and a :class:`TypeError`, so either ``except`` catches it.
    """


class NoteNameError(RequestError):
    """A note or pitch name that cannot be read, such as ``"H#"`` or ``"C#x"``."""


class ConstraintError(RequestError):
    """Constraints that no tune can satisfy, e.g. a range that holds none of the notes."""


class ChordError(RequestError):
    """A chord symbol, Roman numeral or progression that cannot be read or cannot fit the tune.

    Attributes
    ----------
    chord:
        The chord as written (empty when the whole progression is at fault).
    bar:
        The 1-based bar of the progression it stands in, or None.
    allowed:
        The notes the tune may use, as text ("D E F# G A B C#").
    """

    def __init__(
        self, message: str, *, chord: str = "", bar: int | None = None, allowed: str = ""
    ) -> None:
        self.chord = chord
        self.bar = bar
        self.allowed = allowed
        super().__init__(message)


class GrammarError(TunesmithError, ValueError):
    """Text that is not valid tunesmith notation.

    Attributes
    ----------
    line, column:
        1-based position of the offending token.
    token:
        The offending token (empty at end of input).
    """

    def __init__(self, reason: str, *, line: int, column: int, token: str) -> None:
        self.reason = reason
        self.line = line
        self.column = column
        self.token = token
        super().__init__(f"line {line}, column {column}: {reason} (at {token!r})")


class NotationError(TunesmithError, ValueError):
    """A tune that tunesmith notation cannot express (e.g. a quintuplet duration)."""


class ScoreError(TunesmithError, ValueError):
    """A score that cannot be: parts with different bars, overlapping chords or repeats."""


class ReadError(TunesmithError, ValueError):
    """A file that cannot be read as a score: missing, empty, corrupt, too big, no notes.

    Attributes
    ----------
    path:
        The file, as given.
    reason:
        What is wrong with it and, where it helps, what to do.
    """

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"cannot read {self.path}: {reason}")


class BackendError(TunesmithError, RuntimeError):
    """The language model could not be asked, or its answer could not be used.

    Attributes
    ----------
    retryable:
        Whether asking again may help (a timeout may; a bad API key will not).
    hint:
        What the user can do about it.
    """

    def __init__(self, message: str, *, retryable: bool = False, hint: str = "") -> None:
        self.retryable = retryable
        self.hint = hint
        super().__init__(f"{message}. {hint}" if hint else message)


class DependencyError(TunesmithError, ImportError):
    """An optional dependency or the embedded model is missing; the message says what to install.

    Raised for llama-cpp-python and the embedded model, the openai SDK, FluidSynth and
    verovio; an :class:`ImportError`, so ``except ImportError`` catches it too.

    Attributes
    ----------
    hint:
        What to install, e.g. ``"pip install pyfluidsynth"``.
    """

    def __init__(self, message: str, *, hint: str = "") -> None:
        self.hint = hint
        super().__init__(f"{message}. {hint}" if hint else message)


class CompositionError(TunesmithError, RuntimeError):
    """No attempt produced a usable tune.

    Attributes
    ----------
    attempts:
        How many times the model was asked.
    last_output:
        The model's last raw answer.
    problems:
        What was wrong with the last answer.
    prompt_tokens, completion_tokens:
        Token usage over all attempts, as the backend reported it.
    """

    def __init__(
        self,
        message: str,
        *,
        attempts: int,
        last_output: str,
        problems: Sequence[str] = (),
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
    ) -> None:
        self.attempts = attempts
        self.last_output = last_output
        self.problems = list(problems)
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens
        super().__init__(message)


class ExportError(TunesmithError, OSError):
    """A file could not be written or rendered; nothing half-written is left behind."""


class SoundfontError(ExportError):
    """No usable General MIDI soundfont was found or the one given cannot be loaded."""
