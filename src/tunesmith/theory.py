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
from typing import TYPE_CHECKING, Self

from tunesmith.errors import ConstraintError
from tunesmith.presets import instrument_ranges, program_number
from tunesmith.score import DURATIONS, Pitch, PitchClass, Tune

if TYPE_CHECKING:
    from tunesmith.request import ComposeRequest

__all__ = ["Constraints", "expand_form", "known_modes", "written_sections"]

MAX_LEAP = 7
"""A perfect fifth: the largest melodic step the grammar allows, besides the octave."""
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
    form: str
    """The sections in order, e.g. "AABB"; "A" for a tune without sections."""
    section_bars: int
    """Bars per section."""
    max_leap: int
    """Largest melodic step (semitones, besides the octave) the grammar lets the model take.

    Guidance for generation, not a checked constraint: folk tunes move mostly by step.
    """
    """The allowed tonic pitches within the range (a tune ends on one)."""
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
    program: int
    durations: tuple[str, ...]
    """The rhythm vocabulary: notation duration codes that suit the meter."""
    cell_length: Fraction
    """Quarter notes per rhythm cell: notes stay inside a cell or span whole cells."""
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
    def of(cls, request: ComposeRequest) -> Self:
        """Resolve a request; raises :class:`ConstraintError` if no tune can satisfy it."""
        from music21 import key  # noqa: PLC0415 - heavy import, only when composing

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
        key_sharps, key_minor = None, False
        if request.notes is not None:
            pitch_classes = tuple(PitchClass.parse(n) for n in request.notes)
            description = "only the notes " + " ".join(map(str, pitch_classes))
            key_sharps, key_minor = _key_signature_for(pitch_classes)
        else:
            tonic_name = request.key or "C"
            mode = _mode_key(request.mode or "major")
            scale = _scale_classes()[mode](_music21_name(tonic_name))
            pitch_classes = tuple(
                dict.fromkeys(PitchClass.parse(p.name) for p in scale.getPitches("C4", "B4"))
            )
            pitch_classes = _rotate_to(pitch_classes, PitchClass.parse(tonic_name))
            description = f"{tonic_name} {request.mode or 'major'}"
            if mode in {"major", "minor", "dorian", "phrygian", "lydian", "mixolydian", "locrian"}:
                music21_key = key.Key(_music21_name(tonic_name), mode)
                key_sharps, key_minor = music21_key.sharps, mode == "minor"
        if key_sharps is not None and abs(key_sharps) > MAX_KEY_ACCIDENTALS:
            key_sharps, key_minor = None, False
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
        numerator, denominator, bar_length, beat_length = _meter_facts(request.meter)
        form = request.form or "A"
        if request.bars % len(form):
            raise ConstraintError(
                f"form {form!r} has {len(form)} sections, which cannot share {request.bars} bars "
                f"equally; ask for a multiple of {len(form)} bars"
            )
        dominant = {(tonic.semitone + step) % 12 for step in (7, 11, 2)}  # V: 5th, 7th, 2nd
        half_cadence = tuple(p for p in pitches if p.pitch_class.semitone in dominant)
        return cls(
            pitch_classes=pitch_classes,
            tonic=tonic,
            pitches=pitches,
            tonic_pitches=tonic_pitches,
            half_cadence_pitches=half_cadence or tonic_pitches,
            form=form,
            section_bars=request.bars // len(form),
            max_leap=MAX_LEAP,
            low=low,
            high=high,
            numerator=numerator,
            denominator=denominator,
            bar_length=bar_length,
            beat_length=beat_length,
            key_sharps=key_sharps,
            key_minor=key_minor,
            program=program_number(request.instrument),
            durations=_rhythm_vocabulary(numerator, denominator),
            cell_length=_cell_length(numerator, denominator, beat_length),
            description=description,
        )


@functools.cache
def _meter_facts(meter_text: str) -> tuple[int, int, Fraction, Fraction]:
    """Numerator, denominator, bar length and beat length (quarter notes), from music21."""
    from music21 import meter  # noqa: PLC0415

    time_signature = meter.TimeSignature(meter_text)
    return (
        time_signature.numerator,
        time_signature.denominator,
        Fraction(time_signature.barDuration.quarterLength),
        Fraction(time_signature.beatDuration.quarterLength),
    )


def _cell_length(numerator: int, denominator: int, beat_length: Fraction) -> Fraction:
    """The rhythm cell: the beat in compound meters (6/8, 9/8, 12/8), half a bar in 4/4.

    Other meters (2/4, 3/4, 7/8...) are filled freely, one cell a bar.
    """
    bar_length = Fraction(4 * numerator, denominator)
    if denominator >= 8 and numerator % 3 == 0 and numerator > 3:
        return beat_length
    if (numerator, denominator) == (4, 4):
        return bar_length / 2
    return bar_length


def _rhythm_vocabulary(numerator: int, denominator: int) -> tuple[str, ...]:
    """Durations that suit a meter: eighths and dotted quarters in 6/8, quarters in 3/4..."""
    if denominator >= 8 and numerator % 3 == 0:
        codes: tuple[str, ...] = ("e", "q", "q.", "h.")
    elif denominator >= 16:
        codes = ("s", "e", "e.", "q")
    elif denominator == 8:
        codes = ("e", "q", "q.")
    elif denominator <= 2:
        codes = ("q", "h", "h.", "w")
    else:
        codes = ("e", "q", "q.", "h", "h.", "w")
    bar_length = Fraction(4 * numerator, denominator)
    return tuple(code for code in codes if DURATIONS[code] <= bar_length)


def _music21_name(name: str) -> str:
    """music21 writes flats as '-': 'Bb' -> 'B-'."""
    return name[0] + name[1:].replace("b", "-")


def _rotate_to(pitch_classes: tuple[PitchClass, ...], tonic: PitchClass) -> tuple[PitchClass, ...]:
    """The pitch classes starting from the tonic."""
    semitones = [pc.semitone for pc in pitch_classes]
    start = semitones.index(tonic.semitone) if tonic.semitone in semitones else 0
    return pitch_classes[start:] + pitch_classes[:start]


@functools.cache
def _key_signature_for(pitch_classes: tuple[PitchClass, ...]) -> tuple[int | None, bool]:
    """The key signature of the first diatonic mode on the tonic that holds every pitch class."""
    from music21 import key  # noqa: PLC0415

    tonic = pitch_classes[0]
    wanted = {pc.semitone for pc in pitch_classes}
    name = _music21_name(str(tonic))
    for mode in ("major", "minor", "mixolydian", "dorian", "lydian", "phrygian", "locrian"):
        candidate = key.Key(name, mode)
        if wanted <= {p.pitchClass for p in candidate.pitches}:
            return candidate.sharps, mode == "minor"
    return None, False


def written_sections(form: str) -> str:
    """The sections the model writes, each once, in order of appearance: "AABA" -> "AB"."""
    return "".join(dict.fromkeys(form))


def expand_form(tune: Tune, form: str, section_bars: int) -> Tune:
    """The written sections (A, then B...) laid out in the form's order (A A B B).

    A tune with another number of bars than the written sections need is returned as it
    is, for validation to flag and repair to fix.
    """
    sections = written_sections(form)
    if len(sections) == len(form) or len(tune.bars) != len(sections) * section_bars:
        return tune
    start = {letter: index * section_bars for index, letter in enumerate(sections)}
    return Tune(
        tuple(
            bar
            for letter in form
            for bar in tune.bars[start[letter] : start[letter] + section_bars]
        )
    )
