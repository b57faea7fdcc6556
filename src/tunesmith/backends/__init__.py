"""Language-model backends: the :class:`Backend` protocol and its implementations.

:class:`OpenAIBackend` is imported on first use, so ``import tunesmith`` does not import
the openai SDK.
"""

from typing import TYPE_CHECKING, Any

from tunesmith.backends.base import Backend, Completion, Prompt
from tunesmith.backends.local import LocalBackend

if TYPE_CHECKING:
    from tunesmith.backends.openai import OpenAIBackend

__all__ = ["Backend", "Completion", "LocalBackend", "OpenAIBackend", "Prompt"]


def __getattr__(name: str) -> Any:
    if name == "OpenAIBackend":
        from tunesmith.backends.openai import OpenAIBackend  # noqa: PLC0415

        return OpenAIBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
