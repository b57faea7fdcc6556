"""Audio through FluidSynth, in-process with pyfluidsynth.

One synthesizer with its soundfont loaded is kept per process for each soundfont and
sample rate, and reused by every render. No audio driver is started: the MIDI events are
played into the synthesizer at their sample positions while samples are pulled from it.
FluidSynth's own messages go to the ``tunesmith.io.audio`` logger (at DEBUG), not to
the terminal. Finding a soundfont (:mod:`tunesmith.io.soundfonts`) and writing audio files
(:mod:`tunesmith.io.audio_files`) live apart; their public names are importable from here
too.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import io
import logging
import math
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mido
import numpy as np
import numpy.typing as npt

from tunesmith.errors import DependencyError, ExportError, RequestError, SoundfontError
from tunesmith.io.audio_files import AUDIO_FORMATS, audio_bytes, audio_format, write_audio
from tunesmith.io.soundfonts import (
    INSTALL_SOUNDFONT,
    SYSTEM_SOUNDFONTS,
    find_soundfont,
    soundfont_candidates,
)

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

SILENCE = 1e-3
"""Samples below this (-60 dBFS) count as silence, well above FluidSynth's dither."""
SAMPLE_RATES = (8000, 96000)
"""The sample rates FluidSynth accepts, in Hz."""
PEAK_DBFS = -1.0
"""Where a render's loudest sample lands: 1 dB below full scale, loud and never clipped."""
MAX_RENDER_SECONDS = 15 * 60
"""The longest MIDI file render_audio plays: 15 minutes (at 44.1 kHz, 300 MB of samples)."""
_INSTALL_FLUIDSYNTH = (
    "install it with `apt-get install libfluidsynth3` (the library) and "
    "`pip install pyfluidsynth` (the binding)"
)
_DRUM_CHANNEL, _DRUM_BANK = 9, 128
_FLUSH_BLOCK, _FLUSH_LIMIT_SECONDS = 4096, 10


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
                f".sf3 file{reason}; {INSTALL_SOUNDFONT}"
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
        raise SoundfontError(f"soundfont {path} does not exist; {INSTALL_SOUNDFONT}")
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
