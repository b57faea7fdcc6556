"""Audio through FluidSynth, in-process with pyfluidsynth, and soundfont discovery.

One synthesizer with its soundfont loaded is kept per process for each soundfont and
sample rate, and reused by every render. No audio driver is started: the MIDI events are
played into the synthesizer at their sample positions while samples are pulled from it.
FluidSynth's own messages go to the ``tunesmith.io.audio`` logger (at DEBUG), not to
the terminal.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import glob
import io
import logging
import math
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import mido
import numpy as np
import numpy.typing as npt
import soundfile

from tunesmith.errors import DependencyError, ExportError, RequestError, SoundfontError
from tunesmith.io.files import write_atomically

__all__ = [
    "AUDIO_FORMATS",
    "PEAK_DBFS",
    "SYSTEM_SOUNDFONTS",
    "audio_bytes",
    "audio_format",
    "find_soundfont",
    "load_soundfont",
    "render_audio",
    "soundfont_candidates",
    "write_audio",
]

logger = logging.getLogger(__name__)

SYSTEM_SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/soundfonts/*.sf2",
    "/usr/share/sounds/sf3/*.sf3",
)
"""Where the system's soundfonts are looked for, in order (glob patterns)."""
SOUNDFONT_SUFFIXES = (".sf2", ".sf3")
AUDIO_FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG"}
"""Audio file suffixes :func:`write_audio` writes, and the format each names."""
SILENCE = 1e-3
"""Samples below this (-60 dBFS) count as silence, well above FluidSynth's dither."""
SAMPLE_RATES = (8000, 96000)
"""The sample rates FluidSynth accepts, in Hz."""
PEAK_DBFS = -1.0
"""Where a render's loudest sample lands: 1 dB below full scale, loud and never clipped."""
MAX_RENDER_SECONDS = 15 * 60
"""The longest MIDI file render_audio plays: 15 minutes (at 44.1 kHz, 300 MB of samples)."""
_FIX = (
    "install a General MIDI soundfont with `apt-get install fluid-soundfont-gm`, put a .sf2 "
    "or .sf3 file in the soundfonts folder, set TUNESMITH_SOUNDFONT, or pass soundfont="
)
_INSTALL_FLUIDSYNTH = (
    "install it with `apt-get install libfluidsynth3` (the library) and "
    "`pip install pyfluidsynth` (the binding)"
)
_DRUM_CHANNEL, _DRUM_BANK = 9, 128
_FLUSH_BLOCK, _FLUSH_LIMIT_SECONDS = 4096, 10


# -- finding a soundfont ---------------------------------------------------------------


def _soundfont_folder() -> Path:
    """The project's soundfont folder: $TUNESMITH_SOUNDFONT_DIR, else ./soundfonts."""
    return Path(os.environ.get("TUNESMITH_SOUNDFONT_DIR") or Path.cwd() / "soundfonts")


def _folder_fonts(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.iterdir()
        if path.suffix.lower() in SOUNDFONT_SUFFIXES and path.is_file()
    )


def _matches(pattern: str) -> list[Path]:
    return [path for path in map(Path, sorted(glob.glob(pattern))) if path.is_file()]


def soundfont_candidates(*, system: Sequence[str] = SYSTEM_SOUNDFONTS) -> list[tuple[str, Path]]:
    """Every soundfont the search would consider, in order, with where it came from.

    ``system`` replaces the system's places (glob patterns), like ``shutil.which``'s
    ``path``.
    """
    found: list[tuple[str, Path]] = []
    if value := os.environ.get("TUNESMITH_SOUNDFONT"):
        found.append(("TUNESMITH_SOUNDFONT", Path(value)))
    found += [("soundfonts folder", path) for path in _folder_fonts(_soundfont_folder())]
    for pattern in system:
        found += [("system", path) for path in _matches(pattern) if ("system", path) not in found]
    return found


def find_soundfont(
    explicit: str | os.PathLike[str] | None = None, *, system: Sequence[str] = SYSTEM_SOUNDFONTS
) -> Path:
    """The soundfont to render with.

    The search order: ``explicit``; ``$TUNESMITH_SOUNDFONT``; the project's soundfont
    folder (``$TUNESMITH_SOUNDFONT_DIR``, else ``./soundfonts``), its first ``*.sf2`` or
    ``*.sf3``; then the system's places, :data:`SYSTEM_SOUNDFONTS` (or ``system``).
    A path given explicitly or in the environment must exist: a typo is an error, not a
    reason to quietly use another soundfont.

    Raises
    ------
    SoundfontError
        Naming the missing path, or every place tried and how to install a soundfont.
    """
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise SoundfontError(
                f"soundfont {path} does not exist (given as soundfont=); "
                "pass the path of a .sf2 or .sf3 file"
            )
        return path
    if value := os.environ.get("TUNESMITH_SOUNDFONT"):
        if not Path(value).is_file():
            raise SoundfontError(
                f"TUNESMITH_SOUNDFONT={value} does not exist; "
                "point it at a .sf2 or .sf3 file, or unset it"
            )
        return Path(value)
    if candidates := soundfont_candidates(system=system):
        return candidates[0][1]
    tried = ["soundfont= (not given)", "TUNESMITH_SOUNDFONT (not set)"]
    tried += [f"{_soundfont_folder() / '*'}{suffix}" for suffix in SOUNDFONT_SUFFIXES]
    tried += system
    raise SoundfontError(f"no soundfont found; tried {', '.join(tried)}; {_FIX}")


