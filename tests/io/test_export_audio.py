"""Audio through FluidSynth: real renders with Debian's General MIDI soundfont (FluidR3_GM).

The first render loads the soundfont (a fraction of a second); later renders reuse the
synthesizer, so these tests keep their tunes short and render a few seconds each.
"""

from __future__ import annotations

import io
import logging
import sys
import wave
from pathlib import Path
from typing import Any

import mido
import numpy as np
import numpy.typing as npt
import pytest
import soundfile

from tunesmith import DependencyError, ExportError, RequestError, SoundfontError
from tunesmith.io.audio import find_soundfont, render_audio, soundfont_candidates, write_audio
from tunesmith.io.midi import midi_bytes
from tunesmith.model.notation import parse_tune
from tunesmith.model.score import Header, Score, Tune

RATE = 44100
FLUIDR3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
TUNE = parse_tune("A4:q B4:q C#5:q D5:q | E5:h A4:h |")  # 8 quarters: 4 s at 120 qpm
TUNE_SECONDS = 4.0

pytestmark = pytest.mark.skipif(not FLUIDR3.is_file(), reason="apt-get install fluid-soundfont-gm")


def midi(tune: Tune, program: int = 73, tempo: float = 120) -> bytes:
    return midi_bytes(Score.of_tune(tune, Header("4/4", tempo=tempo), program=program))


def render(program: int = 73, text: str | None = None, **options: Any) -> npt.NDArray[np.float32]:
    tune = TUNE if text is None else parse_tune(text)
    return render_audio(midi(tune, program), soundfont=FLUIDR3, **options)


def rms(samples: npt.NDArray[np.float32]) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


# -- rendering ------------------------------------------------------------------------------


def test_a_render_is_non_silent_float_stereo() -> None:
    samples = render()
    assert samples.dtype == np.float32
    assert samples.ndim == 2
    assert samples.shape[1] == 2
    assert 0.02 < np.abs(samples).max() <= 1.0


def test_the_wav_file_is_16_bit_stereo_at_44_1_khz_as_long_as_the_tune_plus_its_tail(
    tmp_path: Path,
) -> None:
    path = write_audio(render(tail_seconds=1.5), tmp_path / "tune.wav", RATE)
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, RATE)
        seconds = wav.getnframes() / RATE
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    # the release rings on after the last note, and is cut when it falls silent
    assert TUNE_SECONDS + 0.1 < seconds <= TUNE_SECONDS + 1.5 + 0.01
    assert np.abs(frames).max() > 1000


def test_without_a_tail_the_render_is_exactly_as_long_as_the_tune() -> None:
    samples = render(tail_seconds=0.0)
    assert len(samples) == TUNE_SECONDS * RATE


def test_the_tempo_sets_the_length() -> None:
    fast = render_audio(midi(TUNE, tempo=240), soundfont=FLUIDR3, tail_seconds=0.0)
    assert len(fast) == TUNE_SECONDS / 2 * RATE


