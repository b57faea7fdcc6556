"""write_score and write_files: the suffix picks the format, and each format's options arrive.

From the mutation survivors of io/write.py (issue 24): the options a writer takes (MIDI's
humanize and seed, audio's soundfont and sample rate) must reach it, and their defaults are
the writers' own.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from tunesmith import ExportError, SoundfontError
from tunesmith.io import write
from tunesmith.io.midi import midi_bytes
from tunesmith.io.write import score_audio, write_files, write_score
from tunesmith.model.header import Header
from tunesmith.model.notation import parse_tune
from tunesmith.model.score import Score

FLUIDR3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
needs_fluidr3 = pytest.mark.skipif(
    not FLUIDR3.is_file(), reason="apt-get install fluid-soundfont-gm"
)
SCORE = Score.of_tune(
    parse_tune("A4:q B4:q C#5:q D5:q | E5:h A4:h |"), Header("4/4", tempo=240), program=73
)
SECONDS = 2.0


def test_a_path_without_a_suffix_is_an_export_error_saying_so(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"\(received 'no suffix'\)$"):
        write_score(SCORE, tmp_path / "tune")
    assert list(tmp_path.iterdir()) == []


def test_midi_is_written_as_played_unless_humanize_is_asked(tmp_path: Path) -> None:
    assert write_score(SCORE, tmp_path / "a.mid").read_bytes() == midi_bytes(SCORE)
    (path,) = write_files(SCORE, tmp_path / "b.mid")
    assert path.read_bytes() == midi_bytes(SCORE)


def test_humanized_midi_takes_seed_0_unless_another_is_given(tmp_path: Path) -> None:
    loose = midi_bytes(SCORE, humanize=0.5, seed=0)
    assert loose != midi_bytes(SCORE, humanize=0.5, seed=1) != midi_bytes(SCORE)
    assert write_score(SCORE, tmp_path / "a.mid", humanize=0.5).read_bytes() == loose
    (path,) = write_files(SCORE, tmp_path / "b.mid", humanize=0.5)
    assert path.read_bytes() == loose
    seeded = write_score(SCORE, tmp_path / "c.mid", humanize=0.5, seed=1)
    assert seeded.read_bytes() == midi_bytes(SCORE, humanize=0.5, seed=1)


def test_score_audio_renders_the_scores_midi_at_44_1_khz_unless_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []

    def render(midi: bytes, **options: object) -> np.ndarray:
        calls.append((midi, options))
        return np.zeros((4, 2), np.float32)

    monkeypatch.setattr(write, "render_audio", render)
    score_audio(SCORE, soundfont=FLUIDR3)
    score_audio(SCORE, soundfont=FLUIDR3, sample_rate=22050)
    assert calls == [
        (midi_bytes(SCORE), {"soundfont": FLUIDR3, "sample_rate": 44100}),
        (midi_bytes(SCORE), {"soundfont": FLUIDR3, "sample_rate": 22050}),
    ]


@needs_fluidr3
@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_an_audio_suffix_writes_the_render_at_the_sample_rate_asked(
    tmp_path: Path, suffix: str
) -> None:
    path = write_score(SCORE, tmp_path / f"tune{suffix}", soundfont=FLUIDR3, sample_rate=22050)
    assert path == tmp_path / f"tune{suffix}"
    decoded, rate = soundfile.read(path, dtype="float32")
    assert (rate, decoded.shape[1]) == (22050, 2)
    # two seconds of tune (8 quarters at 240 a minute), and the release's tail
    assert SECONDS < len(decoded) / rate <= SECONDS + 1.6
    assert np.abs(decoded).max() > 0.02


@needs_fluidr3
def test_audio_is_written_at_44_1_khz_by_default(tmp_path: Path) -> None:
    _, rate = soundfile.read(write_score(SCORE, tmp_path / "tune.wav", soundfont=FLUIDR3))
    assert rate == 44100
    (path,) = write_files(SCORE, tmp_path / "tune.flac", soundfont=FLUIDR3)
    assert soundfile.info(str(path)).samplerate == 44100


def test_audio_is_rendered_with_the_soundfont_given(tmp_path: Path) -> None:
    missing = tmp_path / "missing.sf2"
    with pytest.raises(SoundfontError, match=r"missing\.sf2 does not exist"):
        write_score(SCORE, tmp_path / "tune.wav", soundfont=missing)
    with pytest.raises(SoundfontError, match=r"missing\.sf2 does not exist"):
        score_audio(SCORE, soundfont=missing)
    assert list(tmp_path.iterdir()) == []
