"""The musical facts of a request, resolved with music21: scale, meter, beat, rhythm, form.

:class:`Constraints` is what every later stage reads: the allowed pitches within the range,
the tonic and cadence pitches, the bar and beat lengths (one definition, from music21's
``TimeSignature``), the rhythm vocabulary and cells, and the form.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol, Self

from tunesmith.errors import ConstraintError
from tunesmith.model.meter import meter_of
from tunesmith.model.score import Pitch, PitchClass
from tunesmith.requests.presets import instrument_ranges, program_number

__all__ = ["Constraints", "MelodyOptions", "is_known_mode", "known_modes"]

MAX_LEAP = 12
"""An octave: the largest melodic step the grammar allows (real tunes leap a sixth or more
in 4% of their intervals, an octave in 1.4%; how many leaps a tune takes is the rules'
business, ``leap`` and ``max_leap_share``)."""
DEFAULT_LOW, DEFAULT_HIGH = "C4", "C6"
MAX_KEY_ACCIDENTALS = 7
"""The most sharps or flats a key signature holds (in MIDI files and in notation)."""

_MODE_ALIASES = {
    "ionian": "major",
    "aeolian": "minor",
    "naturalminor": "minor",
    "harmonic": "harmonicminor",
    "melodic": "melodicminor",
}


@functools.cache
def _scale_classes() -> dict[str, type]:
    from music21 import scale  # noqa: PLC0415 - music21 takes a second to import

    classes = {}
    for name in dir(scale):
        cls = getattr(scale, name)
        if (
            name.endswith("Scale")
            and not name.startswith(("Abstract", "Concrete", "Cyclical", "Diatonic", "Octave"))
            and name not in {"Scale", "ScalaScale", "SieveScale"}
        ):
            classes[name.removesuffix("Scale").lower()] = cls
    return classes


def _mode_key(mode: str) -> str:
    key = re.sub(r"[\s_-]+", "", mode.lower())
    return _MODE_ALIASES.get(key, key)


def known_modes() -> list[str]:
    """The mode (scale) names a request accepts, from music21."""
    return sorted(_scale_classes())


def is_known_mode(mode: str) -> bool:
    """Whether ``mode`` names a music21 scale (case, spaces and aliases ignored)."""
    return _mode_key(mode) in _scale_classes()


class MelodyOptions(Protocol):
    """What :meth:`Constraints.of` reads of a request (a
    :class:`~tunesmith.requests.request.ComposeRequest`).
    """  # noqa: D205

    @property
    def instrument(self) -> str: ...  # noqa: D102
    @property
    def low(self) -> str | None: ...  # noqa: D102
    @property
    def high(self) -> str | None: ...  # noqa: D102
    @property
    def key(self) -> str | None: ...  # noqa: D102
    @property
    def mode(self) -> str | None: ...  # noqa: D102
    @property
    def notes(self) -> tuple[str, ...] | None: ...  # noqa: D102
    @property
    def meter(self) -> str: ...  # noqa: D102
    @property
    def bars(self) -> int: ...  # noqa: D102
    @property
    def form(self) -> str | None: ...  # noqa: D102


@dataclass(frozen=True)
class Constraints:
    """The concrete constraints a request implies, resolved with music21."""

    pitch_classes: tuple[PitchClass, ...]
    """The allowed pitch classes, as spelled by the user or the scale."""
    tonic: PitchClass
    pitches: tuple[Pitch, ...]
    """Every allowed pitch within the range, low to high."""
    tonic_pitches: tuple[Pitch, ...]
    half_cadence_pitches: tuple[Pitch, ...]
    """Allowed pitches of the dominant chord (a phrase that ends open), or the tonic's."""
    max_leap: int
    """Largest melodic step (semitones, besides the octave) the grammar lets the model take.

    Guidance for generation, not a checked constraint: folk tunes move mostly by step.
    """
    low: Pitch
    high: Pitch
    numerator: int
    denominator: int
    bar_length: Fraction
    """Quarter notes per bar."""
    beat_length: Fraction
    """Quarter notes per beat (3/2 in compound meters such as 6/8)."""
    key_sharps: int | None
    """Key signature as sharps (negative for flats), when one fits the pitches.

    None also for a key that would need more than 7 (G# major, 8 sharps; Fb major, 8
    flats): the notes keep the spelling asked for and carry their own accidentals.
    """
    key_minor: bool
    key_mode: str | None
    """The diatonic mode whose key signature the tune is written with (ABC's ``K:``)."""
    program: int
    description: str
    """The pitch constraint in words, e.g. 'D dorian' or 'only the notes A B C# F# G'."""

    @property
    def tempo_factor(self) -> Fraction:
        """Quarter notes per beat, to turn the request's tempo into quarter notes per minute."""
        return self.beat_length

    @property
    def semitones(self) -> frozenset[int]:
        """The allowed pitch classes as semitones 0-11 (enharmonic spellings are equal)."""
        return frozenset(pc.semitone for pc in self.pitch_classes)

    @classmethod
    def of(cls, request: MelodyOptions) -> Self:
        """Resolve a request; raises :class:`ConstraintError` if no tune can satisfy it."""
        playable = instrument_ranges().get(request.instrument, (DEFAULT_LOW, DEFAULT_HIGH))
        low = Pitch.parse(request.low or playable[0])
        high = Pitch.parse(request.high or playable[1])
        if low.midi > high.midi:
            raise ConstraintError(
                f"the range is inverted: low={low} is above high={high}; swap them"
            )
        if request.notes is not None and request.key is not None:
            raise ConstraintError("give either notes= or key= (with mode=), not both")
        if request.mode is not None and request.key is None:
            raise ConstraintError(f"mode={request.mode!r} needs a key, e.g. key='D'")
        if request.notes is not None:
            pitch_classes = tuple(PitchClass.parse(n) for n in request.notes)
            description = "only the notes " + " ".join(map(str, pitch_classes))
        else:
            tonic_name = request.key or "C"
            mode = _mode_key(request.mode or "major")
            scale = _scale_classes()[mode](_music21_name(tonic_name))
            pitch_classes = tuple(
                dict.fromkeys(PitchClass.parse(p.name) for p in scale.getPitches("C4", "B4"))
            )
            pitch_classes = _rotate_to(pitch_classes, PitchClass.parse(tonic_name))
            description = f"{tonic_name} {request.mode or 'major'}"
        key_sharps, key_mode = _key_signature_for(pitch_classes)
        if key_sharps is not None and abs(key_sharps) > MAX_KEY_ACCIDENTALS:
            key_sharps, key_mode = None, None
        by_semitone = {pc.semitone: pc for pc in pitch_classes}
        pitches = tuple(
            Pitch.from_midi(number, by_semitone[number % 12])
            for number in range(low.midi, high.midi + 1)
            if number % 12 in by_semitone
        )
        if not pitches:
            raise ConstraintError(
                f"the range {low}-{high} contains none of the allowed notes "
                f"({' '.join(map(str, pitch_classes))}); widen low/high"
            )
        tonic = pitch_classes[0]
        tonic_pitches = tuple(p for p in pitches if p.pitch_class.semitone == tonic.semitone)
        if not tonic_pitches:
            raise ConstraintError(
                f"the range {low}-{high} contains no {tonic}, the tonic the tune must end on; "
                "widen low/high"
            )
        meter = meter_of(request.meter)
        if request.form is not None and request.bars % len(request.form):
            raise ConstraintError(
                f"form {request.form!r} has {len(request.form)} parts, which cannot share "
                f"{request.bars} bars equally; ask for a multiple of {len(request.form)} bars"
            )
        dominant = {(tonic.semitone + step) % 12 for step in (7, 11, 2)}  # V: 5th, 7th, 2nd
        half_cadence = tuple(p for p in pitches if p.pitch_class.semitone in dominant)
        return cls(
            pitch_classes=pitch_classes,
            tonic=tonic,
            pitches=pitches,
            tonic_pitches=tonic_pitches,
            half_cadence_pitches=half_cadence or tonic_pitches,
            max_leap=MAX_LEAP,
            low=low,
            high=high,
            numerator=meter.numerator,
            denominator=meter.denominator,
            bar_length=meter.bar_length,
            beat_length=meter.beat_length,
            key_sharps=key_sharps,
            key_minor=key_mode == "minor",
            key_mode=key_mode,
            program=program_number(request.instrument),
            description=description,
        )