def test_trailing_silence_is_trimmed_but_the_release_is_kept() -> None:
    samples = render(tail_seconds=5.0)
    assert TUNE_SECONDS < len(samples) / RATE < TUNE_SECONDS + 5.0  # the tail died out early
    assert np.abs(samples[-RATE // 100 :]).max() > 0  # the file ends where the sound ends


def test_rests_are_silent_and_notes_sound_where_the_file_puts_them() -> None:
    samples = render(text="r:h A4:h |", reverb=False, tail_seconds=0.0)
    half = len(samples) // 2
    assert np.abs(samples[: half - RATE // 100]).max() < 1e-3  # the rest: silence
    assert rms(samples[half:]) > 0.01  # then the note


def test_a_render_does_not_hear_the_one_before() -> None:
    render(program=48, text="[C4 E4 G4 C5]:w |", gain=2.0, tail_seconds=0.0)  # loud strings
    after = render(text="r:w |", tail_seconds=0.0)
    assert np.abs(after).max() < 1e-3  # no strings or reverb left in the reused synthesizer


def test_a_different_program_gives_a_measurably_different_spectrum() -> None:
    def spectrum(program: int) -> npt.NDArray[np.float64]:
        mono = render(program, reverb=False)[: 2 * RATE].mean(axis=1)
        magnitude = np.abs(np.fft.rfft(mono))
        return np.asarray(magnitude / magnitude.sum(), dtype=np.float64)

    flute, trumpet, flute_again = spectrum(73), spectrum(56), spectrum(73)
    different = np.abs(flute - trumpet).sum()  # total variation distance, 0..2
    same = np.abs(flute - flute_again).sum()  # not 0: FluidSynth dithers its 16-bit output
    assert different > 0.3
    assert same < different / 5  # measured: 0.08-0.10 against 1.18


def test_gain_scales_fluidsynths_own_level() -> None:
    quiet = render(gain=0.25, reverb=False, peak_dbfs=None)
    loud = render(gain=1.0, reverb=False, peak_dbfs=None)
    assert rms(loud) / rms(quiet) == pytest.approx(4, rel=0.1)


def dbfs(samples: npt.NDArray[Any]) -> float:
    return float(20 * np.log10(np.abs(samples).max()))


@pytest.mark.parametrize(
    "text",
    ["A4:q B4:q C#5:q D5:q | E5:h A4:h |", "[A3 C#4 E4 A4 C#5 E5]:w | [D4 F#4 A4 D5]:w |"],
    ids=["melody", "chords"],
)
def test_a_render_peaks_at_minus_1_dbfs_whatever_it_plays(text: str) -> None:
    samples = render(text=text)
    assert dbfs(samples) == pytest.approx(-1.0, abs=0.01)
    assert dbfs(render(text=text, peak_dbfs=-6)) == pytest.approx(-6.0, abs=0.01)
    assert dbfs(render(text=text, peak_dbfs=None)) < -6  # FluidSynth alone is quiet


def test_the_wav_file_peaks_at_minus_1_dbfs_without_clipping(tmp_path: Path) -> None:
    path = write_audio(render(gain=10.0), tmp_path / "loud.wav", RATE)  # FluidSynth saturates
    with wave.open(str(path)) as wav:
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    assert 20 * np.log10(np.abs(pcm).max() / 32768) == pytest.approx(-1.0, abs=0.01)
    assert np.abs(pcm).max() < 32767


def test_silence_is_not_scaled_up() -> None:
    samples = render(text="r:w |", tail_seconds=0.5)
    assert np.abs(samples).max() <= 1e-3


def test_the_same_midi_renders_the_same_sound_every_time() -> None:
    first, second = render(reverb=False), render(reverb=False)
    # FluidSynth dithers its 16-bit output, which moves where the fading tail drops below
    # the silence threshold by a few samples
    assert abs(len(first) - len(second)) < RATE // 100
    # oscillator phases carry over inside the reused synthesizer, so compare loudness over
    # 50 ms windows rather than single samples
    window = RATE // 20
    frames = min(len(first), len(second)) // window * window

    def envelope(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        power = np.square(samples[:frames], dtype=np.float64).reshape(-1, window * 2)
        return np.asarray(np.sqrt(power.mean(axis=1)), dtype=np.float64)

    assert np.abs(envelope(first) - envelope(second)).max() < 0.01


def test_fluidsynth_prints_nothing(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    render()
    bad = tmp_path / "bad.sf2"
    bad.write_bytes(b"RIFF" + bytes(200))
    with pytest.raises(SoundfontError):
        render_audio(midi(TUNE), soundfont=bad)
    assert capfd.readouterr() == ("", "")


def test_fluidsynths_complaints_go_to_the_logger_not_the_terminal(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    midi = mido.MidiFile()
    drums = [
        mido.Message("program_change", channel=9, program=20),  # FluidR3 has no drum kit 20
        mido.Message("note_on", channel=9, note=38, velocity=100),
        mido.Message("note_off", channel=9, note=38, time=240),
    ]
    midi.tracks.append(mido.MidiTrack(drums))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    with caplog.at_level(logging.DEBUG, logger="tunesmith.io.audio"):
        samples = render_audio(buffer.getvalue(), soundfont=FLUIDR3, tail_seconds=0.0)
    assert np.abs(samples).max() > 0.01  # the snare of the kit kept from before
    assert "no preset with bank number 128 and preset number 20" in caplog.text
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"sample_rate": 192000}, r"sample_rate must be 8000-96000 Hz \(received 192000\)"),
        ({"gain": -1.0}, r"gain must be between 0 and 10 \(received -1.0\)"),
        ({"tail_seconds": -1.0}, r"tail_seconds must be 0 or more \(received -1.0\)"),
    ],
    ids=["sample rate", "gain", "tail"],
)
def test_options_fluidsynth_cannot_use_are_a_request_error(
    option: dict[str, Any], message: str
) -> None:
    with pytest.raises(RequestError, match=message):
        render(**option)


def test_bytes_that_are_not_midi_are_an_export_error() -> None:
    with pytest.raises(ExportError, match="not a readable MIDI file"):
        render_audio(b"not midi", soundfont=FLUIDR3)


def test_a_missing_fluidsynth_is_a_dependency_error_saying_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "fluidsynth", None)  # as if pyfluidsynth were absent
    with pytest.raises(
        DependencyError, match=r"apt-get install libfluidsynth3.*pip install pyfluidsynth"
    ):
        render()


# -- audio files ----------------------------------------------------------------------------


def test_an_unsupported_audio_format_is_an_export_error_listing_the_supported_ones(
    tmp_path: Path,
) -> None:
    with pytest.raises(ExportError, match=r"must end in .wav, .flac, .ogg \(received '.mp3'\)"):
        write_audio(np.zeros((10, 2), np.float32), tmp_path / "tune.mp3", RATE)
    assert list(tmp_path.iterdir()) == []


def test_an_audio_file_in_a_missing_folder_is_an_export_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"cannot write .*tune.wav: the folder .*nope does not"):
        write_audio(np.zeros((10, 2), np.float32), tmp_path / "nope" / "tune.wav", RATE)
    assert list(tmp_path.iterdir()) == []


def test_wav_samples_are_written_exactly(tmp_path: Path) -> None:
    samples = np.array([[0.0, -1.0], [0.5, 0.25], [2.0, -2.0]], dtype=np.float32)
    path = write_audio(samples, tmp_path / "tune.wav", 22050)
    with wave.open(str(path)) as wav:
        assert wav.getframerate() == 22050
        frames = np.frombuffer(wav.readframes(3), dtype="<i2").reshape(-1, 2)
    assert frames.tolist() == [[0, -32768], [16384, 8192], [32767, -32768]]  # clipped


@pytest.mark.parametrize(("suffix", "magic"), [(".flac", b"fLaC"), (".ogg", b"OggS")])
def test_compressed_audio_goes_through_soundfile(tmp_path: Path, suffix: str, magic: bytes) -> None:
    samples = render(tail_seconds=0.0)
    path = write_audio(samples, tmp_path / f"tune{suffix}", RATE)
    assert path.read_bytes()[:4] == magic
    decoded, rate = soundfile.read(path)
    assert (rate, decoded.shape) == (RATE, samples.shape)


def test_minutes_of_audio_write_as_ogg_vorbis(tmp_path: Path) -> None:
    """A slow air of 32 bars lasts over a minute: one write that long crashed libvorbis."""
    t = np.arange(150 * RATE) / RATE
    tone = 0.3 * np.sin(2 * np.pi * 220 * t)
    samples = np.stack([tone, tone], axis=1)
    path = write_audio(samples, tmp_path / "air.ogg", RATE)
    decoded, rate = soundfile.read(path)
    assert (rate, decoded.shape) == (RATE, samples.shape)
    assert np.abs(decoded[RATE : 2 * RATE] - samples[RATE : 2 * RATE]).max() < 0.05


# -- finding a soundfont --------------------------------------------------------------------


@pytest.fixture
def no_soundfont_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No TUNESMITH_SOUNDFONT, and an empty project soundfont folder."""
    monkeypatch.delenv("TUNESMITH_SOUNDFONT", raising=False)
    folder = tmp_path / "soundfonts"
    folder.mkdir()
    monkeypatch.setenv("TUNESMITH_SOUNDFONT_DIR", str(folder))
    return folder


def test_without_settings_the_system_soundfont_is_found(no_soundfont_settings: Path) -> None:
    assert find_soundfont() == FLUIDR3


def test_a_soundfont_in_the_project_folder_comes_before_the_system_ones(
    no_soundfont_settings: Path,
) -> None:
    own = no_soundfont_settings / "mine.sf3"
    own.write_bytes(b"sfbk")
    (no_soundfont_settings / "notes.txt").write_text("not a soundfont")
    assert find_soundfont() == own
    assert soundfont_candidates()[:2] == [("soundfonts folder", own), ("system", FLUIDR3)]


def test_the_environment_comes_before_the_project_folder(
    monkeypatch: pytest.MonkeyPatch, no_soundfont_settings: Path
) -> None:
    (no_soundfont_settings / "mine.sf2").write_bytes(b"sfbk")
    monkeypatch.setenv("TUNESMITH_SOUNDFONT", str(FLUIDR3))
    assert find_soundfont() == FLUIDR3
    assert find_soundfont(no_soundfont_settings / "mine.sf2") == no_soundfont_settings / "mine.sf2"


def test_a_soundfont_named_in_the_environment_must_exist(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.sf2"
    monkeypatch.setenv("TUNESMITH_SOUNDFONT", str(missing))
    with pytest.raises(SoundfontError, match=rf"TUNESMITH_SOUNDFONT={missing} does not exist"):
        find_soundfont()  # not quietly the system's soundfont instead


def test_a_soundfont_given_explicitly_must_exist() -> None:
    with pytest.raises(SoundfontError, match=r"soundfont /no/such.sf2 does not exist"):
        find_soundfont("/no/such.sf2")


def test_when_no_soundfont_is_found_the_error_names_every_place_tried_and_the_fix(
    no_soundfont_settings: Path, tmp_path: Path
) -> None:
    system = [str(tmp_path / "sf2" / "FluidR3_GM.sf2"), str(tmp_path / "sf3" / "*.sf3")]
    with pytest.raises(SoundfontError) as raised:
        find_soundfont(system=system)
    message = str(raised.value)
    for place in [
        "TUNESMITH_SOUNDFONT (not set)",
        f"{no_soundfont_settings}/*.sf2",
        f"{no_soundfont_settings}/*.sf3",
        *system,
        "apt-get install fluid-soundfont-gm",
        "soundfont=",
    ]:
        assert place in message


def test_a_corrupt_soundfont_is_a_soundfont_error_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sf2"
    bad.write_bytes(b"this is not a soundfont" * 100)
    with pytest.raises(
        SoundfontError, match=rf"cannot load the soundfont {bad}: it is not a valid"
    ):
        render_audio(midi(TUNE), soundfont=bad)


def test_a_missing_soundfont_passed_to_render_audio_is_a_soundfont_error(tmp_path: Path) -> None:
    with pytest.raises(SoundfontError, match=r"soundfont .*gone.sf2 does not exist"):
        render_audio(midi(TUNE), soundfont=tmp_path / "gone.sf2")


# -- scores with parts --------------------------------------------------------------------


def band(*parts: str) -> Score:
    from tunesmith.model.notation import parse

    blocks = {
        "melody": "part: Flute\nrole: melody\nprogram: 73\nA4:q B4:q C#5:q D5:q | E5:h A4:h |",
        "bass": "part: Bass\nrole: bass\nprogram: 32\nA2:h E2:h | A2:w |",
        "drums": "part: Drums\nrole: drums\nkick:q closed-hat:q snare:q closed-hat:q | "
        "kick:q closed-hat:q [snare crash]:h |",
    }
    return parse("meter: 4/4\ntempo: q=120\n\n" + "\n\n".join(blocks[p] for p in parts))


def test_a_drum_part_sounds_the_soundfonts_percussion() -> None:
    drums = render_audio(midi_bytes(band("drums")), soundfont=FLUIDR3, reverb=False)
    assert rms(drums) > 0.01
    onset = np.abs(drums[: RATE // 20]).max()  # the kick on the downbeat: loud at once
    assert onset > 0.05


def test_every_part_of_a_score_sounds() -> None:
    def spectrum(*parts: str) -> npt.NDArray[np.float64]:
        mono = render_audio(midi_bytes(band(*parts)), soundfont=FLUIDR3, reverb=False)
        magnitude = np.abs(np.fft.rfft(mono[: 4 * RATE].mean(axis=1), n=4 * RATE))
        return np.asarray(magnitude / magnitude.sum(), dtype=np.float64)

    everything = spectrum("melody", "bass", "drums")
    for missing in ("melody", "bass", "drums"):
        rest = spectrum(*[p for p in ("melody", "bass", "drums") if p != missing])
        assert np.abs(everything - rest).sum() > 0.1, missing  # each part is heard
