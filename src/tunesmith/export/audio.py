"""Audio through FluidSynth, in-process with pyfluidsynth, and soundfont discovery.

One synthesizer with its soundfont loaded is kept per process (per soundfont, sample rate
and effects) and reused for every render. No audio driver is started: samples are pulled
from the synthesizer while the MIDI events are played into it at their sample positions.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import threading
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mido
import numpy as np
import numpy.typing as npt

from tunesmith.errors import DependencyError, ExportError, SoundfontError
from tunesmith.export.midi import write_atomically

__all__ = ["find_soundfont", "render_audio", "soundfont_candidates", "wav_bytes", "write_audio"]

SYSTEM_SOUNDFONTS = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
    Path("/usr/share/soundfonts/FluidR3_GM.sf2"),
    Path("/usr/share/soundfonts/default.sf2"),
)
SYSTEM_SOUNDFONT_FOLDERS = (Path("/usr/share/soundfonts"), Path("/usr/share/sounds/sf3"))
SILENCE = 1e-3
"""Samples below this (-60 dBFS) count as silence when trimming the end (above the dither)."""
_FIX = (
    "install a General MIDI soundfont with `apt-get install fluid-soundfont-gm`, put a .sf2 "
    "or .sf3 in ./soundfonts/, set TUNESMITH_SOUNDFONT, or pass soundfont="
)


def _project_folder() -> Path:
    return Path(os.environ.get("TUNESMITH_SOUNDFONT_DIR") or Path.cwd() / "soundfonts")


def _fonts_in(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in {".sf2", ".sf3"})


def soundfont_candidates() -> list[tuple[str, Path]]:
    """Every soundfont the search would consider, in order, with where it came from."""
    found = []
    if value := os.environ.get("TUNESMITH_SOUNDFONT"):
        found.append(("TUNESMITH_SOUNDFONT", Path(value)))
    found += [("soundfonts folder", path) for path in _fonts_in(_project_folder())]
    found += [("system", path) for path in SYSTEM_SOUNDFONTS if path.is_file()]
    for folder in SYSTEM_SOUNDFONT_FOLDERS:
        found += [("system", path) for path in _fonts_in(folder) if path not in SYSTEM_SOUNDFONTS]
    return found


def find_soundfont(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The soundfont to use: ``explicit``, then ``$TUNESMITH_SOUNDFONT``, then
    ``./soundfonts/`` (or ``$TUNESMITH_SOUNDFONT_DIR``), then the system's.

    A path given explicitly or in the environment must exist.

    Raises
    ------
    SoundfontError
        Naming every place that was tried and how to install one.
    """  # noqa: D205 - the search order reads best as one sentence
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise SoundfontError(f"soundfont {path} does not exist; {_FIX}")
        return path
    if value := os.environ.get("TUNESMITH_SOUNDFONT"):
        if not Path(value).is_file():
            raise SoundfontError(
                f"TUNESMITH_SOUNDFONT={value} does not exist; "
                "point it at a .sf2/.sf3 file or unset it"
            )
        return Path(value)
    candidates = soundfont_candidates()
    if candidates:
        return candidates[0][1]
    tried = [f"{_project_folder()}/*.sf2|*.sf3", *map(str, SYSTEM_SOUNDFONTS)]
    tried += [f"{folder}/*.sf2|*.sf3" for folder in SYSTEM_SOUNDFONT_FOLDERS]
    raise SoundfontError(
        "no soundfont found; tried TUNESMITH_SOUNDFONT (unset), " + ", ".join(tried) + f"; {_FIX}"
    )


