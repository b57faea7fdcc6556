"""Language-model backends: the :class:`Backend` protocol and its implementations."""

from tunesmith.backends.base import Backend, Completion, Prompt
from tunesmith.backends.local import LocalBackend

__all__ = ["Backend", "Completion", "LocalBackend", "Prompt"]
