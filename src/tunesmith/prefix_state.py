"""The prompt prefix's evaluated state, kept on disk so a new process need not evaluate it.

The prefix (the tune book's example tunes) depends only on the meter and the rhythm, and
takes about a second to evaluate on two cores: most of a ``tunesmith`` command's start.
Its KV state (llama.cpp's ``llama_state_seq_save_file``) is written once per model and
prefix, and read back into sequence 0: the same cache entries a fresh evaluation makes, so
the same seed gives the same tune. A file that cannot be read is evaluated again.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["load_prefix", "save_prefix", "state_file"]

KEPT = 16
"""Prefix files kept per directory (the newest); a few meters and rhythms make them."""


def state_file(directory: Path, model: str, prefix: Sequence[int]) -> Path:
    """Where the state of ``prefix`` on ``model`` (a string naming the model exactly) lives."""
    digest = hashlib.sha256(model.encode())
    digest.update(b"".join(token.to_bytes(4, "little") for token in prefix))
    return directory / f"prefix-{digest.hexdigest()[:24]}.state"


def load_prefix(llama_cpp: Any, context: Any, path: Path, prefix: Sequence[int]) -> bool:
    """Read ``prefix``'s state from ``path`` into sequence 0; False where it was not there."""
    if not path.exists():
        return False
    tokens = (llama_cpp.llama_token * len(prefix))()
    count = ctypes.c_size_t(0)
    read = llama_cpp.llama_state_seq_load_file(
        context, str(path).encode(), 0, tokens, len(prefix), ctypes.byref(count)
    )
    if read and list(tokens[: count.value]) == list(prefix):
        with contextlib.suppress(OSError):
            path.touch()
        return True
    llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(context), 0, -1, -1)
    return False


def save_prefix(llama_cpp: Any, context: Any, path: Path, prefix: Sequence[int]) -> None:
    """Write sequence 0's state (``prefix`` evaluated) to ``path``; keep the newest files."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # no cache: every process evaluates the prefix
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    tokens = (llama_cpp.llama_token * len(prefix))(*prefix)
    try:
        if llama_cpp.llama_state_seq_save_file(
            context, str(temporary).encode(), 0, tokens, len(prefix)
        ):
            os.replace(temporary, path)
    except OSError:
        pass
    finally:
        temporary.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        files = sorted(path.parent.glob("prefix-*.state"), key=lambda p: p.stat().st_mtime)
        for old in files[:-KEPT]:
            old.unlink(missing_ok=True)