def _import_fluidsynth() -> Any:
    try:
        # pyfluidsynth prints where it found the library when $CI is set; keep stdout clean
        with contextlib.redirect_stdout(io.StringIO()):
            import fluidsynth  # noqa: PLC0415 - optional native library, loaded on first render
    except (ImportError, OSError) as error:
        raise DependencyError(
            f"FluidSynth is not available ({error})",
            hint="install it with `apt-get install libfluidsynth3` and `pip install pyfluidsynth`",
        ) from None
    return fluidsynth


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence FluidSynth's C-level messages (e.g. about a corrupt soundfont)."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class _Synth:
    """A FluidSynth synthesizer with one soundfont loaded."""

    def __init__(self, soundfont: Path, sample_rate: int, effects: bool) -> None:
        fluidsynth = _import_fluidsynth()
        flag = 1 if effects else 0
        self.lock = threading.Lock()
        self.sample_rate = sample_rate
        with _quiet_stderr():
            self.synth = fluidsynth.Synth(
                gain=1.0,
                samplerate=float(sample_rate),
                **{"synth.reverb.active": flag, "synth.chorus.active": flag},
            )
            self.font = self.synth.sfload(str(soundfont))
        if self.font < 0:
            self.synth.delete()
            raise SoundfontError(
                f"FluidSynth cannot load the soundfont {soundfont}: it is not a valid .sf2/.sf3 "
                f"file; {_FIX}"
            )

    def render(self, midi: mido.MidiFile, tail_seconds: float) -> npt.NDArray[np.float32]:
        synth, rate = self.synth, self.sample_rate
        with self.lock:
            synth.system_reset()
            synth.get_samples(rate // 2)  # let the previous render's reverb die away
            for channel in range(16):
                synth.program_select(channel, self.font, 128 if channel == 9 else 0, 0)
            chunks, rendered, now = [], 0, 0.0
            for message in midi:  # mido yields messages with times in seconds
                now += message.time
                due = round(now * rate)
                if due > rendered:
                    chunks.append(synth.get_samples(due - rendered))
                    rendered = due
                if message.type == "note_on" and message.velocity > 0:
                    synth.noteon(message.channel, message.note, message.velocity)
                elif message.type in {"note_off", "note_on"}:
                    synth.noteoff(message.channel, message.note)
                elif message.type == "program_change":
                    bank = 128 if message.channel == 9 else 0
                    synth.program_select(message.channel, self.font, bank, message.program)
                elif message.type == "control_change":
                    synth.cc(message.channel, message.control, message.value)
            chunks.append(synth.get_samples(round(tail_seconds * rate)))
        samples = np.concatenate(chunks).astype(np.float32).reshape(-1, 2) / 32768.0
        loud = np.flatnonzero(np.abs(samples).max(axis=1) > SILENCE)
        end = max(round(now * rate), int(loud[-1]) + 1 if loud.size else 0)
        return samples[:end]


@functools.cache
def _synth(soundfont: Path, sample_rate: int, effects: bool) -> _Synth:
    return _Synth(soundfont, sample_rate, effects)


def render_audio(
    midi: bytes,
    *,
    soundfont: Path,
    sample_rate: int = 44100,
    effects: bool = True,
    tail_seconds: float = 1.5,
) -> npt.NDArray[np.float32]:
    """Render a MIDI file to stereo samples, shape (frames, 2), full scale 1.0.

    The release and reverb tail (up to ``tail_seconds``) is kept, silence after it is
    trimmed. ``effects`` switches FluidSynth's reverb and chorus.
    """
    if not 8000 <= sample_rate <= 192000:
        raise ExportError(f"sample_rate must be 8000-192000 Hz (received {sample_rate})")
    try:
        parsed = mido.MidiFile(file=io.BytesIO(midi))
    except (OSError, ValueError, EOFError) as error:
        raise ExportError(f"not a readable MIDI file: {error}") from None
    return _synth(soundfont.resolve(), sample_rate, effects).render(parsed, tail_seconds)


def _pcm(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.int16]:
    return (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")


def wav_bytes(samples: npt.NDArray[np.float32], sample_rate: int) -> bytes:
    """Stereo samples as a 16-bit WAV file."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(_pcm(samples).tobytes())
    return buffer.getvalue()


AUDIO_FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG"}


def write_audio(samples: npt.NDArray[np.float32], path: Path, sample_rate: int) -> Path:
    """Write stereo samples as 16-bit WAV, or FLAC or Ogg Vorbis (through soundfile)."""
    suffix = path.suffix.lower()
    if suffix not in AUDIO_FORMATS:
        raise ExportError(f"cannot write {path}: audio files must end in .wav, .flac or .ogg")
    if suffix == ".wav":
        return write_atomically(path, wav_bytes(samples, sample_rate))
    try:
        import soundfile  # noqa: PLC0415 - optional, for compressed formats
    except (ImportError, OSError):
        raise ExportError(
            f"cannot write {path}: {AUDIO_FORMATS[suffix]} needs soundfile (pip install soundfile)"
        ) from None
    buffer = io.BytesIO()
    data = _pcm(samples) if suffix == ".flac" else np.clip(samples, -1.0, 1.0)
    soundfile.write(buffer, data, sample_rate, format=AUDIO_FORMATS[suffix])
    return write_atomically(path, buffer.getvalue())
