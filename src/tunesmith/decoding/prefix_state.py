"""The prompt prefix's evaluated state, kept on disk so a new process need not evaluate it.

The prefix (the tune book's example tunes) depends only on the meter and the rhythm, and
takes about a second to evaluate on two cores: most of a ``tunesmith`` command's start.
Its KV state (llama.cpp's ``llama_state_seq_get_data``) is written once per model and
prefix, and read back into sequence 0: the same cache entries a fresh evaluation makes, so
the same seed gives the same tune.

A file holds a header, the sha256 of the rest, the prefix's tokens and the state; it is
written through a temporary file and a rename (:func:`tunesmith.io.files.write_atomically`).
A file that is truncated or whose bytes changed is not loaded (a state with a few bytes
zeroed loads without complaint and changes the tune): the prefix is evaluated again and the
file written anew. Where the cache cannot be written, every process evaluates the prefix.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import logging
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tunesmith.errors import TunesmithError
from tunesmith.io.files import write_atomically

__all__ = ["load_prefix", "save_prefix", "state_file"]

logger = logging.getLogger(__name__)

KEPT = 16
"""Prefix files kept per directory (the newest); a few meters and rhythms make them."""
_MAGIC = b"tunesmith prefix state 2\n"
_DIGEST = 32
_COUNT = struct.Struct("<I")


def state_file(directory: Path, model: str, prefix: Sequence[int]) -> Path:
    """Where the state of ``prefix`` on ``model`` (a string naming the model exactly) lives."""
    digest = hashlib.sha256(model.encode())
    digest.update(_tokens(prefix))
    return directory / f"prefix-{digest.hexdigest()[:24]}.state"


def _tokens(prefix: Sequence[int]) -> bytes:
    return b"".join(token.to_bytes(4, "little") for token in prefix)


def _state(data: bytes, prefix: Sequence[int]) -> tuple[bytes | None, str]:
    """The state a file's ``data`` holds for ``prefix``, or None and what is wrong with it."""
    body = data[len(_MAGIC) + _DIGEST :]
    if not data.startswith(_MAGIC) or len(body) < _COUNT.size:
        return None, f"not a tunesmith prefix state ({len(data)} bytes)"
    if hashlib.sha256(body).digest() != data[len(_MAGIC) : len(_MAGIC) + _DIGEST]:
        return None, "its sha256 is not the one recorded when it was written"
    (count,) = _COUNT.unpack_from(body)
    tokens = body[_COUNT.size : _COUNT.size + 4 * count]
    if tokens != _tokens(prefix):
        return None, "it holds another prefix"
    return body[_COUNT.size + 4 * count :], ""


def load_prefix(llama_cpp: Any, context: Any, path: Path, prefix: Sequence[int]) -> bool:
    """Read ``prefix``'s state from ``path`` into sequence 0; False where it was not there.

    A file that fails its check is logged (a warning) and left for :func:`save_prefix` to
    replace.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return False
    except OSError as error:
        logger.warning("evaluating the prompt prefix: cannot read %s: %s", path, error)
        return False
    state, problem = _state(data, prefix)
    if state is None:
        logger.warning("evaluating the prompt prefix again: %s is damaged (%s)", path, problem)
        return False
    buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
    if llama_cpp.llama_state_seq_set_data(context, buffer, len(state), 0):
        with contextlib.suppress(OSError):
            path.touch()
        return True
    logger.warning("evaluating the prompt prefix again: llama.cpp could not load %s", path)
    llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(context), 0, -1, -1)
    return False


def save_prefix(llama_cpp: Any, context: Any, path: Path, prefix: Sequence[int]) -> None:
    """Write sequence 0's state (``prefix`` evaluated) to ``path``; keep the newest files.

    Where the folder cannot be written (a read-only cache), nothing is kept (logged).
    """
    size = llama_cpp.llama_state_seq_get_size(context, 0)
    buffer = (ctypes.c_uint8 * size)()
    if llama_cpp.llama_state_seq_get_data(context, buffer, size, 0) != size:
        logger.warning("not keeping the prompt prefix's state: llama.cpp did not copy it")
        return
    body = _COUNT.pack(len(prefix)) + _tokens(prefix) + bytes(buffer)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, _MAGIC + hashlib.sha256(body).digest() + body)
    except (OSError, TunesmithError) as error:
        logger.info("not keeping the prompt prefix's state in %s: %s", path.parent, error)
        return
    with contextlib.suppress(OSError):
        files = sorted(path.parent.glob("prefix-*.state"), key=lambda p: p.stat().st_mtime)
        for old in files[:-KEPT]:
            old.unlink(missing_ok=True)