# -- the synthesizer --------------------------------------------------------------------


def _import_fluidsynth() -> Any:
    """pyfluidsynth, loaded on first use (it opens libfluidsynth when imported)."""
    try:
        # pyfluidsynth prints where it found the library when $CI is set; keep stdout clean
        with contextlib.redirect_stdout(io.StringIO()):
            import fluidsynth  # noqa: PLC0415 - optional native library, loaded on first render
    except (ImportError, OSError) as error:
        raise DependencyError(
            f"FluidSynth is not available ({error})", hint=_INSTALL_FLUIDSYNTH
        ) from error
    _route_fluidsynth_log(fluidsynth)
    return fluidsynth


_LogFunction = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
_FLUIDSYNTH_LEVELS = ("panic", "error", "warning", "info", "debug")
_captured = threading.local()


def _on_fluidsynth_log(level: int, message: bytes | None, _: object) -> None:
    text = (message or b"").decode("utf-8", "replace").strip()
    name = _FLUIDSYNTH_LEVELS[level] if 0 <= level < len(_FLUIDSYNTH_LEVELS) else str(level)
    logger.debug("fluidsynth %s: %s", name, text)
    if level <= 1 and (errors := getattr(_captured, "errors", None)) is not None:
        errors.append(text)


_log_callback = _LogFunction(_on_fluidsynth_log)  # kept alive for as long as C may call it


@functools.cache
def _route_fluidsynth_log(fluidsynth: Any) -> None:
    """Send FluidSynth's messages to :data:`logger` instead of stdout and stderr (once)."""
    library = getattr(fluidsynth, "_fl", None)
    if library is None or not hasattr(library, "fluid_set_log_function"):
        return  # an unknown binding: its messages stay where FluidSynth prints them
    prototype = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_int, _LogFunction, ctypes.c_void_p)
    set_log_function = prototype(("fluid_set_log_function", library))
    for level in range(len(_FLUIDSYNTH_LEVELS)):
        set_log_function(level, _log_callback, None)


