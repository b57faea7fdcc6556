"""How fast a bad file is refused: the seconds from asking to the typed error.

The readers and the renderer check a file's extent before the work it would cost (limits in
``tunesmith.io.limits``): a MIDI file of more notes than a score may hold is refused as it is
read, one hours long before FluidSynth plays it. Five tries each, the median quoted; music21
is imported first, as a process that reads scores has it.
"""

from __future__ import annotations

import statistics
import struct
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import mido
import music21  # noqa: F401 - imported before the clock starts, as any reader has it

from tunesmith import read_score
from tunesmith.errors import TunesmithError
from tunesmith.io.audio import render_audio
from tunesmith.io.limits import MAX_SCORE_NOTES
from tunesmith.io.soundfonts import find_soundfont

TRIES = 5


def many_notes(count: int) -> bytes:
    """A type-0 file of ``count`` sixteenth-note middle Cs, written byte by byte."""
    events = b"\x00\x90\x3c\x40" + b"\x78\x3c\x00\x00\x3c\x40" * (count - 1) + b"\x78\x3c\x00"
    track = events + b"\x00\xff\x2f\x00"
    return (
        b"MThd"
        + struct.pack(">IHHH", 6, 0, 1, 480)
        + b"MTrk"
        + struct.pack(">I", len(track))
        + track
    )


def one_note(length: int) -> bytes:
    """A middle C of ``length`` ticks."""
    midi = mido.MidiFile(type=0)
    midi.tracks.append(
        mido.MidiTrack(
            [
                mido.Message("note_on", note=60, velocity=64, time=0),
                mido.Message("note_off", note=60, time=length),
            ]
        )
    )
    path = Path(tempfile.mkdtemp()) / "long.mid"
    midi.save(path)
    return path.read_bytes()


def seconds(refuse: Callable[[], object]) -> float:
    """The median seconds ``refuse`` takes to raise its typed error."""
    times = []
    for _ in range(TRIES):
        started = time.perf_counter()
        try:
            refuse()
        except TunesmithError:
            times.append(time.perf_counter() - started)
        else:
            raise AssertionError("the file was not refused")
    return statistics.median(times)


def main() -> str:
    """Time each refusal and return the markdown table."""
    folder = Path(tempfile.mkdtemp())
    crowded = folder / "too-many-notes.mid"
    crowded.write_bytes(many_notes(MAX_SCORE_NOTES + 1))
    long = one_note(0x0FFFFFFF)
    soundfont = find_soundfont()
    rows = [
        (f"MIDI file of {MAX_SCORE_NOTES + 1:,} notes, read", seconds(lambda: read_score(crowded))),
        (
            "MIDI file 4,660 minutes long, rendered",
            seconds(lambda: render_audio(long, soundfont=soundfont)),
        ),
    ]
    lines = ["| refused | median seconds |", "| --- | ---: |"]
    lines += [f"| {what} | {median:.3f} |" for what, median in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
