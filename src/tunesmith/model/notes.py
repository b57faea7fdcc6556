"""The note level of the data model: pitches, drums, durations, events, bars and tunes.

Everything in tunesmith speaks these types (:mod:`tunesmith.model.score` builds scores of them and
re-exports them). They are immutable and compare by value, so a tune parsed from text, read
back from MIDI or repaired can be checked with ``==``.

Durations are :class:`fractions.Fraction` counts of quarter notes (music21's
*quarterLength*): a dotted quarter is ``Fraction(3, 2)``, an eighth-note triplet
``Fraction(1, 3)``; their codes are :mod:`tunesmith.model.durations`'s, re-exported here.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from fractions import Fraction

from tunesmith.errors import NotationError, NoteNameError
from tunesmith.model.durations import DURATIONS, duration_code, split_duration
from tunesmith.model.general_midi import gm_constants

__all__ = [
    "DURATIONS",
    "Bar",
    "Drum",
    "Event",
    "Pitch",
    "PitchClass",
    "Tune",
    "drum_names",
    "duration_code",
    "split_duration",
]

STEPS = "CDEFGAB"
STEP_SEMITONES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
ACCIDENTALS = {"bb": -2, "b": -1, "": 0, "#": 1, "##": 2}
ACCIDENTAL_TEXT = {alter: text for text, alter in ACCIDENTALS.items()}
LOWEST_OCTAVE, HIGHEST_OCTAVE = -1, 9
LOWEST_MIDI, HIGHEST_MIDI = 0, 127
"""The pitches a MIDI file can hold, C-1 to G9: the only pitches tunesmith accepts."""

_PITCH_CLASS_RE = re.compile(r"^([A-Ga-g])(##|bb|#|b|--|-|x)?$")
# Before an octave "-" is a minus sign, so "C-1" is C in octave -1 (MIDI 0), as MIDI and
# scientific pitch notation write it, and "C-2" is no pitch (not music21's C flat 2), as in
# notation: one reading, whatever the digit.
_PITCH_RE = re.compile(r"^([A-Ga-g])(##|bb|#|b|x)?(-1|\d)$")
# music21 writes flats as "-" and a double sharp may be written "x"; we accept both on input.
_ACCIDENTAL_ALIASES = {None: "", "-": "b", "--": "bb", "x": "##"}


def _accidental(text: str | None) -> int:
    return ACCIDENTALS[_ACCIDENTAL_ALIASES.get(text, text or "")]


@dataclass(frozen=True, slots=True, order=True)
class PitchClass:
    """A spelled pitch class without octave, such as ``C#`` or ``Bb``."""

    step: str
    alter: int = 0

    @classmethod
    def parse(cls, name: str) -> PitchClass:
        """Read a note name such as ``"F#"``, ``"Bb"`` or ``"E-"`` (music21's flat).

        Raises :class:`NoteNameError` naming the bad name and the accepted forms.
        """
        match = _PITCH_CLASS_RE.match(name.strip()) if isinstance(name, str) else None
        if match is None:
            raise NoteNameError(
                f"unknown note name {name!r}: use a letter A-G with an optional accidental "
                "'#', '##', 'b' or 'bb', e.g. 'C#' or 'Bb'"
            )
        return cls(match.group(1).upper(), _accidental(match.group(2)))

    @property
    def semitone(self) -> int:
        """Position in the octave, 0-11, with C = 0."""
        return (STEP_SEMITONES[self.step] + self.alter) % 12

    def __str__(self) -> str:
        return self.step + ACCIDENTAL_TEXT[self.alter]