@contextlib.contextmanager
def _fluidsynth_errors() -> Iterator[list[str]]:
    """Collect the errors FluidSynth reports on this thread inside the block."""
    errors: list[str] = []
    _captured.errors = errors
    try:
        yield errors
    finally:
        _captured.errors = None


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence C-level stderr for the libraries below FluidSynth's logger.

    libinstpatch prints glib warnings about a corrupt soundfont straight to stderr.
    """
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class _Synth:
    """A FluidSynth synthesizer with one soundfont loaded, rendering one file at a time."""

    def __init__(self, soundfont: Path, sample_rate: int) -> None:
        fluidsynth = _import_fluidsynth()
        self.lock = threading.Lock()
        self.sample_rate = sample_rate
        with _fluidsynth_errors() as errors, _quiet_stderr():
            self.synth = fluidsynth.Synth(samplerate=float(sample_rate))
            self.font: int = self.synth.sfload(str(soundfont))
        if self.font < 0:
            self.synth.delete()
            reason = f" ({errors[0]})" if errors else ""
            raise SoundfontError(
                f"FluidSynth cannot load the soundfont {soundfont}: it is not a valid .sf2 or "
                f".sf3 file{reason}; {_FIX}"
            )

    def _reset(self, gain: float, reverb: bool) -> None:
        """Forget the previous render: notes, programs, controllers, the reverb's tail."""
        synth = self.synth
        synth.system_reset()  # stops voices, resets channels, but leaves the reverb ringing
        limit = _FLUSH_LIMIT_SECONDS * self.sample_rate
        for _ in range(0, limit, _FLUSH_BLOCK):
            block = synth.get_samples(_FLUSH_BLOCK).astype(np.int32)  # abs(-32768) fits
            if np.abs(block).max() <= SILENCE * 32768:
                break
        # both are live settings in FluidSynth 2: changing them applies at once
        synth.setting("synth.gain", float(gain))
        synth.setting("synth.reverb.active", int(reverb))
        synth.setting("synth.chorus.active", int(reverb))
        for channel in range(16):
            self._select(channel, 0)

    def _select(self, channel: int, program: int) -> None:
        bank = _DRUM_BANK if channel == _DRUM_CHANNEL else 0
        if self.synth.program_select(channel, self.font, bank, program) < 0:
            logger.debug("soundfont has no bank %d program %d; keeping the last", bank, program)

    def render(
        self, midi: mido.MidiFile, gain: float, reverb: bool, tail_seconds: float
    ) -> npt.NDArray[np.float32]:
        synth, rate = self.synth, self.sample_rate
        with self.lock:
            self._reset(gain, reverb)
            chunks: list[npt.NDArray[np.int16]] = []
            rendered, seconds = 0, 0.0
            for message in midi:  # mido plays the merged tracks with times in seconds
                seconds += message.time
                due = round(seconds * rate)
                if due > rendered:
                    chunks.append(synth.get_samples(due - rendered))
                    rendered = due
                self._play(message)
            end = rendered
            if tail := round(tail_seconds * rate):
                chunks.append(synth.get_samples(tail))
        pcm = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
        samples = pcm.reshape(-1, 2).astype(np.float32) / np.float32(32768)
        loud = np.flatnonzero(np.abs(samples).max(axis=1) > SILENCE)
        return samples[: max(end, int(loud[-1]) + 1 if loud.size else 0)]

    def _play(self, message: mido.Message | mido.MetaMessage) -> None:
        synth = self.synth
        if message.type == "note_on" and message.velocity > 0:
            synth.noteon(message.channel, message.note, message.velocity)
        elif message.type in {"note_on", "note_off"}:
            synth.noteoff(message.channel, message.note)
        elif message.type == "program_change":
            self._select(message.channel, message.program)
        elif message.type == "control_change":
            synth.cc(message.channel, message.control, message.value)
        elif message.type == "pitchwheel":
            synth.pitch_bend(message.channel, message.pitch)


@functools.cache
def _synth(soundfont: Path, sample_rate: int) -> _Synth:
    return _Synth(soundfont, sample_rate)


_synths_lock = threading.Lock()


def load_soundfont(
    explicit: str | os.PathLike[str] | None = None, *, sample_rate: int = 44100
) -> Path:
    """Find the soundfont (see :func:`find_soundfont`) and load it now, for renders to reuse.

    For checking before any work is done that audio can be rendered.

    Raises
    ------
    SoundfontError
        If no soundfont is found or FluidSynth cannot load it.
    DependencyError
        If libfluidsynth or pyfluidsynth is missing.
    """
    path = find_soundfont(explicit)
    _import_fluidsynth()
    with _synths_lock:
        _synth(path.resolve(), sample_rate)
    return path


def render_audio(
    midi: bytes,
    *,
    soundfont: str | os.PathLike[str],
    sample_rate: int = 44100,
    gain: float = 0.5,
    reverb: bool = True,
    tail_seconds: float = 1.5,
    peak_dbfs: float | None = PEAK_DBFS,
) -> npt.NDArray[np.float32]:
    """Render a MIDI file to stereo samples with FluidSynth, normalised to a peak level.

    Parameters
    ----------
    midi:
        A Standard MIDI File's bytes.
    soundfont:
        A General MIDI ``.sf2``/``.sf3`` file; see :func:`find_soundfont`.
    sample_rate:
        In Hz, 8000-96000.
    gain:
        FluidSynth's master gain, 0-10; 0.5 leaves headroom for chords. It sets the level
        only with ``peak_dbfs=None``.
    reverb:
        FluidSynth's reverb and chorus.
    tail_seconds:
        How long the last notes may ring (release and reverb) after the file ends;
        silence after the tail dies away is trimmed.
    peak_dbfs:
        The level of the loudest sample, in dB below full scale: the render is scaled to
        it, so every file is as loud as it can be without clipping (FluidSynth alone
        peaks around -18 dBFS). None keeps FluidSynth's level.

    Returns
    -------
    numpy.ndarray
        float32 samples, shape (frames, 2), full scale 1.0.

    Raises
    ------
    SoundfontError
        If the soundfont does not exist or FluidSynth cannot load it.
    DependencyError
        If libfluidsynth or pyfluidsynth is missing.
    ExportError
        If the MIDI file cannot be read or lasts more than :data:`MAX_RENDER_SECONDS`.
    """
    _check(
        SAMPLE_RATES[0] <= sample_rate <= SAMPLE_RATES[1],
        f"sample_rate must be {SAMPLE_RATES[0]}-{SAMPLE_RATES[1]} Hz (received {sample_rate})",
    )
    _check(0 <= gain <= 10, f"gain must be between 0 and 10 (received {gain})")
    _check(
        math.isfinite(tail_seconds) and tail_seconds >= 0,
        f"tail_seconds must be 0 or more (received {tail_seconds})",
    )
    _check(
        peak_dbfs is None or (math.isfinite(peak_dbfs) and peak_dbfs <= 0),
        f"peak_dbfs must be 0 or below (dB below full scale), or None (received {peak_dbfs})",
    )
    _import_fluidsynth()  # first, so that a missing FluidSynth is reported as such
    path = Path(soundfont)
    if not path.is_file():
        raise SoundfontError(f"soundfont {path} does not exist; {_FIX}")
    try:
        parsed = mido.MidiFile(file=io.BytesIO(midi))
    except (OSError, EOFError, ValueError, KeyError) as error:
        raise ExportError(f"cannot render: not a readable MIDI file ({error})") from error
    if parsed.type == 2:
        raise ExportError("cannot render a type-2 MIDI file (independent sequences); use 0 or 1")
    if (seconds := parsed.length) > MAX_RENDER_SECONDS:
        raise ExportError(
            f"cannot render: the MIDI file lasts {seconds / 60:,.0f} minutes; tunesmith renders "
            f"up to {MAX_RENDER_SECONDS // 60} minutes (a corrupt delta time or tempo makes a "
            "file that long; otherwise cut it into shorter files)"
        )
    with _synths_lock:
        synth = _synth(path.resolve(), sample_rate)
    samples = synth.render(parsed, gain, reverb, tail_seconds)
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    if peak_dbfs is None or peak <= SILENCE:  # nothing sounds: nothing to scale
        return samples
    return samples * np.float32(10 ** (peak_dbfs / 20) / peak)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise RequestError(message)


