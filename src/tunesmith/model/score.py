"""The data model: a :class:`Score` is a header, parts of bars of events, chord symbols and repeats.

A score carries everything a file needs, so every writer takes a score alone and every
reader returns one. Scores are immutable, times are exact :class:`~fractions.Fraction`
counts of quarter notes, and scores compare by value::

    >>> from tunesmith.model.score import Bar, Event, Header, Part, Score
    >>> bar = Bar((Event.note("A4", 3),))
    >>> score = Score(Header(meter="3/4"), (Part((bar, bar), name="Flute", program=73),))
    >>> score.melody.name, score.bar_count
    ('Flute', 2)

The note-level types (:class:`Pitch`, :class:`Event`, :class:`Bar`...) live in
:mod:`tunesmith.model.notes` and the header in :mod:`tunesmith.model.header`; both are
re-exported here.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Literal, get_args

from tunesmith.errors import ScoreError
from tunesmith.model.header import Header, Key, check_text, clean_text
from tunesmith.model.notes import (
    ACCIDENTALS,
    DURATIONS,
    HIGHEST_OCTAVE,
    LOWEST_OCTAVE,
    STEPS,
    Bar,
    Drum,
    Event,
    Pitch,
    PitchClass,
    Tune,
    duration_code,
    split_duration,
)

__all__ = [
    "ACCIDENTALS",
    "DURATIONS",
    "HIGHEST_OCTAVE",
    "LOWEST_OCTAVE",
    "ROLES",
    "STEPS",
    "Bar",
    "ChordSymbol",
    "Drum",
    "Event",
    "Header",
    "Key",
    "Part",
    "Pitch",
    "PitchClass",
    "Repeat",
    "Role",
    "Score",
    "Source",
    "Tune",
    "clean_text",
    "duration_code",
    "split_duration",
]

Role = Literal["melody", "counter", "chords", "bass", "drums"]
ROLES: tuple[Role, ...] = get_args(Role)
BASS_CLEF_BELOW = 57
"""A part whose notes average below A3 (MIDI 57) is written in the bass clef."""
_FIGURE_RE = re.compile(r"^[A-G](?:#|b)?[A-Za-z0-9#+()°ø^-]*(?:/[A-G](?:#|b)?)?$")


@dataclass(frozen=True, slots=True)
class Part:
    """One instrument's line: its bars, name, role and General MIDI program.

    A part whose role is ``"drums"`` is a drum part: its events are :class:`Drum` hits,
    it plays on MIDI channel 10 and ``program`` picks the drum kit (0: standard).
    """

    bars: tuple[Bar, ...]
    name: str = ""
    role: Role = "melody"
    program: int = 0

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ScoreError(f"role must be one of {', '.join(ROLES)} (received {self.role!r})")
        if isinstance(self.program, bool) or not 0 <= self.program <= 127:
            raise ScoreError(
                f"program must be a General MIDI program 0-127 (received {self.program!r})"
            )
        check_text(self.name, "a part's name")
        if not self.bars:
            raise ScoreError(f"part {self.name!r} has no bars; a part needs at least one")
        for number, bar in enumerate(self.bars, 1):
            if not bar.events:
                raise ScoreError(f"part {self.name!r}, bar {number} is empty; write a rest")
            wrong = next((e for e in bar.events if (e.pitches if self.is_drum else e.drums)), None)
            if wrong is not None:
                kind = "pitches" if self.is_drum else "drums"
                raise ScoreError(
                    f"part {self.name!r} (role {self.role}), bar {number} has {kind}: a drum "
                    "part holds drum hits and rests, other parts pitches and rests"
                )

    @property
    def is_drum(self) -> bool:
        """Whether the part plays General MIDI percussion (pretty_midi's ``is_drum``)."""
        return self.role == "drums"

    @property
    def tune(self) -> Tune:
        """The part's bars as a :class:`Tune`, for validation, repair and metrics."""
        return Tune(self.bars)

    @property
    def clef(self) -> Literal["treble", "bass", "percussion"]:
        """The clef to write the part in: bass where its notes average below A3 (MIDI 57)."""
        if self.is_drum:
            return "percussion"
        keys = [p.midi for bar in self.bars for e in bar.events for p in e.pitches]
        return "bass" if keys and sum(keys) < BASS_CLEF_BELOW * len(keys) else "treble"


@dataclass(frozen=True, slots=True, order=True)
class ChordSymbol:
    """A chord symbol of the harmony lane: ``figure`` sounds from ``onset`` for ``duration``.

    Times are quarter notes from the start of the written score; ``figure`` is a lead-sheet
    symbol such as ``"D"``, ``"Am7"``, ``"Bbmaj7"`` or ``"D/F#"``.
    """

    onset: Fraction
    duration: Fraction
    figure: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "onset", Fraction(self.onset))
        object.__setattr__(self, "duration", Fraction(self.duration))
        if not isinstance(self.figure, str) or not _FIGURE_RE.match(self.figure):
            raise ScoreError(
                f"unknown chord symbol {self.figure!r}: a root A-G with an optional # or b, a "
                "quality such as m, 7, m7, maj7, dim, sus4, and an optional /bass, e.g. 'F#m7'"
            )
        if self.onset < 0 or self.duration <= 0:
            raise ScoreError(
                f"chord {self.figure!r} needs onset >= 0 and duration > 0 "
                f"(received onset {self.onset}, duration {self.duration})"
            )

    @property
    def end(self) -> Fraction:
        """When the chord stops sounding."""
        return self.onset + self.duration


