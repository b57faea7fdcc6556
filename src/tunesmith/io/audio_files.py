"""Writing stereo samples as 16-bit audio files: WAV, FLAC or Ogg Vorbis, via soundfile.

:func:`audio_format` reads the format from a file's suffix, :func:`audio_bytes` encodes the
samples, and :func:`write_audio` writes them atomically.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import soundfile

from tunesmith.errors import ExportError, RequestError
from tunesmith.io.files import write_atomically

__all__ = ["AUDIO_FORMATS", "audio_bytes", "audio_format", "write_audio"]

AUDIO_FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG"}
"""Audio file suffixes :func:`write_audio` writes, and the format each names."""


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
