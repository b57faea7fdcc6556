"""How notes are spelled across the model boundary: ABC (the default) or tunesmith notation.

tunesmith notation (``F#4:e``) is the public text form, but Gemma reads it as ~4.7
tokens a note. The ABC dialect here (``L:1/8``, notes beamed by beat, accidentals from the
key signature) costs about one: ``|:dfa afd|e2c BAG|``. It is a strict subset of ABC that
every ABC reader understands, with one rule of its own so that a note's spelling never
depends on what came before it in the bar: a letter that ever needs an accidental gets
one on every note (``=c`` and ``^c``), a letter that never does gets none.

A :class:`Spelling` gives the grammar its literals (:meth:`Spelling.cell_texts`,
:meth:`Spelling.joiner`) and reads the model's text back (:meth:`Spelling.read`).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from tunesmith.errors import GrammarError, NotationError, NoteNameError
from tunesmith.io.abc import ABC_UNIT, ACCIDENTALS, abc_length, abc_note, key_signature
from tunesmith.model.meter import Meter
from tunesmith.model.notation import format_event, parse_tune
from tunesmith.model.score import Bar, Event, Pitch, duration_code
from tunesmith.music.rhythm import Cell

__all__ = ["AbcSpelling", "NotationSpelling", "Spelling"]

_ACCIDENTAL_VALUE = {text: alter for alter, text in ACCIDENTALS.items()}


class Spelling(Hashable, Protocol):
    """The text of notes on the model's side of the boundary."""

    @property
    def name(self) -> str:
        """``"abc"`` or ``"notation"``."""
        ...

    def cell_texts(self, cell: Cell, pitches: Sequence[Pitch]) -> list[str]:
        """The literal of each note of ``cell`` sounding ``pitches`` (same length)."""
        ...

    def rest_text(self, duration: Fraction) -> str:
        """A rest's literal."""
        ...

    def joiner(self, position: Fraction) -> str:
        """What goes between two notes or cells meeting ``position`` quarter notes into a bar."""
        ...

    def separator(self, *, line_end: bool, part_end: bool) -> str:
        """What follows a bar."""
        ...

    def part_start(self) -> str:
        """What precedes the first bar of a part."""
        ...

    def read(self, text: str) -> list[Bar]:
        """The bars of a text in this spelling; :class:`GrammarError` where it is not."""
        ...

    def write(self, bar: Bar) -> str:
        """One bar's notes in this spelling (no separator)."""
        ...


_BROKEN = (Fraction(3, 4), Fraction(1, 4))
_TOKEN_RE = re.compile(
    r"(?P<bar>\|\]|\|\||:\||\|:|\|)|(?P<space>[ \n]+)|(?P<triplet>\(3)|(?P<broken>>)|(?P<tie>-)"
    r'|(?P<annotation>"[^"\n]*")'
    r"|(?P<note>(?P<acc>\^\^|__|\^|_|=)?(?P<step>[A-Ga-gz])(?P<oct>[,']*)"
    r"(?P<num>\d+)?(?P<slash>/(?P<den>\d+)?)?)|(?P<other>.)"
)