@dataclass(frozen=True, slots=True, order=True)
class Repeat:
    """Bars ``start`` to ``end`` (0-based, ``end`` excluded, as a slice) played twice.

    With ``ending`` > 0 the last ``ending`` bars of the range are the first ending, played
    only the first time, and the ``ending`` bars after ``end`` (as many as there are) are
    the second ending, as ``|1 ... :|2 ...`` in ABC.
    """

    start: int
    end: int
    ending: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end or not 0 <= self.ending < self.end - self.start:
            raise ScoreError(
                "a repeat needs 0 <= start < end and 0 <= ending < end - start "
                f"(received start={self.start}, end={self.end}, ending={self.ending})"
            )

    @property
    def stop(self) -> int:
        """The bar after the repeat and its second ending: where the next repeat may start."""
        return self.end + self.ending


@dataclass(frozen=True)
class Source:
    """Where a score read from a file came from and what reading it changed or guessed."""

    path: str
    format: Literal["midi", "musicxml", "abc", "text"]
    estimated: tuple[str, ...] = ()
    """Header fields the file did not give, as estimated: ``"key E minor (music21's analysis)"``."""
    quantised: int = 0
    """How many note starts and ends were moved onto the notation's grid."""
    max_shift: Fraction = Fraction(0)
    """The largest such move, in quarter notes."""
    notes: tuple[str, ...] = ()
    """Anything else the reader changed or dropped (grace notes, meter changes...)."""

    def __str__(self) -> str:
        lines = [f"read {self.path} as {self.format}"]
        lines += [f"estimated {what}" for what in self.estimated]
        if self.quantised:
            lines.append(
                f"quantised {self.quantised} note starts/ends to the grid "
                f"(largest move {self.max_shift} quarter notes)"
            )
        return "\n".join(lines + list(self.notes))


