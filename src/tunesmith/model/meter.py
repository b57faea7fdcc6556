"""A time signature's facts, one definition for every stage: :class:`Meter`, from music21.

A score's header names its meter (``"6/8"``); :func:`meter_of` gives its bar and beat
lengths and how music21 groups its beats, for the readers, the writers, the request and the
rhythm alike.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["Meter", "meter_of"]


@dataclass(frozen=True, slots=True)
class Meter:
    """A time signature's facts, one definition for every stage (from music21)."""

    numerator: int
    denominator: int
    bar_length: Fraction
    """Quarter notes per bar."""
    beat_length: Fraction
    """Quarter notes per beat as music21 counts it: a dotted quarter in 6/8, a half in 2/2."""
    beats: tuple[Fraction, ...]
    """The beat lengths in a bar (7/8: 2+2+3 eighths, as music21 groups it)."""

    @property
    def text(self) -> str:
        """``"6/8"``."""
        return f"{self.numerator}/{self.denominator}"

    @property
    def compound(self) -> bool:
        """Beats divide in three (6/8, 9/8, 12/8, 6/4)."""
        return all(beat.numerator % 3 == 0 for beat in self.beats)

    @property
    def beam_length(self) -> Fraction:
        """How long a beamed group is in written music: half a bar in 4/4 and 2/2, else a beat."""
        if self.bar_length == 4 and len(self.beats) in {2, 4}:
            return Fraction(2)
        return self.beat_length

    def beat_starts(self) -> tuple[Fraction, ...]:
        """Where each beat starts, in quarter notes from the bar line."""
        starts, now = [], Fraction(0)
        for beat in self.beats:
            starts.append(now)
            now += beat
        return tuple(starts)


@functools.cache
def meter_of(text: str) -> Meter:
    """The :class:`Meter` of a time signature such as ``"6/8"``, from music21."""
    from music21 import meter  # noqa: PLC0415 - music21 takes a second to import

    signature = meter.TimeSignature(text)
    beats = tuple(Fraction(part.duration.quarterLength) for part in signature.beatSequence)
    return Meter(
        numerator=signature.numerator,
        denominator=signature.denominator,
        bar_length=Fraction(signature.barDuration.quarterLength),
        beat_length=Fraction(signature.beatDuration.quarterLength),
        beats=beats,
    )
