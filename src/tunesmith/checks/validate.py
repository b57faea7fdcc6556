"""Checks a tune against a request.

Covered: pitch set or scale, range, bar lengths, bar count, ties and the final note; with
a harmony lane, the chord tone on every strong beat.
Violations are data with bar and beat positions, not strings to parse.

The pitch set, range, tonic and bar length come from music21 (scales, keys, time
signatures) through :class:`~tunesmith.requests.request.Constraints`; the checks themselves compare
semitones and exact fractions, so enharmonic spellings (Gb and F#) count as the same note.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, ConfigDict

from tunesmith.model.meter import meter_of
from tunesmith.model.score import ChordSymbol, Event, Score, Tune
from tunesmith.music.harmony import misfits
from tunesmith.requests.request import ComposeRequest
from tunesmith.requests.theory import Constraints

__all__ = ["ValidationReport", "Violation", "played_melody", "validate"]

ViolationKind = Literal[
    "empty", "pitch", "range", "bar_length", "bar_count", "tie", "final", "chord_tone"
]


class Violation(BaseModel):
    """One broken constraint, with where it is (1-based bar, 1-based beat) when it has a place."""

    model_config = ConfigDict(frozen=True)

    kind: ViolationKind
    bar: int | None
    beat: float | None
    found: str
    expected: str

    def __str__(self) -> str:
        place = f"bar {self.bar}" if self.bar is not None else "tune"
        if self.beat is not None:
            place += f", beat {self.beat:g}"
        return f"{place}: {self.kind.replace('_', ' ')} {self.found} (expected {self.expected})"


class ValidationReport(BaseModel):
    """Every violation found in a tune; empty when the tune satisfies the request."""

    model_config = ConfigDict(frozen=True)

    violations: tuple[Violation, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.violations

    def __str__(self) -> str:
        if self.ok:
            return "no violations"
        return "\n".join(str(violation) for violation in self.violations)


def positions(tune: Tune) -> Iterator[tuple[int, Fraction, Event]]:
    """Every event with its 0-based bar index and offset in quarter notes from the bar start."""
    for index, bar in enumerate(tune.bars):
        offset = Fraction(0)
        for event in bar.events:
            yield index, offset, event
            offset += event.duration


def _beat(offset: Fraction, constraints: Constraints) -> float:
    return round(float(1 + offset / constraints.beat_length), 3)


def _chord_tones(
    tune: Tune, request: ComposeRequest, harmony: Sequence[ChordSymbol]
) -> list[Violation]:
    """A violation for each strong beat's note that is not a tone of its chord."""
    if not harmony:
        return []
    return [
        Violation(
            kind="chord_tone",
            bar=misfit.bar + 1,
            beat=_beat(misfit.offset, request.constraints),
            found=str(misfit.pitch),
            expected=f"a tone of {misfit.chord} ({' '.join(map(str, misfit.chord.tones))})",
        )
        for misfit in misfits(tune, harmony, meter_of(request.meter))
    ]


def played_melody(
    music: Score | Tune, harmony: Sequence[ChordSymbol] | None
) -> tuple[Tune, Sequence[ChordSymbol]]:
    """A score's melody as played and, unless ``harmony`` is given, its chords; a tune as is."""
    if isinstance(music, Tune):
        return music, harmony or ()
    played = music.expanded()
    return played.melody.tune, played.harmony if harmony is None else harmony


def validate(
    music: Score | Tune, request: ComposeRequest, *, harmony: Sequence[ChordSymbol] | None = None
) -> ValidationReport:
    """Check every hard constraint of ``request`` on a score's melody (as played) or a tune.

    ``harmony`` is the lane of chords the melody stands on (times as it is played; a score's
    own by default): the note sounding on each strong beat must be a tone of the chord
    sounding there.
    """
    tune, harmony = played_melody(music, harmony)
    constraints = request.constraints
    allowed = constraints.semitones
    low, high = constraints.low.midi, constraints.high.midi
    notes_text = " ".join(map(str, constraints.pitch_classes))
    found: list[Violation] = []

    def add(
        kind: ViolationKind, bar: int | None, offset: Fraction | None, got: str, want: str
    ) -> None:
        beat = None if offset is None else _beat(offset, constraints)
        found.append(Violation(kind=kind, bar=bar, beat=beat, found=got, expected=want))

    if not tune.notes:
        add("empty", None, None, "no notes", f"{request.bars} bars of notes")
        return ValidationReport(violations=tuple(found))
    events = list(positions(tune))
    for position, (index, offset, event) in enumerate(events):
        for pitch in event.pitches:
            if pitch.midi % 12 not in allowed:
                add("pitch", index + 1, offset, str(pitch), f"one of {notes_text}")
            if not low <= pitch.midi <= high:
                add("range", index + 1, offset, str(pitch), f"{constraints.low}-{constraints.high}")
        if event.tie:
            following = events[position + 1][2] if position + 1 < len(events) else None
            if following is None or following.pitches != event.pitches:
                target = "the end" if following is None else "a different pitch"
                add("tie", index + 1, offset, f"a tie into {target}", "a tie into the same pitch")
    pickup = tune.has_pickup(constraints.bar_length, request.bars)
    for index, bar in enumerate(tune.bars):
        if bar.duration != constraints.bar_length and not (pickup and index == 0):
            add(
                "bar_length",
                index + 1,
                None,
                f"{bar.duration} quarter notes",
                f"{constraints.bar_length} for {request.meter}",
            )
    if len(tune.bars) - pickup != request.bars:
        found_bars = f"{len(tune.bars) - pickup} bars{' and a pickup' if pickup else ''}"
        add("bar_count", None, None, found_bars, f"{request.bars} bars")
    found += _chord_tones(tune, request, harmony)
    index, offset, last = next(item for item in reversed(events) if not item[2].is_rest)
    if last.pitches[-1].midi % 12 != constraints.tonic.semitone:
        add("final", index + 1, offset, str(last.pitches[-1]), f"the tonic {constraints.tonic}")
    return ValidationReport(violations=tuple(found))
