"""Note lengths and their codes in tunesmith notation: ``"q."`` is a dotted quarter.

A length is a :class:`fractions.Fraction` count of quarter notes. :data:`DURATIONS` maps
every code to its length; :func:`duration_code` gives a length's code, and
:func:`split_duration` splits any length on the :data:`GRID` into the fewest coded ones.
"""

from __future__ import annotations

import functools
from fractions import Fraction

from tunesmith.errors import NotationError

__all__ = ["DURATIONS", "GRID", "duration_code", "split_duration"]

BASE_DURATIONS = {
    "w": Fraction(4),
    "h": Fraction(2),
    "q": Fraction(1),
    "e": Fraction(1, 2),
    "s": Fraction(1, 4),
    "t": Fraction(1, 8),
}
"""Duration letters: whole, half, quarter, eighth, sixteenth, thirty-second."""

MODIFIERS = {"": Fraction(1), ".": Fraction(3, 2), "..": Fraction(7, 4), "3": Fraction(2, 3)}
"""Suffixes: dotted, double-dotted, triplet (three in the time of two)."""

DURATIONS: dict[str, Fraction] = {
    letter + suffix: length * factor
    for letter, length in BASE_DURATIONS.items()
    for suffix, factor in MODIFIERS.items()
}
"""Every duration code and its length in quarter notes, e.g. ``"q." -> 3/2``."""

_CODES_BY_LENGTH = {length: code for code, length in DURATIONS.items()}
assert len(_CODES_BY_LENGTH) == len(DURATIONS), "duration codes must be unambiguous"


GRID = Fraction(1, 96)
"""Every duration code is a whole number of these (a 32nd note double-dotted is 21)."""


def duration_code(length: Fraction) -> str:
    """The code for a duration in quarter notes, e.g. ``Fraction(3, 2) -> "q."``.

    Raises :class:`NotationError` for a length no single code expresses.
    """
    try:
        return _CODES_BY_LENGTH[length]
    except KeyError:
        raise NotationError(
            f"a duration of {length} quarter notes has no code in tunesmith notation; "
            "split it into tied notes"
        ) from None


@functools.cache
def split_duration(length: Fraction, *, triplets: bool = True) -> tuple[Fraction, ...]:
    """``length`` as the fewest durations with codes, longest first: ``5/4 -> (1, 1/4)``.

    Triplet lengths only where plain and dotted ones cannot reach it (``11/4`` is a half
    and a dotted quarter, not a whole-note triplet and a 32nd-note triplet), and never
    with ``triplets=False``.

    Raises :class:`NotationError` for a length that is not a whole number of 1/96 quarter
    notes (no sum of codes reaches it).
    """
    units = length / GRID
    if units.denominator != 1 or units <= 0:
        raise NotationError(
            f"a duration of {length} quarter notes cannot be written as tied notes of "
            "tunesmith notation (it is not a whole number of 1/96 quarter notes)"
        )
    return _split_units(int(units), triplets=triplets)


def _sizes(codes: list[str]) -> tuple[int, ...]:
    return tuple(sorted({int(DURATIONS[code] / GRID) for code in codes}, reverse=True))


_PLAIN_SIZES = _sizes([code for code in DURATIONS if not code.endswith("3")])
_ALL_SIZES = _sizes(list(DURATIONS))


@functools.cache
def _split_units(units: int, *, triplets: bool) -> tuple[Fraction, ...]:
    for sizes in (_PLAIN_SIZES, _ALL_SIZES) if triplets else (_PLAIN_SIZES,):
        best: list[tuple[int, ...] | None] = [()] + [None] * units  # fewest pieces a total
        for total in range(1, units + 1):
            options = [
                (size, *rest)
                for size in sizes
                if size <= total and (rest := best[total - size]) is not None
            ]
            best[total] = min(options, key=len) if options else None
        if (pieces := best[units]) is not None:
            return tuple(sorted((size * GRID for size in pieces), reverse=True))
    raise NotationError(f"{units * GRID} quarter notes cannot be written as tied notes")
