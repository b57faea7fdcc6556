"""The tunesmith command: compose from the shell; errors are one line and exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mido
import pytest


def tunesmith(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tunesmith.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--notes", "A H C#"], "unknown note name 'H'"),
        (["--meter", "7/0"], "received '7/0'"),
        (["--bars", "0"], "bars must be between 1 and 256"),
        (["--tempo", "-5"], "tempo must be between"),
        (["--key", "D", "--mode", "klingon"], "unknown mode 'klingon'"),
        (["--low", "A5", "--high", "A3"], "inverted"),
        (["--instrument", "kazooo"], "unknown instrument 'kazooo'"),
        (["-o", "/no/such/folder/tune.mid"], "the folder /no/such/folder does not exist"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_status_2(args: list[str], message: str) -> None:
    result = tunesmith("compose", *args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("tunesmith: error: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.model
def test_compose_writes_midi_audio_and_text(tmp_path: Path) -> None:
    result = tunesmith(
        "compose",
        "--notes",
        "A B C# F# G",
        "--meter",
        "6/8",
        "--bars",
        "2",
        "--tempo",
        "112",
        "--instrument",
        "flute",
        "--seed",
        "7",
        "-o",
        "jig.mid",
        "--audio",
        "jig.wav",
        "--text",
        "jig.txt",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (tmp_path / "jig.txt").read_text().strip()
    assert "2 bars of 6/8 on local" in result.stderr
    midi = mido.MidiFile(tmp_path / "jig.mid")
    assert any(m.type == "program_change" and m.program == 73 for m in midi.tracks[1])
    assert (tmp_path / "jig.wav").read_bytes()[:4] == b"RIFF"