@dataclass(frozen=True)
class AbcSpelling:
    """ABC with ``L:1/8`` and a key signature, beamed by ``meter.beam_length``."""

    meter: Meter
    key_sharps: int | None
    explicit: frozenset[str]
    """Letters that always carry an accidental."""
    octaves_down: int = 0
    """Octaves the text is written below the sound, as tin whistle music is: the model
    reads and writes folk tunes around middle C, whatever the instrument."""
    name: str = "abc"

    @classmethod
    def for_pitches(
        cls, meter: Meter, key_sharps: int | None, pitches: Sequence[Pitch]
    ) -> AbcSpelling:
        """The spelling for a tune on ``pitches`` under a key signature of ``key_sharps``.

        A range centred an octave or more above the folk tunes' (B4) is written an octave
        down (a whistle's D5-B6 reads as D-b), as whistle and piccolo music is.
        """
        signature = key_signature(key_sharps)
        alters: dict[str, set[int]] = {}
        for pitch in pitches:
            alters.setdefault(pitch.step, set()).add(pitch.alter)
        explicit = frozenset(
            step
            for step, found in alters.items()
            if len(found) > 1 or found != {signature.get(step, 0)}
        )
        midi = [pitch.midi for pitch in pitches]
        centre = (min(midi) + max(midi)) / 2 if midi else 71
        return cls(meter, key_sharps, explicit, octaves_down=1 if centre >= 79 else 0)

    def pitch_text(self, pitch: Pitch) -> str:
        """``C4`` is ``C``, ``C5`` ``c``, ``C6`` ``c'``, ``C3`` ``C,``; accidentals as above."""
        accidental = ACCIDENTALS[pitch.alter] if pitch.step in self.explicit else ""
        return abc_note(pitch.step, pitch.octave - self.octaves_down, accidental)

    def cell_texts(self, cell: Cell, pitches: Sequence[Pitch]) -> list[str]:
        """Literals of the cell's notes: ``(3`` before a triplet, ``>`` in a dotted pair."""
        texts = [self.pitch_text(pitch) for pitch in pitches]
        if cell.is_triplet:
            return [
                ("(3" if index == 0 else "") + text + abc_length(length * Fraction(3, 2))
                for index, (text, length) in enumerate(zip(texts, cell.durations, strict=True))
            ]
        if cell.durations == _BROKEN and not any(cell.rests):
            return [texts[0] + ">", texts[1]]
        return [
            ("z" if rest else text) + abc_length(length)
            for text, length, rest in zip(texts, cell.durations, cell.rests, strict=True)
        ]

    def rest_text(self, duration: Fraction) -> str:
        """``z2`` is a quarter rest."""
        return "z" + abc_length(duration)

    def joiner(self, position: Fraction) -> str:
        """A space between beamed groups, nothing inside one."""
        return " " if position % self.meter.beam_length == 0 else ""

    def separator(self, *, line_end: bool, part_end: bool) -> str:
        """``|``; ``|`` and a line break every four bars; ``:|`` and a line break after a part.

        Every part is written between repeat marks, as dance tunes are in the corpus (and
        in the prompt's examples), whatever the form it is played in.
        """
        if part_end:
            return ":|\n"
        return "|\n" if line_end else "|"

    def part_start(self) -> str:
        """``|:`` before a part."""
        return "|:"

    def write(self, bar: Bar) -> str:
        """The bar beamed by beat: ``dfa afd``; ``A>B``, ``(3`` and ``-`` where they belong."""
        out, position, triplet_left, broken = [], Fraction(0), 0, False
        events = bar.events
        for index, event in enumerate(events):
            if event.is_chord:
                raise NotationError("chord: the ABC spelling writes melodies only")
            text = "z" if event.is_rest else self.pitch_text(event.pitches[0])
            length = event.duration
            if position and (joiner := self.joiner(position)):
                out.append(joiner)
            following = events[index + 1] if index + 1 < len(events) else None
            if broken:
                out.append(text + ("-" if event.tie else ""))
                broken = False
            elif (
                following is not None
                and (length, following.duration) == _BROKEN
                and not event.is_rest
                and not following.is_rest
                and not event.tie
            ):
                out.append(text + ">")
                broken = True
            else:
                if length.denominator % 3 == 0:
                    if triplet_left == 0:
                        text, triplet_left = "(3" + text, 3
                    triplet_left -= 1
                    length = length * Fraction(3, 2)
                out.append(text + abc_length(length) + ("-" if event.tie else ""))
            position += event.duration
        return "".join(out)

    def read(self, text: str) -> list[Bar]:
        """The bars of ABC written in this dialect (bar lines, notes, ``(3``, ``>``, ``-``, ``z``).

        Chord marks such as ``"D"`` are skipped. Raises :class:`GrammarError` with the line
        and column of anything else.
        """
        reader = _AbcReader(key_signature(self.key_sharps), self.octaves_down)
        line, line_start = 1, 0
        for match in _TOKEN_RE.finditer(text):
            kind = match.lastgroup
            if kind == "annotation":
                continue  # a chord mark ("D"): read by tunesmith.music.harmony.read_marks
            if kind == "space":
                newlines = match.group().count("\n")
                if newlines:
                    line += newlines
                    line_start = match.start() + match.group().rindex("\n") + 1
            elif kind == "bar":
                reader.bar_line()
            elif kind == "triplet":
                reader.triplet_left = 3
            elif kind in {"broken", "note", "tie"}:
                try:
                    if kind == "note":
                        reader.note(match)
                    else:
                        reader.broken() if kind == "broken" else reader.tie()
                except ValueError as error:
                    column = match.start() - line_start + 1
                    raise GrammarError(
                        str(error), line=line, column=column, token=match.group()
                    ) from None
            else:
                column = match.start() - line_start + 1
                raise GrammarError(
                    "not part of tunesmith's ABC", line=line, column=column, token=match.group()
                )
        reader.bar_line()
        return reader.bars


