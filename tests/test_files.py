"""Files: text is read as UTF-8 or refused with the reason; a write is whole or not at all."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tunesmith import ExportError, RequestError
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
    # root passes every permission check, yet /sys/kernel takes no new file
    with pytest.raises(ExportError, match=r"the folder /sys/kernel is not writable"):
        check_writable("/sys/kernel/tune.mid")


def test_a_folder_where_the_file_should_be_is_refused_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "tune.mid").mkdir()
    with pytest.raises(ExportError, match=r"tune.mid: it is a folder, not a regular file; give"):
        check_writable(tmp_path / "tune.mid")
    check_writable(tmp_path / "new.mid")  # a new file in a folder that takes one
    assert sorted(path.name for path in tmp_path.iterdir()) == ["tune.mid"]  # nothing left
