"""A score's header: meter, key or pitch set, tempo with its beat unit, and title.

The musical facts (a meter's beat, a key's signature and scale) come from music21, imported
on first use, so there is one definition of each and no hand-written table.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from fractions import Fraction

from tunesmith.errors import NoteNameError, ScoreError
from tunesmith.model.meter import meter_of
from tunesmith.model.notes import DURATIONS, Pitch, PitchClass, duration_code

__all__ = ["MODES", "Header", "Key", "clean_text", "meter_beat"]

MODES = ("major", "minor", "dorian", "phrygian", "lydian", "mixolydian", "locrian")
"""The modes a key signature can stand for."""
MAX_KEY_ACCIDENTALS = 7
_METER_RE = re.compile(r"^([1-9][0-9]{0,2})/(1|2|4|8|16|32|64|128)$")
_MICROSECONDS_PER_MINUTE = 60_000_000
_MAX_MIDI_TEMPO = 0xFFFFFF  # a MIDI set_tempo event holds 24 bits of microseconds per quarter


def clean_text(text: str) -> str:
    """``text`` on one line: line breaks and tabs become spaces, other control characters go.

    Titles and part names pass through this when read from a file or a request, so that no
    writer can be handed a line break (a new ABC header line) or a character MusicXML forbids.
    """
    spaced = "".join(" " if ch in "\t\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029" else ch for ch in text)
    kept = "".join(ch for ch in spaced if unicodedata.category(ch) != "Cc")
    return " ".join(kept.split())


def check_text(text: str, what: str) -> None:
    """Raise :class:`ScoreError` if ``text`` is not a clean single line (see :func:`clean_text`)."""
    if not isinstance(text, str) or text != clean_text(text):
        raise ScoreError(
            f"{what} must be one line of text without control characters or extra spaces "
            f"(received {text!r}); tunesmith.model.header.clean_text() makes one"
        )


@functools.cache
def meter_beat(meter: str) -> Fraction:
    """The beat of a meter in quarter notes, as music21 counts it: 3/2 in 6/8, 2 in 2/2.

    One definition for every stage: :func:`tunesmith.model.meter.meter_of`.
    """
    return meter_of(meter).beat_length


@functools.cache
def _music21_key(tonic: PitchClass, mode: str) -> object:
    from music21 import key  # noqa: PLC0415 - music21 is slow to import

    return key.Key(tonic.step + "#" * max(tonic.alter, 0) + "-" * max(-tonic.alter, 0), mode)


@dataclass(frozen=True, slots=True)
class Key:
    """A key: a tonic and a mode, e.g. ``Key.parse("E dorian")``."""

    tonic: PitchClass
    mode: str = "major"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ScoreError(
                f"a key's mode must be one of {', '.join(MODES)} (received {self.mode!r})"
            )
        if abs(self.sharps) > MAX_KEY_ACCIDENTALS:
            raise ScoreError(
                f"{self} needs a key signature of {abs(self.sharps)} "
                f"{'sharps' if self.sharps > 0 else 'flats'}; no file format holds more than 7: "
                "use the enharmonic key, or no key (key=None) and accidentals on the notes"
            )

    @classmethod
    def parse(cls, text: str) -> Key:
        """Read ``"G"``, ``"G major"``, ``"F# minor"`` or ``"E dorian"``."""
        tonic, _, mode = text.strip().partition(" ")
        return cls(PitchClass.parse(tonic), mode.strip().lower() or "major")

    @classmethod
    def containing(cls, pitch_classes: tuple[PitchClass, ...]) -> Key | None:
        """The first mode on the first pitch class (major, minor, mixolydian, dorian, lydian,
        phrygian, locrian) that holds every pitch class, or None.
        """  # noqa: D205 - the order is part of the summary
        wanted = {pc.semitone for pc in pitch_classes}
        for mode in ("major", "minor", "mixolydian", "dorian", "lydian", "phrygian", "locrian"):
            key = _music21_key(pitch_classes[0], mode)
            if wanted <= {p.pitchClass for p in key.pitches}:  # type: ignore[attr-defined]
                try:
                    return cls(pitch_classes[0], mode)
                except ScoreError:  # more than 7 sharps or flats
                    return None
        return None

    @property
    def sharps(self) -> int:
        """The key signature: sharps, or flats as a negative number (music21's ``sharps``)."""
        return int(_music21_key(self.tonic, self.mode).sharps)  # type: ignore[attr-defined]

    @property
    def scale(self) -> tuple[PitchClass, ...]:
        """The seven pitch classes of the key, from the tonic."""
        pitches = _music21_key(self.tonic, self.mode).pitches[:7]  # type: ignore[attr-defined]
        return tuple(PitchClass.parse(p.name) for p in pitches)

    def spell(self, midi: int) -> Pitch:
        """The pitch of MIDI key ``midi`` spelled in this key: scale notes as the scale spells
        them, the note a semitone below the tonic as the raised seventh, the leading tone
        (F# in G minor, C# in D dorian), others with sharps in sharp keys and flats in flat keys.
        """  # noqa: D205
        scale = self.scale
        spelling = next((pc for pc in scale if pc.semitone == midi % 12), None)
        if spelling is None and (self.tonic.semitone - midi) % 12 == 1:  # a minor 7th, raised
            spelling = PitchClass(scale[6].step, scale[6].alter + 1)
        if spelling is None and self.sharps < 0:
            spelling = _FLAT_SPELLINGS.get(midi % 12)
        try:
            return Pitch.from_midi(midi, spelling)
        except NoteNameError:  # B#-2 (MIDI 0) or Cb10 (MIDI 127): no octave holds it
            return Pitch.from_midi(midi)

    def __str__(self) -> str:
        return f"{self.tonic} {self.mode}"


_FLAT_SPELLINGS = {1: PitchClass("D", -1), 3: PitchClass("E", -1), 6: PitchClass("G", -1)} | {
    8: PitchClass("A", -1),
    10: PitchClass("B", -1),
}


@dataclass(frozen=True, slots=True)
class Header:
    """What a score says about all of its parts.

    ``tempo`` counts beats per minute of ``beat`` quarter notes; ``beat`` defaults to the
    meter's beat as music21 counts it (a dotted quarter, 3/2, in 6/8). ``key`` is the key
    signature and mode; ``notes`` the pitch set the music keeps to, when there is one.
    """

    meter: str = "4/4"
    key: Key | None = None
    tempo: float = 120.0
    beat: Fraction = field(default=Fraction(0))
    title: str = ""
    notes: tuple[PitchClass, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.meter, str) or not _METER_RE.match(self.meter):
            raise ScoreError(
                "meter must be N/D with N from 1 to 999 and D a power of two up to 128, "
                f"e.g. '6/8' (received {self.meter!r})"
            )
        if not self.beat:
            object.__setattr__(self, "beat", meter_beat(self.meter))
        object.__setattr__(self, "beat", Fraction(self.beat))
        if self.beat not in DURATIONS.values():
            raise ScoreError(
                f"beat must be the length of a duration code, e.g. 3/2 for a dotted quarter "
                f"(received {self.beat})"
            )
        qpm = float(self.tempo) * float(self.beat)
        if not _MICROSECONDS_PER_MINUTE / _MAX_MIDI_TEMPO <= qpm <= 60_000:
            raise ScoreError(
                f"tempo must give 3.6 to 60000 quarter notes a minute (received {self.tempo} "
                f"beats of {duration_code(self.beat)!r} a minute)"
            )
        object.__setattr__(self, "tempo", float(self.tempo))
        check_text(self.title, "title")
        if self.notes is not None and not self.notes:
            raise ScoreError("notes must name at least one pitch class, or be None")

    @property
    def numerator(self) -> int:
        """Beats in a bar as the time signature writes them (6 in 6/8)."""
        return int(self.meter.partition("/")[0])

    @property
    def denominator(self) -> int:
        """The time signature's note value (8 in 6/8)."""
        return int(self.meter.partition("/")[2])

    @property
    def bar_length(self) -> Fraction:
        """Quarter notes in a full bar."""
        return Fraction(4 * self.numerator, self.denominator)

    @property
    def qpm(self) -> float:
        """Quarter notes per minute, as MIDI counts tempo."""
        return self.tempo * float(self.beat)

    def __str__(self) -> str:
        """``'The Kesh': 6/8, G major, q.=116``."""
        facts = [self.meter, str(self.key) if self.key else "no key"]
        if self.notes is not None:
            facts.append("notes " + " ".join(map(str, self.notes)))
        facts.append(f"{duration_code(self.beat)}={self.tempo:g}")
        return (f"{self.title!r}: " if self.title else "") + ", ".join(facts)
