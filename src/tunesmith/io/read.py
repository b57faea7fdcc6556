"""``read_score``: any MIDI, MusicXML, ABC or tunesmith notation file as a :class:`Score`.

The suffix picks the reader and the file's first bytes must agree (a text file named
``.mid`` is refused, not misread). What a file does not say (key, meter, tempo) is
estimated and what the reader changed (quantisation, merged voices, dropped grace notes)
is noted, both in ``score.source``. Every problem is a :class:`~tunesmith.errors.ReadError`
naming the file and what is wrong with it.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from tunesmith.errors import ReadError, TunesmithError
from tunesmith.io.limits import MAX_FILE_BYTES, MAX_SCORE_BARS, MAX_SCORE_NOTES, check_extent
from tunesmith.io.midi_read import open_midi_file, read_midi
from tunesmith.io.music21_read import read_music21
from tunesmith.model.notation import parse
from tunesmith.model.score import Score, Source

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_SCORE_BARS",
    "MAX_SCORE_NOTES",
    "READERS",
    "check_extent",
    "read_midi_file",
    "read_score",
]

READERS = {
    ".mid": "midi",
    ".midi": "midi",
    ".smf": "midi",
    ".musicxml": "musicxml",
    ".xml": "musicxml",
    ".mxl": "musicxml",
    ".abc": "abc",
    ".txt": "text",
    ".tune": "text",
}
"""File suffixes and the format each is read as; any other suffix is read as notation."""


def read_score(path: str | os.PathLike[str]) -> Score:
    """Read a score from a MIDI, MusicXML (``.musicxml``, ``.xml``, ``.mxl``), ABC or notation file.

    MIDI tracks and channels become parts (channel 10: drums), with onsets and lengths
    quantised to the notation's grid; MusicXML parts and ABC voices become parts, their
    chord symbols the harmony lane and their repeat marks the score's repeats. Roles are
    assigned by register: the highest part is the melody, the lowest the bass.

    Raises
    ------
    ReadError
        For a missing, empty, oversized, corrupt or unreadable file, one without notes, or
        a score of more than :data:`MAX_SCORE_BARS` bars or :data:`MAX_SCORE_NOTES` notes.
    """
    source = Path(path)
    data = _read_bytes(source)
    kind = READERS.get(source.suffix.lower(), "text")
    if kind == "midi":
        return read_midi(data, source)
    if source.suffix.lower() == ".mxl" or data[:2] == b"PK":
        return _music21(source, source, "musicxml")
    text = _text(data, source)
    if kind == "musicxml":
        return _music21(text, source, "musicxml")
    if kind == "abc":
        return _music21(text, source, "abc")
    try:
        score = parse(text)
    except TunesmithError as error:
        raise ReadError(source, f"not tunesmith notation: {error}") from error
    notes = sum(len(e.pitches or e.drums) for p in score.parts for b in p.bars for e in b.events)
    check_extent(source, bars=score.bar_count, notes=notes)
    guessed = (
        ()
        if re.search(r"^\s*meter\s*:", text, re.MULTILINE)
        else (f"meter {score.header.meter} (from the bar lengths; the text has no 'meter:' line)",)
    )
    return replace(score, source=Source(str(source), "text", guessed))


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise ReadError(path, "it is a folder; give a score file")
        if size == 0:
            raise ReadError(path, "the file is empty")
        if size > MAX_FILE_BYTES:
            raise ReadError(
                path,
                f"the file is {size / 2**20:.0f} MiB; tunesmith reads scores of up to "
                f"{MAX_FILE_BYTES // 2**20} MiB (is it really a score?)",
            )
        return path.read_bytes()
    except OSError as error:
        raise ReadError(path, error.strerror or str(error)) from error


def read_midi_file(path: str | os.PathLike[str]) -> bytes:
    """A MIDI file's bytes, after the checks of :func:`read_score` (exists, size, is MIDI)."""
    source = Path(path)
    data = _read_bytes(source)
    open_midi_file(data, source)
    return data


def _text(data: bytes, path: Path) -> str:
    if data[:4] == b"MThd":
        raise ReadError(path, "it is a MIDI file; give it a .mid suffix")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ReadError(
            path,
            f"not UTF-8 text (byte 0x{data[error.start]:02x} at position {error.start}); "
            "save it as UTF-8",
        ) from error


def _music21(data: Any, path: Path, kind: str) -> Score:

    return read_music21(data, path, kind)  # type: ignore[arg-type]
