"""``tunesmith compose`` with chords and a band, and ``tunesmith harmonise``, from the shell."""

from __future__ import annotations

from pathlib import Path

import pytest

from band_checks import tracks
from cli_process import tunesmith
from tunesmith import read_score


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--key", "D", "--chords", "D H7"], "bar 2 of the chords: unknown chord 'H7'"),
        (["--parts", "melody,tuba"], "unknown part 'tuba'"),
        (["--band", "--instruments", "chords=kazooo"], "the chords part: unknown instrument"),
        (["--instruments", "bass=cello"], "names the part 'bass', which is not asked for"),
    ],
)
def test_bad_band_options_are_one_line_and_exit_status_2(args: list[str], message: str) -> None:
    result = tunesmith("compose", *args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr


def test_harmonise_of_a_missing_file_is_one_line(tmp_path: Path) -> None:
    result = tunesmith("harmonise", "missing.mid", "-o", "band.mid", cwd=tmp_path)
    assert result.returncode == 2
    assert "cannot read missing.mid" in result.stderr


@pytest.mark.model
def test_compose_a_reel_with_auto_chords_and_a_band_to_midi_audio_and_musicxml(
    tmp_path: Path,
) -> None:
    result = tunesmith(
        "compose", "--style", "reel", "--key", "G", "--bars", "8", "--chords", "auto", "--band",
        "--seed", "7", "-o", "reel.mid", "--audio", "reel.wav", "--musicxml", "reel.musicxml",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    found = tracks((tmp_path / "reel.mid").read_bytes())
    assert [track.name for track in found] == [
        "Violin",
        "Acoustic Guitar (steel)",
        "Acoustic Bass",
        "Drums",
    ]
    assert found[-1].channel == 9
    assert (tmp_path / "reel.wav").read_bytes()[:4] == b"RIFF"
    sheet = read_score(tmp_path / "reel.musicxml")
    assert [part.role for part in sheet.parts] == ["melody", "chords", "bass", "drums"]
    assert sheet.harmony
    assert sheet.harmony[0].figure == "G"