@dataclass(frozen=True, slots=True)
class Pitch:
    """An absolute, spelled pitch in scientific notation: ``C#5`` is the C# above middle C4."""

    step: str
    alter: int
    octave: int

    def __post_init__(self) -> None:
        if self.step not in STEP_SEMITONES or self.alter not in ACCIDENTAL_TEXT:
            raise NoteNameError(f"invalid pitch {self.step!r} with alteration {self.alter}")
        if not (
            LOWEST_MIDI <= self.midi <= HIGHEST_MIDI
            and LOWEST_OCTAVE <= self.octave <= HIGHEST_OCTAVE
        ):
            raise NoteNameError(
                f"pitch {self} is outside the pitches MIDI can hold, C-1 to G9 (MIDI "
                f"{LOWEST_MIDI}-{HIGHEST_MIDI}; received MIDI {self.midi})"
            )

    @classmethod
    def parse(cls, name: str) -> Pitch:
        """Read a pitch such as ``"A4"``, ``"C#5"``, ``"Bb3"`` or ``"C-1"`` (MIDI key 0).

        Exactly the pitches MIDI can hold are accepted, C-1 to G9.

        Raises :class:`NoteNameError` naming the bad name and the accepted form.
        """
        match = _PITCH_RE.match(name.strip()) if isinstance(name, str) else None
        if match is None:
            minus = "; '-' before the octave is a minus sign: a flat is 'b'"
            raise NoteNameError(
                f"unknown pitch {name!r}: use a letter A-G, an optional accidental "
                "('#', '##', 'b', 'bb') and an octave -1 to 9, e.g. 'A4' or 'C#5'"
                + (minus if "-" in str(name) else "")
            )
        return cls(match.group(1).upper(), _accidental(match.group(2)), int(match.group(3)))

    @classmethod
    def from_midi(cls, number: int, spelling: PitchClass | None = None) -> Pitch:
        """The pitch with MIDI key ``number``, spelled as ``spelling`` if given.

        Without a spelling, black keys are written as sharps.
        """
        semitone = number % 12
        if spelling is None or spelling.semitone != semitone:
            spelling = _SHARP_SPELLINGS[semitone]
        octave = (number - STEP_SEMITONES[spelling.step] - spelling.alter) // 12 - 1
        return cls(spelling.step, spelling.alter, octave)

    @property
    def pitch_class(self) -> PitchClass:
        """The pitch without its octave."""
        return PitchClass(self.step, self.alter)

    @property
    def midi(self) -> int:
        """The MIDI key number (middle C, ``C4``, is 60)."""
        return 12 * (self.octave + 1) + STEP_SEMITONES[self.step] + self.alter

    def __str__(self) -> str:
        return f"{self.step}{ACCIDENTAL_TEXT[self.alter]}{self.octave}"


_SHARP_SPELLINGS = {
    (STEP_SEMITONES[step] + alter) % 12: PitchClass(step, alter)
    for alter in (1, 0)  # naturals last, so that they win: C, not B#
    for step in STEPS
}


_DRUM_ALIASES = {
    "kick": 36,
    "rim": 37,
    "snare": 38,
    "clap": 39,
    "floor-tom": 41,
    "closed-hat": 42,
    "pedal-hat": 44,
    "low-tom": 45,
    "open-hat": 46,
    "mid-tom": 47,
    "high-tom": 50,
    "crash": 49,
    "ride": 51,
}
"""Short names for the drums of a kit; the other General MIDI percussion keep their names."""


@functools.cache
def _drum_keys() -> dict[str, int]:
    DRUM_MAP = gm_constants().DRUM_MAP  # noqa: N806
    named = {
        re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-"): key
        for key, name in enumerate(DRUM_MAP, 35)
    }
    return _DRUM_ALIASES | {
        name: key for name, key in named.items() if key not in _DRUM_ALIASES.values()
    }


def drum_names() -> dict[str, int]:
    """Every drum name tunesmith knows and its General MIDI percussion key (channel 10).

    The kit's short names (``kick``, ``snare``, ``closed-hat``...) and the General MIDI
    percussion map's other names in lower case with hyphens (``cowbell``, ``hi-bongo``),
    from pretty_midi. A key with no name is written ``key-N``.
    """
    return dict(_drum_keys())