def _music21_name(name: str) -> str:
    """music21 writes flats as '-': 'Bb' -> 'B-'."""
    return name[0] + name[1:].replace("b", "-")


def _rotate_to(pitch_classes: tuple[PitchClass, ...], tonic: PitchClass) -> tuple[PitchClass, ...]:
    """The pitch classes starting from the tonic."""
    semitones = [pc.semitone for pc in pitch_classes]
    start = semitones.index(tonic.semitone) if tonic.semitone in semitones else 0
    return pitch_classes[start:] + pitch_classes[:start]


DIATONIC_MODES = ("major", "minor", "mixolydian", "dorian", "lydian", "phrygian", "locrian")


@functools.cache
def _key_signature_for(pitch_classes: tuple[PitchClass, ...]) -> tuple[int | None, str | None]:
    """The key signature and mode of the diatonic mode on the tonic holding the pitch classes.

    All of them, or all but one (harmonic minor's raised seventh, the blues' flat fifth are
    written as accidentals); (None, None) when no mode does, or its key signature would
    need more than seven accidentals.
    """
    from music21 import key  # noqa: PLC0415 - music21 is slow to import

    tonic = pitch_classes[0]
    wanted = {pc.semitone for pc in pitch_classes}
    name = _music21_name(str(tonic))
    best: tuple[int, int | None, str | None] = (0, None, None)
    for mode in DIATONIC_MODES:
        candidate = key.Key(name, mode)
        held = len(wanted & {p.pitchClass for p in candidate.pitches})
        if held > best[0]:
            best = (held, candidate.sharps, mode)
    held, sharps, chosen = best
    if held < len(wanted) - 1 or sharps is None or abs(sharps) > MAX_KEY_ACCIDENTALS:
        return None, None
    return sharps, chosen