# -- audio files ------------------------------------------------------------------------


def _pcm(samples: npt.NDArray[Any]) -> npt.NDArray[np.int16]:
    """16-bit samples: int16 as they are, floats (full scale 1.0) scaled and clipped."""
    if samples.ndim != 2 or samples.shape[1] != 2:
        raise RequestError(f"samples must have shape (frames, 2) (received {samples.shape})")
    if samples.dtype == np.int16:
        return samples.astype("<i2", copy=False)
    scaled = np.rint(np.asarray(samples, dtype=np.float64) * 32768)
    return np.clip(scaled, -32768, 32767).astype("<i2")


def audio_format(path: str | os.PathLike[str]) -> str:
    """The format an audio file's suffix asks for ("WAV", "FLAC", "OGG"), if it can be written.

    Raises
    ------
    ExportError
        For another suffix, naming the supported ones.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in AUDIO_FORMATS:
        raise ExportError(
            f"cannot write {target}: audio files must end in {', '.join(AUDIO_FORMATS)} "
            f"(received {suffix or 'no suffix'!r})"
        )
    return AUDIO_FORMATS[suffix]


_WRITE_BLOCK = 16384
"""Frames written to soundfile at a time."""


def write_audio(samples: npt.NDArray[Any], path: str | os.PathLike[str], sample_rate: int) -> Path:
    """Write stereo samples (float, full scale 1.0, or int16) as a 16-bit audio file.

    The suffix picks the format: ``.wav``, ``.flac`` or ``.ogg`` (Ogg Vorbis), written by
    soundfile (libsndfile). The write is atomic.

    Raises
    ------
    ExportError
        For another suffix (naming the supported ones), or a file that cannot be written.
    """
    target = Path(path)
    return write_atomically(target, audio_bytes(samples, sample_rate, audio_format(target)))


def audio_bytes(samples: npt.NDArray[Any], sample_rate: int, kind: str = "WAV") -> bytes:
    """Stereo samples (float, full scale 1.0, or int16) as a 16-bit audio file's bytes.

    ``kind`` is ``"WAV"``, ``"FLAC"`` or ``"OGG"`` (Ogg Vorbis, about a tenth of the WAV's
    size), as :data:`AUDIO_FORMATS` names them.
    """
    pcm = _pcm(samples)
    buffer = io.BytesIO()
    data = pcm if kind != "OGG" else pcm.astype(np.float32) / 32768  # Vorbis takes floats
    subtype = "VORBIS" if kind == "OGG" else "PCM_16"
    with soundfile.SoundFile(
        buffer, "w", sample_rate, data.shape[1], subtype=subtype, format=kind
    ) as sound:
        # In blocks: libvorbis takes a whole write on the stack, and a minute or more of
        # audio in one write overflows it (a segmentation fault, libsndfile issue 1095).
        for start in range(0, len(data), _WRITE_BLOCK):
            sound.write(data[start : start + _WRITE_BLOCK])
    return buffer.getvalue()