class _AbcReader:
    """The state of :meth:`AbcSpelling.read`: bars so far, the open bar, tuplet and '>'."""

    def __init__(self, signature: dict[str, int], octaves_up: int) -> None:
        self.signature = signature
        self.octaves_up = octaves_up
        self.bars: list[Bar] = []
        self.events: list[Event] = []
        self.triplet_left = 0
        self.halve_next = False

    def bar_line(self) -> None:
        if self.events:
            self.bars.append(Bar(tuple(self.events)))
            self.events = []

    def broken(self) -> None:
        if not self.events or self.events[-1].is_rest:
            raise ValueError("'>' must follow a note")
        last = self.events[-1]
        self.events[-1] = Event(last.pitches, last.duration * Fraction(3, 2))
        self.halve_next = True

    def tie(self) -> None:
        if not self.events or self.events[-1].is_rest:
            raise ValueError("'-' (a tie) must follow a note")
        last = self.events[-1]
        self.events[-1] = Event(last.pitches, last.duration, tie=True)

    def note(self, match: re.Match[str]) -> None:
        length = ABC_UNIT * int(match["num"] or 1)
        if match["slash"]:
            length /= int(match["den"] or 2)
        if self.triplet_left:
            length, self.triplet_left = length * Fraction(2, 3), self.triplet_left - 1
        if self.halve_next:
            length, self.halve_next = length / 2, False
        step = match["step"]
        if step == "z":
            self.events.append(Event.rest(length))
            return
        marks = match["oct"]
        octave = (5 if step.islower() else 4) + marks.count("'") - marks.count(",")
        octave += self.octaves_up
        accidental = match["acc"]
        alter = _ACCIDENTAL_VALUE[accidental] if accidental else self.signature.get(step.upper(), 0)
        try:
            pitch = Pitch(step.upper(), alter, octave)
        except NoteNameError as error:
            raise ValueError(str(error)) from None
        self.events.append(Event((pitch,), length))


_CHORD_MARK = re.compile(r'"[^"\n]*"')


@dataclass(frozen=True)
class NotationSpelling:
    """tunesmith notation itself, for models that read it best (capable chat models)."""

    name: str = "notation"

    def cell_texts(self, cell: Cell, pitches: Sequence[Pitch]) -> list[str]:
        """``A4:e`` for each note, ``r:q`` for a rest."""
        return [
            ("r" if rest else str(pitch)) + ":" + duration_code(length)
            for pitch, length, rest in zip(pitches, cell.durations, cell.rests, strict=True)
        ]

    def rest_text(self, duration: Fraction) -> str:
        """``r:q``."""
        return "r:" + duration_code(duration)

    def joiner(self, position: Fraction) -> str:
        """Events are separated by spaces."""
        return " "

    def separator(self, *, line_end: bool, part_end: bool) -> str:
        """`` |``, with a line break every four bars."""
        return " |\n" if line_end or part_end else " | "

    def part_start(self) -> str:
        """Nothing: repeats are laid out by tunesmith."""
        return ""

    def read(self, text: str) -> list[Bar]:
        """:func:`tunesmith.model.notation.parse_tune`, chord marks such as ``"D"`` skipped."""
        return list(parse_tune(_CHORD_MARK.sub("", text)).bars)

    def write(self, bar: Bar) -> str:
        """:func:`tunesmith.model.notation.format_event` for each event."""
        return " ".join(format_event(event) for event in bar.events)
