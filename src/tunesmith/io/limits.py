"""How much :func:`~tunesmith.io.read.read_score` reads at most.

Every reader checks as soon as it knows: a corrupt file must not make tunesmith read for
minutes.
"""

from __future__ import annotations

from tunesmith.errors import ReadError

__all__ = ["MAX_FILE_BYTES", "MAX_SCORE_BARS", "MAX_SCORE_NOTES", "check_extent"]

MAX_FILE_BYTES = 32 * 1024 * 1024
"""The largest file read_score reads (32 MiB): a real score is a few hundred KB at most."""
MAX_SCORE_BARS = 5_000
"""The most bars read_score reads: five times a long symphonic movement."""
MAX_SCORE_NOTES = 50_000
"""The most notes read_score reads, all parts together (here 20,000 read in 3 s, 50,000 in 7)."""


def check_extent(path: object, *, bars: int = 0, notes: int = 0, quarters: float = 0) -> None:
    """Refuse a score of more than :data:`MAX_SCORE_BARS` bars or :data:`MAX_SCORE_NOTES` notes.

    Readers call it as soon as they know (a reader that stops counting past the limit gives
    ``MAX_SCORE_BARS + 1``); ``quarters``, the length in quarter notes, is named if given.

    Raises
    ------
    ReadError
        Naming the limit, what the file holds, and what to do.
    """
    if bars > MAX_SCORE_BARS:
        lasting = f"; it lasts {quarters:,.0f} quarter notes" if quarters else ""
        raise ReadError(
            path,
            f"it is longer than {MAX_SCORE_BARS:,} bars, the most tunesmith reads{lasting}: "
            "a corrupt time signature, note length or MIDI delta time makes a file that long; "
            "otherwise cut the score into shorter files",
        )
    if notes > MAX_SCORE_NOTES:
        raise ReadError(
            path,
            f"it has {notes:,} notes; tunesmith reads scores of up to {MAX_SCORE_NOTES:,}: "
            "cut the score into shorter files",
        )