@dataclass(frozen=True, slots=True, order=True)
class Drum:
    """A General MIDI percussion sound by name: ``Drum("kick")``, ``Drum("closed-hat")``."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in _drum_keys() and not _key_name(self.name):
            close = [n for n in _drum_keys() if self.name and self.name.split("-")[0] in n][:4]
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise NoteNameError(
                f"unknown drum {self.name!r}: use a General MIDI percussion name such as "
                f"'kick', 'snare', 'closed-hat' or 'cowbell', or 'key-N' for key N{hint}"
            )

    @classmethod
    def from_midi(cls, key: int) -> Drum:
        """The drum General MIDI plays on percussion key ``key`` (0-127)."""
        names = {number: name for name, number in reversed(_drum_keys().items())}
        return cls(names.get(key, f"key-{key}"))

    @property
    def midi(self) -> int:
        """The key on MIDI channel 10."""
        return _drum_keys().get(self.name) or int(self.name.removeprefix("key-"))

    def __str__(self) -> str:
        return self.name


def _key_name(name: str) -> bool:
    match = re.fullmatch(r"key-(0|[1-9][0-9]{0,2})", name)
    return match is not None and int(match.group(1)) <= 127


@dataclass(frozen=True, slots=True)
class Event:
    """One rhythmic event: a rest, a note (one pitch), a chord (several), or drum hits.

    ``tie`` means the event's pitches carry on into the next event, as ``~`` in the text
    grammar and one sustained note in MIDI. ``drums`` are the hits of a drum part's event
    (which has no pitches); drums are struck, never tied.
    """

    pitches: tuple[Pitch, ...]
    duration: Fraction
    tie: bool = False
    drums: tuple[Drum, ...] = ()

    def __post_init__(self) -> None:
        if self.duration <= 0:
            raise NotationError(
                f"an event's duration must be positive quarter notes (received {self.duration})"
            )
        if self.tie and not self.pitches:
            raise NotationError(
                "a rest or a drum hit cannot be tied: drop tie=True, or give the pitches"
            )
        if self.drums and self.pitches:
            raise NotationError("an event holds pitches or drums, not both")

    @classmethod
    def hit(cls, drums: str | tuple[str, ...], duration: Fraction | int) -> Event:
        """Drums struck together: ``Event.hit("kick", 1)``, ``Event.hit(("kick", "crash"), 1)``."""
        names = (drums,) if isinstance(drums, str) else drums
        return cls((), Fraction(duration), drums=tuple(Drum(name) for name in names))

    @classmethod
    def note(cls, pitch: Pitch | str, duration: Fraction | int, *, tie: bool = False) -> Event:
        """A single note; ``pitch`` may be text such as ``"C#5"``."""
        if isinstance(pitch, str):
            pitch = Pitch.parse(pitch)
        return cls((pitch,), Fraction(duration), tie)

    @classmethod
    def rest(cls, duration: Fraction | int) -> Event:
        """A rest."""
        return cls((), Fraction(duration))

    @property
    def is_rest(self) -> bool:
        """True for a rest."""
        return not self.pitches and not self.drums

    @property
    def is_chord(self) -> bool:
        """True for two or more simultaneous pitches."""
        return len(self.pitches) > 1


@dataclass(frozen=True, slots=True)
class Bar:
    """A bar: the events between two bar lines, in order."""

    events: tuple[Event, ...]

    @property
    def duration(self) -> Fraction:
        """Total length of the bar in quarter notes."""
        return sum((event.duration for event in self.events), Fraction(0))


@dataclass(frozen=True, slots=True)
class Tune:
    """A single-voice tune: a sequence of bars."""

    bars: tuple[Bar, ...]

    @property
    def events(self) -> tuple[Event, ...]:
        """Every event of every bar, in order."""
        return tuple(event for bar in self.bars for event in bar.events)

    @property
    def duration(self) -> Fraction:
        """Total length in quarter notes."""
        return sum((bar.duration for bar in self.bars), Fraction(0))

    @property
    def notes(self) -> tuple[Event, ...]:
        """The events that sound (notes and chords), in order."""
        return tuple(event for event in self.events if not event.is_rest)

    def has_pickup(self, bar_length: Fraction, bars: int | None = None) -> bool:
        """Whether the first bar is a pickup: shorter than ``bar_length``, opening on a note,
        with bars after it. A pickup is not counted among a tune's bars: given ``bars``, the
        count asked for, a short first bar is a pickup only where the tune has more bars than
        that (else it is a bar too short).
        """  # noqa: D205
        first = self.bars[0] if self.bars else None
        return (
            first is not None
            and len(self.bars) > max(1, bars or 0)
            and first.duration < bar_length
            and bool(first.events)
            and bool(first.events[0].pitches)
        )
