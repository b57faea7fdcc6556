"""Content digests of the files in the model cache (``$TUNESMITH_CACHE``), checked before use.

Every file tunesmith keeps in the cache is trusted only while its bytes hash to what was
recorded when it was written: the embedded model to the sha256 its package ships, the
narrow copy to the one kept in its ``.npz`` (:mod:`tunesmith.decoding.narrow`), a prefix
state to the one in its own header (:mod:`tunesmith.decoding.prefix_state`). A file that fails is
made again, with a warning in the log, never used. The narrow copy and the prefix states
on it are named by content too, not by paths or times, so a cache copied elsewhere is used
as it is.

sha256 reads about 1 GB/s on a CPU with SHA extensions: 0.07-0.10 s for the 80 MB narrow
copy, 0.22-0.30 s for the 253 MB model (which its package's own check read whole before),
0.01 s for a prefix state or the folk adapter. So a process spends about 0.1 s more than it
did on checks; each file is hashed once per process while it is unchanged.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

__all__ = ["file_sha256"]


def file_sha256(path: Path) -> str:
    """The sha256 of the file at ``path`` (hex), read once per process while it is unchanged.

    Raises
    ------
    OSError
        Where the file cannot be read.
    """
    info = os.stat(path)
    return _sha256(
        str(Path(path).resolve()),
        info.st_dev,
        info.st_ino,
        info.st_size,
        info.st_mtime_ns,
        info.st_ctime_ns,
    )


@functools.lru_cache(maxsize=32)
def _sha256(path: str, *identity: int) -> str:
    """The file's digest; ``identity`` (device, inode, size and times) tells a changed file."""
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()
