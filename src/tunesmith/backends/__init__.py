"""Language-model backends: the :class:`Backend` protocol and its implementations.

:class:`OpenAIBackend` imports the openai SDK on first use, so ``import tunesmith`` does not
import it.
"""

from tunesmith.backends.base import Backend, Completion, Prompt
from tunesmith.backends.local import LocalBackend
from tunesmith.backends.openai import OpenAIBackend

__all__ = ["Backend", "Completion", "LocalBackend", "OpenAIBackend", "Prompt"]
