"""Writing files so that nothing is ever half-written: a temporary file and a rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tunesmith.errors import ExportError

__all__ = ["write_atomically"]


def write_atomically(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename; never half a file.

    Raises
    ------
    ExportError
        Naming the path and the reason (a missing folder, no permission...); the
        temporary file is removed and an existing file at ``path`` is left as it was.
    """
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        reason = "is not a folder" if folder.exists() else "does not exist; create it first"
        raise ExportError(f"cannot write {target}: the folder {folder} {reason}")
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".part")
    except OSError as error:
        raise ExportError(f"cannot write {target}: {error.strerror or error}") from error
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes 0600; give the usual mode
        os.replace(temporary, target)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise ExportError(f"cannot write {target}: {error.strerror or error}") from error
        raise
    return target