@dataclass(frozen=True)
class Score:
    """A header, one or more parts with the same bars, a harmony lane and repeats.

    Raises :class:`~tunesmith.errors.ScoreError` when the parts' bars disagree in number or
    length, the harmony lane overlaps itself or runs past the end, or repeats overlap.
    ``source`` says how a score read from a file was read; it does not take part in ``==``.
    """

    header: Header
    parts: tuple[Part, ...]
    harmony: tuple[ChordSymbol, ...] = ()
    repeats: tuple[Repeat, ...] = ()
    source: Source | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.parts:
            raise ScoreError("a score needs at least one part")
        first = self.parts[0]
        for part in self.parts[1:]:
            if len(part.bars) != len(first.bars):
                raise ScoreError(
                    f"part {part.name!r} has {len(part.bars)} bars but part {first.name!r} has "
                    f"{len(first.bars)}; every part of a score needs the same bars"
                )
            for number, (bar, other) in enumerate(zip(part.bars, first.bars, strict=True), 1):
                if bar.duration != other.duration:
                    raise ScoreError(
                        f"bar {number} of part {part.name!r} lasts {bar.duration} quarter notes "
                        f"but in part {first.name!r} {other.duration}; every part of a score "
                        "needs the same bar lengths"
                    )
        self._check_harmony()
        self._check_repeats()

    def _check_harmony(self) -> None:
        end = Fraction(0)
        for chord in self.harmony:
            if chord.onset < end:
                raise ScoreError(
                    f"chord {chord.figure!r} at {chord.onset} starts before the one before it "
                    f"ends ({end}); the harmony lane is in order and never overlaps"
                )
            end = chord.end
        if end > self.duration:
            raise ScoreError(
                f"the harmony lane runs to {end} quarter notes, past the score's end at "
                f"{self.duration}"
            )

    def _check_repeats(self) -> None:
        free = 0
        for repeat in self.repeats:
            if repeat.start < free or repeat.end > self.bar_count:
                raise ScoreError(
                    f"repeat of bars {repeat.start}-{repeat.end} (0-based, end excluded) overlaps "
                    f"the repeat before it or runs past the last bar ({self.bar_count}); repeats "
                    "are in order and never overlap"
                )
            free = min(repeat.stop, self.bar_count)

    @classmethod
    def of_tune(
        cls, tune: Tune, header: Header | None = None, *, name: str = "", program: int = 0
    ) -> Score:
        """A one-part score of a melody: ``Score.of_tune(tune, Header("6/8"), program=73)``."""
        return cls(header or Header(), (Part(tune.bars, name=name, program=program),))

    @property
    def bar_count(self) -> int:
        """Bars in the written score (repeats not played out)."""
        return len(self.parts[0].bars)

    @property
    def bar_lengths(self) -> tuple[Fraction, ...]:
        """The length of each bar in quarter notes."""
        return tuple(bar.duration for bar in self.parts[0].bars)

    @property
    def duration(self) -> Fraction:
        """The written score's length in quarter notes."""
        return sum(self.bar_lengths, Fraction(0))

    @property
    def melody(self) -> Part:
        """The first part whose role is melody, else the first part that is not drums."""
        for part in self.parts:
            if part.role == "melody":
                return part
        return next((p for p in self.parts if not p.is_drum), self.parts[0])

    def played_bars(self) -> tuple[int, ...]:
        """The written bars' indices in the order they are played, repeats played out."""
        order: list[int] = []
        bar = 0
        for repeat in self.repeats:
            order += range(bar, repeat.end)
            order += range(repeat.start, repeat.end - repeat.ending)
            bar = repeat.end
        return (*order, *range(bar, self.bar_count))

    def expanded(self) -> Score:
        """The score as it is played: repeated bars written out, no repeats left.

        A tie out of the last note before a jump back is dropped (it leads into the bars
        that follow in writing, not the ones played next). Chord symbols go with their bars.
        """
        if not self.repeats:
            return self
        order = self.played_bars()
        starts = [Fraction(0)]
        for length in self.bar_lengths:
            starts.append(starts[-1] + length)
        parts = []
        for part in self.parts:
            bars = [part.bars[i] for i in order]
            for position, (here, after) in enumerate(itertools.pairwise(order)):
                if after != here + 1 and bars[position].events[-1].tie:
                    last = replace(bars[position].events[-1], tie=False)
                    bars[position] = Bar((*bars[position].events[:-1], last))
            parts.append(replace(part, bars=tuple(bars)))
        harmony: list[tuple[int, ChordSymbol]] = []  # (index in the written lane, piece)
        now = Fraction(0)
        for bar in order:
            start, end = starts[bar], starts[bar + 1]
            for index, chord in enumerate(self.harmony):
                onset, stop = max(chord.onset, start), min(chord.end, end)
                if onset >= stop:
                    continue
                piece = ChordSymbol(now + onset - start, stop - onset, chord.figure)
                if harmony and harmony[-1][0] == index and harmony[-1][1].end == piece.onset:
                    merged = harmony.pop()[1]
                    piece = ChordSymbol(
                        merged.onset, merged.duration + piece.duration, chord.figure
                    )
                harmony.append((index, piece))
            now += end - start
        return Score(self.header, tuple(parts), tuple(p for _, p in harmony), source=self.source)
