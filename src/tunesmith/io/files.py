"""Reading and writing files: text read as UTF-8, and writes that are never half done.

A write goes to a temporary file beside the target (``.NAME.XXXXXXXX.part``) that is then
renamed over it; so a target that is not a regular file (a device, a named pipe, a folder) is
refused, never replaced. While it is being written the writer holds a lock on it; a process
killed mid-write (even by SIGKILL) loses its lock, and the next write to the same target
removes what it left behind. Temporary files another process is still writing are left alone.
"""

from __future__ import annotations

import contextlib
import glob
import os
import stat
import sys
import tempfile
from pathlib import Path

from tunesmith.errors import ExportError, RequestError, RequestTypeError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no locks, so no cleaning either
    fcntl = None  # type: ignore[assignment]

__all__ = ["PART_SUFFIX", "check_writable", "file_path", "read_text", "write_atomically"]

PART_SUFFIX = ".part"


def read_text(path: str | os.PathLike[str]) -> str:
    """A UTF-8 text file (a byte-order mark is allowed); ``"-"`` reads standard input.

    Raises
    ------
    RequestError
        Naming the file and why: missing, unreadable, or not UTF-8 (with the first bad
        byte and its position).
    """
    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else Path(path).read_bytes()
    except OSError as error:
        raise RequestError(f"cannot read {path}: {error.strerror or error}") from error
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RequestError(
            f"cannot read {path}: it is not UTF-8 text (byte 0x{data[error.start]:02x} at "
            f"position {error.start}); save it as UTF-8"
        ) from error


def _lock(handle: int, *, wait: bool) -> bool:
    """Lock a file for this process; False if another process holds it (and not ``wait``)."""
    if fcntl is None:  # pragma: no cover - no locks: a writer has its file, no one cleans
        return wait
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def _remove_leftovers(target: Path) -> None:
    """Remove temporary files of earlier writes to ``target`` that no process holds."""
    pattern = f".{glob.escape(target.name)}.*{PART_SUFFIX}"
    for leftover in target.parent.glob(pattern):
        try:
            handle = os.open(leftover, os.O_RDONLY)
        except OSError:
            continue
        try:
            regular = stat.S_ISREG(os.fstat(handle).st_mode)  # not a folder of that name
            if regular and _lock(handle, wait=False):  # its writer is gone: a crash left it
                leftover.unlink(missing_ok=True)
        finally:
            os.close(handle)


def _temporary(target: Path) -> tuple[int, str]:
    """A new, locked temporary file beside ``target``."""
    while True:
        handle, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=PART_SUFFIX
        )
        _lock(handle, wait=True)
        if os.fstat(handle).st_nlink:  # not removed as a leftover before we locked it
            return handle, temporary
        os.close(handle)


def _check_target(target: Path) -> None:
    """Refuse a missing folder, and a device, named pipe or socket that a rename would replace.

    (A rename over a folder fails by itself.)
    """
    folder = target.parent
    if not folder.is_dir():
        reason = "is not a folder" if folder.exists() else "does not exist; create it first"
        raise ExportError(f"cannot write {target}: the folder {folder} {reason}")
    try:
        mode = target.stat().st_mode  # through a symbolic link: what it points to
    except OSError:  # nothing there yet (or a link to nothing): a new file
        return
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        kinds = {stat.S_IFIFO: "a named pipe", stat.S_IFSOCK: "a socket"}
        kind = kinds.get(stat.S_IFMT(mode), "a device")
        raise ExportError(
            f"cannot write {target}: it is {kind}, not a regular file; give a file's path"
        )


def check_writable(path: str | os.PathLike[str]) -> None:
    """Fail now, before any work, if :func:`write_atomically` could not write ``path``.

    The folder must exist and take a new file (tried with a temporary file, since
    permissions do not tell for root or for a read-only file system), and ``path`` must be
    a regular file or nothing yet.

    Raises
    ------
    ExportError
        Naming the path and the reason.
    """
    target = Path(path)
    _check_target(target)
    if target.is_dir():
        raise ExportError(
            f"cannot write {target}: it is a folder, not a regular file; give a file's path"
        )
    try:
        handle, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=PART_SUFFIX
        )
    except OSError as error:
        raise ExportError(
            f"cannot write {target}: the folder {target.parent} is not writable "
            f"({error.strerror or error})"
        ) from error
    os.close(handle)
    Path(temporary).unlink()


def file_path(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path; a :class:`RequestTypeError` for ``None`` or a number."""
    if not isinstance(path, str | os.PathLike):
        raise RequestTypeError(
            f"path must be a file path, a str or pathlib.Path such as 'tune.mid' "
            f"(received {type(path).__name__})"
        )
    return Path(path)


def write_atomically(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename; never half a file.

    Raises
    ------
    ExportError
        Naming the path and the reason (a missing folder, no permission, a device or
        a folder at ``path``...); the temporary file is removed and an existing file at
        ``path`` is left as it was.
    RequestTypeError
        If ``path`` is not a str or path (``None``, a number).
    """
    target = file_path(path)
    _check_target(target)
    try:
        _remove_leftovers(target)
        handle, temporary = _temporary(target)
    except OSError as error:
        raise ExportError(f"cannot write {target}: {error.strerror or error}") from error
    try:
        with os.fdopen(handle, "wb") as file:  # the lock lasts until the file is renamed
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes 0600; give the usual mode
            os.replace(temporary, target)
    except BaseException as error:
        with contextlib.suppress(OSError):
            Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise ExportError(f"cannot write {target}: {error.strerror or error}") from error
        raise
    return target
