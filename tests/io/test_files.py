"""Files: text is read as UTF-8 or refused with the reason; a write is whole or not at all."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tunesmith import ExportError, RequestError
from tunesmith.io import files
from tunesmith.io.files import check_writable, read_text, write_atomically

# A writer that stops for good in the middle of a write, holding its temporary file.
STUCK_WRITER = """
import os, sys, time
from tunesmith.io import files
def stuck(_):
    print("writing", flush=True)
    time.sleep(600)
os.fsync = stuck
files.write_atomically(sys.argv[1], b"x" * 1_000_000)
"""


@contextlib.contextmanager
def stuck_writer(target: Path) -> Iterator[subprocess.Popen[str]]:
    """A process stopped in the middle of writing ``target``, its temporary file on disk."""
    with subprocess.Popen(
        [sys.executable, "-c", STUCK_WRITER, str(target)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    ) as process:
        assert process.stdout is not None
        assert process.stdout.readline() == "writing\n"
        try:
            yield process
        finally:
            process.kill()


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.endswith(".part"))


def test_a_write_killed_midway_leaves_a_file_the_next_write_there_removes(tmp_path: Path) -> None:
    target = tmp_path / "tune.wav"
    target.write_bytes(b"old")
    with stuck_writer(target) as writer:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    assert len(leftovers(tmp_path)) == 1  # SIGKILL leaves the temporary file...
    assert target.read_bytes() == b"old"  # ...and the target as it was
    write_atomically(target, b"new")
    assert leftovers(tmp_path) == []  # ...which the next write there removes
    assert target.read_bytes() == b"new"


def test_a_write_in_progress_elsewhere_is_not_disturbed(tmp_path: Path) -> None:
    target = tmp_path / "tune.mid"
    with stuck_writer(target):
        in_progress = leftovers(tmp_path)
        write_atomically(target, b"mine")
        assert leftovers(tmp_path) == in_progress  # still locked by its writer: kept
        assert target.read_bytes() == b"mine"


def test_only_leftovers_of_the_same_target_are_removed(tmp_path: Path) -> None:
    other = tmp_path / ".other.mid.abcd1234.part"
    other.write_bytes(b"not ours")
    write_atomically(tmp_path / "tune.mid", b"data")
    assert other.exists()


def test_a_folder_named_like_a_leftover_is_left_alone_and_the_write_goes_on(
    tmp_path: Path,
) -> None:
    folder = tmp_path / ".tune.mid.abcd1234.part"
    folder.mkdir()
    write_atomically(tmp_path / "tune.mid", b"data")
    assert (tmp_path / "tune.mid").read_bytes() == b"data"
    assert folder.is_dir()


def test_leftovers_that_vanish_before_they_are_opened_leave_the_others_removed(
    tmp_path: Path,
) -> None:
    # another writer's cleaning can remove a leftover between our listing and our opening;
    # links to nothing stand for those, interleaved with real leftovers in any listing order
    for n in range(10):
        (tmp_path / f".tune.mid.gone{n:04}.part").symlink_to(tmp_path / "nothing")
        (tmp_path / f".tune.mid.left{n:04}.part").write_bytes(b"half")
    write_atomically(tmp_path / "tune.mid", b"data")
    assert [name for name in leftovers(tmp_path) if "left" in name] == []


def test_a_leftover_another_writer_removes_first_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # two writers to one target may both find a crashed write's leftover; the one that
    # removes it second must not fail. The race, made certain: it goes just before our lock.
    leftover = tmp_path / ".tune.mid.abcd1234.part"
    leftover.write_bytes(b"half")
    lock = files._lock

    def removed_by_another_writer_first(handle: int, *, wait: bool) -> bool:
        leftover.unlink(missing_ok=True)
        return lock(handle, wait=wait)

    monkeypatch.setattr(files, "_lock", removed_by_another_writer_first)
    write_atomically(tmp_path / "tune.mid", b"data")
    assert (tmp_path / "tune.mid").read_bytes() == b"data"
    assert leftovers(tmp_path) == []


def test_a_writer_waits_for_a_lock_held_elsewhere_and_then_takes_it(tmp_path: Path) -> None:
    # a cleaner holds a new temporary file's lock for a moment: its writer waits, it does not
    # go on unlocked (flock: two opens of one file conflict even within a process)
    (tmp_path / "tune.part").write_bytes(b"")
    held = os.open(tmp_path / "tune.part", os.O_RDONLY)
    waiting = os.open(tmp_path / "tune.part", os.O_RDONLY)
    released = threading.Event()

    def release() -> None:
        time.sleep(0.2)
        released.set()
        os.close(held)

    releaser = threading.Thread(target=release)
    try:
        assert files._lock(held, wait=False)
        assert not files._lock(waiting, wait=False)  # held elsewhere, and no waiting asked
        releaser.start()
        assert files._lock(waiting, wait=True)
        assert released.is_set()
    finally:
        if releaser.ident is None:
            os.close(held)
        else:
            releaser.join()
        os.close(waiting)


def test_a_write_into_a_missing_folder_is_an_export_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"the folder .*nope does not exist; create it first"):
        write_atomically(tmp_path / "nope" / "tune.mid", b"data")


def test_text_files_are_read_as_utf8_with_or_without_a_byte_order_mark(tmp_path: Path) -> None:
    (tmp_path / "plain.txt").write_bytes("Ōdori A4:q |".encode())
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbfA4:q |")
    assert read_text(tmp_path / "plain.txt") == "Ōdori A4:q |"
    assert read_text(tmp_path / "bom.txt") == "A4:q |"


def test_a_file_that_is_not_utf8_is_a_request_error_naming_the_byte(tmp_path: Path) -> None:
    latin1 = tmp_path / "tune.txt"
    latin1.write_bytes("A4:q | Café".encode("latin-1"))
    with pytest.raises(RequestError, match=r"tune.txt: it is not UTF-8 text \(byte 0xe9 at "):
        read_text(latin1)
    with pytest.raises(RequestError, match=r"cannot read .*missing.txt: No such file"):
        read_text(tmp_path / "missing.txt")


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_written_file_has_the_mode_the_umask_gives_like_any_new_file(
    tmp_path: Path, umask: int, mode: int
) -> None:
    before = os.umask(umask)
    try:
        written = write_atomically(tmp_path / "tune.mid", b"data")
    finally:
        os.umask(before)
    assert written.stat().st_mode & 0o777 == mode
    assert os.umask(before) == before  # the process's umask is as it was


def test_a_write_replaces_the_file_whole_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "tune.mid"
    target.write_bytes(b"old and longer")
    assert write_atomically(target, b"new") == target
    assert target.read_bytes() == b"new"
    assert leftovers(tmp_path) == []


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "tune.mid"
    target.write_bytes(b"old")
    (tmp_path / "folder.mid").mkdir()  # a rename over a folder fails
    with pytest.raises(ExportError, match=r"cannot write .*folder.mid: Is a directory"):
        write_atomically(tmp_path / "folder.mid", b"new")
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_a_dash_reads_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\xef\xbb\xbfA4:q |")))
    assert read_text("-") == "A4:q |"


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs /sys/kernel")
def test_a_folder_is_tried_with_a_file_before_any_work_not_judged_by_its_permissions() -> None:
    # root passes every permission check, yet /sys/kernel takes no new file; the reason is in
    # words, as the system gives it ("Permission denied", "Read-only file system")
    reason = r"\([A-Z][a-z -]+\)$"
    with pytest.raises(ExportError, match=r"the folder /sys/kernel is not writable " + reason):
        check_writable("/sys/kernel/tune.mid")


def test_a_folder_where_the_file_should_be_is_refused_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "tune.mid").mkdir()
    with pytest.raises(ExportError, match=r"tune.mid: it is a folder, not a regular file; give"):
        check_writable(tmp_path / "tune.mid")
    check_writable(tmp_path / "new.mid")  # a new file in a folder that takes one
    assert sorted(path.name for path in tmp_path.iterdir()) == ["tune.mid"]  # nothing left
