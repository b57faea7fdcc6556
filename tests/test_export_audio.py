"""Audio through FluidSynth: real renders with Debian's General MIDI soundfont."""

from __future__ import annotations

import wave
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from tunesmith import ExportError, SoundfontError
from tunesmith.export.audio import find_soundfont, render_audio, write_audio
from tunesmith.export.midi import MidiSettings, midi_bytes
from tunesmith.notation import parse

RATE = 44100
TUNE = parse("A4:q B4:q C#5:q D5:q | E5:h A4:h |")  # 8 quarters


def settings(program: int) -> MidiSettings:
    return MidiSettings(tempo_qpm=120, numerator=4, denominator=4, program=program, track_name="t")


def render(program: int = 73, **options: object) -> np.ndarray:
    return render_audio(midi_bytes(TUNE, settings(program)), soundfont=find_soundfont(), **options)  # type: ignore[arg-type]


def test_the_render_is_stereo_non_silent_and_as_long_as_the_tune_plus_its_tail() -> None:
    samples = render()
    assert samples.shape[1] == 2
    assert np.abs(samples).max() > 0.05
    seconds = len(samples) / RATE
    assert 4.0 <= seconds <= 4.0 + 1.5 + 0.01  # 8 quarters at 120 qpm, then at most the tail


def test_trailing_silence_is_trimmed_but_the_release_is_kept() -> None:
    samples = render(tail_seconds=3.0)
    assert len(samples) / RATE > 4.0  # the last note's release rings on
    assert np.abs(samples[-RATE // 100 :]).max() > 0  # ...and the file ends where sound ends


def test_a_different_instrument_gives_a_different_spectrum() -> None:
    def spectrum(program: int) -> np.ndarray:
        mono = render(program, effects=False)[: 2 * RATE].mean(axis=1)
        magnitude = np.abs(np.fft.rfft(mono))
        return magnitude / magnitude.sum()

    flute, trumpet = spectrum(73), spectrum(56)
    assert np.abs(flute - trumpet).sum() > 0.3  # total variation distance, 0..2


def test_the_same_midi_renders_the_same_sound_every_time() -> None:
    first, second = render(effects=False), render(effects=False)
    # FluidSynth dithers its 16-bit output, which moves where the fading tail drops below
    # the silence threshold by a few samples
    assert abs(len(first) - len(second)) < RATE // 100
    # oscillator phases carry over inside the reused synthesizer, so compare loudness over
    # 50 ms windows rather than single samples
    window = RATE // 20
    frames = min(len(first), len(second)) // window * window

    def envelope(samples: np.ndarray) -> np.ndarray:
        return np.sqrt((samples[:frames] ** 2).reshape(-1, window * 2).mean(axis=1))

    assert np.abs(envelope(first) - envelope(second)).max() < 0.01


def test_wav_files_are_16_bit_stereo_at_the_sample_rate(tmp_path: Path) -> None:
    path = write_audio(render(), tmp_path / "tune.wav", RATE)
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, RATE)
        assert wav.getnframes() > 4 * RATE


def test_an_unknown_audio_format_is_an_export_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"must end in .wav, .flac or .ogg"):
        write_audio(render(), tmp_path / "tune.mp3", RATE)
    assert list(tmp_path.iterdir()) == []


def test_a_soundfont_given_by_the_environment_must_exist(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TUNESMITH_SOUNDFONT", str(tmp_path / "nowhere.sf2"))
    with pytest.raises(SoundfontError, match=r"TUNESMITH_SOUNDFONT=.*nowhere.sf2 does not exist"):
        find_soundfont()


def test_a_soundfont_in_the_project_folder_comes_before_the_system_ones(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("TUNESMITH_SOUNDFONT", raising=False)
    monkeypatch.setenv("TUNESMITH_SOUNDFONT_DIR", str(tmp_path))
    own = tmp_path / "mine.sf2"
    own.write_bytes(Path(find_soundfont("/usr/share/sounds/sf2/FluidR3_GM.sf2")).read_bytes()[:16])
    assert find_soundfont() == own


def test_when_no_soundfont_is_found_the_error_names_every_place_tried(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import tunesmith.export.audio as audio

    monkeypatch.delenv("TUNESMITH_SOUNDFONT", raising=False)
    monkeypatch.setenv("TUNESMITH_SOUNDFONT_DIR", str(tmp_path))
    monkeypatch.setattr(audio, "SYSTEM_SOUNDFONTS", (tmp_path / "FluidR3_GM.sf2",))
    monkeypatch.setattr(audio, "SYSTEM_SOUNDFONT_FOLDERS", (tmp_path / "sf3",))
    with pytest.raises(
        SoundfontError,
        match=r"no soundfont found; tried .*FluidR3_GM.sf2.*apt-get install fluid-soundfont-gm",
    ):
        find_soundfont()


def test_a_corrupt_soundfont_is_a_soundfont_error_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sf2"
    bad.write_bytes(b"this is not a soundfont" * 100)
    with pytest.raises(SoundfontError, match=r"cannot load the soundfont .*bad.sf2"):
        render_audio(midi_bytes(TUNE, settings(0)), soundfont=bad)


def test_a_missing_soundfont_argument_is_an_error() -> None:
    with pytest.raises(SoundfontError, match=r"soundfont /no/such.sf2 does not exist"):
        find_soundfont("/no/such.sf2")


def test_tempo_changes_the_rendered_length() -> None:
    fast = MidiSettings(tempo_qpm=240, numerator=4, denominator=4, program=73, track_name="t")
    samples = render_audio(midi_bytes(TUNE, fast), soundfont=find_soundfont(), tail_seconds=0.0)
    assert len(samples) / RATE == pytest.approx(float(Fraction(8) / 4), abs=0.01)


@pytest.mark.parametrize(("suffix", "magic"), [(".flac", b"fLaC"), (".ogg", b"OggS")])
def test_compressed_audio_goes_through_soundfile(tmp_path: Path, suffix: str, magic: bytes) -> None:
    path = write_audio(render(), tmp_path / f"tune{suffix}", RATE)
    assert path.read_bytes()[:4] == magic
