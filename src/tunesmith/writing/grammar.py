"""Constrained decoding grammars: every sentence is a tune that keeps every hard constraint.

One generator, :func:`bars_gbnf`, writes GBNF (llama.cpp, vLLM, SGLang) for a run of bars:
every note is an allowed pitch within the range, every bar is made of the rhythm's cells
(or its cadence slots), every melodic step is at most ``max_leap`` semitones,
and where a bar must end on certain pitches (a cadence, or a note that leads into a bar
already written) its last note does; where a bar stands on a chord (:class:`ChordChoice`),
the note sounding on each strong beat is one of its tones, and a bar whose chord the model
chooses opens with the chord's mark (``"D"``). The grammar carries the previous pitch from note to
note, and only states from which the run can be finished get a rule, so it has no dead
ends. :func:`gbnf_to_lark` translates it for OpenAI's grammar-constrained custom tools.

The literals come from a :class:`~tunesmith.writing.spelling.Spelling`: ABC for the embedded
model (about one token a note), tunesmith notation where a model reads that best.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from tunesmith.errors import BackendError, ConstraintError
from tunesmith.model.score import Pitch
from tunesmith.music.rhythm import Cell, Rhythm
from tunesmith.writing.spelling import Spelling

__all__ = ["BarSpec", "ChordChoice", "bars_gbnf", "gbnf_to_lark", "grammar_alphabet"]


@dataclass(frozen=True)
class ChordChoice:
    """A chord a bar may stand on: the mark written before its notes, and its chord tones."""

    mark: str
    """Text that opens the bar, e.g. ``'"D"'`` (empty: the chord is given, not written)."""
    tones: tuple[tuple[Fraction, frozenset[int]], ...]
    """(strong beat's offset in the bar, pitch classes 0-11): the note sounding there has one."""

    def required(self, offset: Fraction, duration: Fraction) -> frozenset[int] | None:
        """The pitch classes a note from ``offset`` lasting ``duration`` may have (None: any)."""
        sets = [tones for beat, tones in self.tones if offset <= beat < offset + duration]
        return frozenset.intersection(*sets) if sets else None


_NO_CHORD = ChordChoice("", ())


@dataclass(frozen=True)
class BarSpec:
    """What one bar may hold."""

    rhythm: Rhythm
    pitches: tuple[Pitch, ...]
    """The allowed pitches, low to high."""
    cadence: bool = False
    """Built from the rhythm's cadence slots (a phrase ending)."""
    final: frozenset[int] | None = None
    """MIDI keys the bar's last sounding note may have (None: any allowed pitch)."""
    prefix: str = ""
    """Text before the bar, e.g. ABC's ``|:``."""
    separator: str = "|"
    """Text after the bar."""
    contour: tuple[tuple[Fraction, int], ...] = ()
    """(offset, direction): the note starting at that offset moves up (1), down (-1) or
    repeats (0) from the note before it, as a variation that keeps a bar's shape does."""
    chords: tuple[ChordChoice, ...] = ()
    """The chords the bar may stand on, one chosen by its mark (none: no harmony)."""


@dataclass(frozen=True)
class _Step:
    """One note of a pattern: where it starts, how long, and how it is written."""

    offset: Fraction
    """Quarter notes from the bar line."""
    duration: Fraction
    rest: bool
    cell: Cell
    index: int


def _options(spec: BarSpec) -> dict[Fraction, list[Cell]]:
    """The patterns that may start at each cell boundary of the bar."""
    rhythm = spec.rhythm
    length, bar = rhythm.cell_length, rhythm.meter.bar_length
    beats = set(rhythm.meter.beat_starts())
    options: dict[Fraction, list[Cell]] = {}
    if spec.cadence:
        position = Fraction(0)
        for slot in rhythm.cadence:
            options[position] = list(rhythm.cells) if slot is None else [slot]
            position += slot.length if slot else length
        return options
    position = Fraction(0)
    while position < bar:
        options[position] = list(rhythm.cells) + [
            Cell((long,), (False,))
            for long in rhythm.long
            if position in beats and position + long <= bar
        ]
        position += length
    return options


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class _Builder:
    """Rules for the live states of a run of bars, named by (bar, offset, pattern, pitch)."""

    def __init__(
        self, specs: Sequence[BarSpec], spelling: Spelling, start: Pitch | None, max_leap: int
    ) -> None:
        self.specs, self.spelling, self.max_leap = specs, spelling, max_leap
        self.start = start
        self.options = [_options(spec) for spec in specs]
        self.final_offset = [_final_offset(spec) for spec in specs]
        self.contours = [dict(spec.contour) for spec in specs]
        self.rules: dict[str, str] = {}
        self.order: dict[str, tuple[object, ...]] = {}
        """Each rule's place when written out: by bar, then offset in the bar."""
        self.live: dict[str, bool] = {}

    def near(self, spec: BarSpec, previous: int | None) -> list[Pitch]:
        if previous is None:
            return list(spec.pitches)
        return [pitch for pitch in spec.pitches if abs(pitch.midi - previous) <= self.max_leap]

    def entry(self, bar: int, previous: int | None) -> str | None:
        """The rule where a bar starts: its chord mark (if it has one), then its notes."""
        choices = self.specs[bar].chords or (_NO_CHORD,)
        if len(choices) == 1 and not choices[0].mark:
            return self.boundary(bar, Fraction(0), previous, 0)
        name = f"e{bar}-{_pitch_name(previous)}"
        if name in self.live:
            return name if self.live[name] else None
        self.live[name] = False
        alternatives = []
        for choice, chord in enumerate(choices):
            following = self.boundary(bar, Fraction(0), previous, choice)
            if following is not None:
                alternatives.append(
                    f"{_literal(chord.mark)} {following}" if chord.mark else following
                )
        if not alternatives:
            return None
        self.rules[name] = " | ".join(alternatives)
        self.order[name] = (bar, Fraction(-1), "", -1 if previous is None else previous)
        self.live[name] = True
        return name

    def boundary(self, bar: int, offset: Fraction, previous: int | None, choice: int) -> str | None:
        """The rule at a cell boundary, or None when the run cannot be finished from here."""
        name = f"b{bar}-{_units(offset)}-{_pitch_name(previous)}{_choice_name(choice)}"
        if name in self.live:
            return name if self.live[name] else None
        self.live[name] = False  # no cycles: offsets only grow
        spec = self.specs[bar]
        alternatives: list[str] = []
        if offset == spec.rhythm.meter.bar_length:
            if bar == len(self.specs) - 1:
                alternatives.append(_literal(spec.separator))
            else:
                following = self.specs[bar + 1]
                after = self.entry(bar + 1, previous)
                if after is not None:
                    alternatives.append(_literal(spec.separator + following.prefix) + " " + after)
        else:
            for cell in self.options[bar].get(offset, []):
                alternatives += self.pattern(bar, offset, cell, 0, previous, choice=choice)
        if not alternatives:
            return None
        self.rules[name] = " | ".join(dict.fromkeys(alternatives))
        self.order[name] = (bar, offset, "", -1 if previous is None else previous)
        self.live[name] = True
        return name

    def pattern(
        self,
        bar: int,
        start: Fraction,
        cell: Cell,
        index: int,
        previous: int | None,
        *,
        choice: int,
    ) -> list[str]:
        """Alternatives for note ``index`` of ``cell`` (started at ``start``) onwards."""
        spec = self.specs[bar]
        offset = start + sum(cell.durations[:index], Fraction(0))
        duration = cell.durations[index]
        joiner = self.spelling.joiner(offset) if offset else ""
        ending = offset + duration == self.final_offset[bar]
        tones = (spec.chords or (_NO_CHORD,))[choice].required(offset, duration)
        alternatives = []
        if cell.rests[index]:
            choices: list[Pitch | None] = [None]
        else:
            choices = [
                pitch
                for pitch in self.near(spec, previous)
                if not (ending and spec.final is not None and pitch.midi not in spec.final)
                and (tones is None or pitch.midi % 12 in tones)
            ]
            direction = self.contours[bar].get(offset)
            if direction is not None and previous is not None:
                choices = [p for p in choices if p and _sign(p.midi - previous) == direction]
        for pitch in choices:
            sounding = previous if pitch is None else pitch.midi
            texts = self.spelling.cell_texts(cell, [pitch or spec.pitches[0]] * len(cell.durations))
            text = joiner + texts[index]
            if index + 1 < len(cell.durations):
                following = self.inside(bar, start, cell, index + 1, sounding, choice=choice)
            else:
                following = self.boundary(bar, start + cell.length, sounding, choice)
            if following is not None:
                alternatives.append(f"{_literal(text)} {following}")
        return alternatives

    def inside(
        self,
        bar: int,
        start: Fraction,
        cell: Cell,
        index: int,
        previous: int | None,
        *,
        choice: int,
    ) -> str | None:
        key = _cell_key(cell)
        name = f"n{bar}-{_units(start)}-{key}-{index}-{_pitch_name(previous)}{_choice_name(choice)}"
        if name in self.live:
            return name if self.live[name] else None
        self.live[name] = False
        alternatives = self.pattern(bar, start, cell, index, previous, choice=choice)
        if not alternatives:
            return None
        self.rules[name] = " | ".join(alternatives)
        self.order[name] = (bar, start + sum(cell.durations[:index], Fraction(0)), key, previous)
        self.live[name] = True
        return name


def _final_offset(spec: BarSpec) -> Fraction:
    """Where the bar's last sounding note ends: before the cadence's trailing rests."""
    end = spec.rhythm.meter.bar_length
    if spec.cadence:
        for slot in reversed(spec.rhythm.cadence):
            if slot is None:
                break
            for duration, rest in zip(reversed(slot.durations), reversed(slot.rests), strict=True):
                if not rest:
                    return end
                end -= duration
    return end


def _sign(step: int) -> int:
    return (step > 0) - (step < 0)


def _units(offset: Fraction) -> str:
    return f"{offset.numerator}x{offset.denominator}" if offset.denominator != 1 else str(offset)


def _pitch_name(midi: int | None) -> str:
    return "x" if midi is None else str(midi)


def _choice_name(choice: int) -> str:
    return f"-c{choice}" if choice else ""


def _cell_key(cell: Cell) -> str:
    return "y".join(
        f"{'r' if rest else ''}{_units(duration)}"
        for duration, rest in zip(cell.durations, cell.rests, strict=True)
    )


def bars_gbnf(
    specs: Sequence[BarSpec],
    spelling: Spelling,
    *,
    start: Pitch | None = None,
    max_leap: int = 7,
) -> str:
    """A GBNF grammar whose sentences are exactly the runs of bars ``specs`` allows.

    ``start`` is the note before the run (its first note is within ``max_leap`` of it).
    Grammars are cached: a tune's bars share a few specs and start pitches.

    Raises :class:`ConstraintError` when no run of bars fits (for example a cadence no
    allowed pitch can reach).
    """
    return _bars_gbnf(tuple(specs), spelling, start, max_leap)


@functools.lru_cache(maxsize=1024)
def _bars_gbnf(
    specs: tuple[BarSpec, ...], spelling: Spelling, start: Pitch | None, max_leap: int
) -> str:
    """:func:`bars_gbnf`, cached."""
    if not specs:
        raise ConstraintError("a grammar needs at least one bar")
    builder = _Builder(specs, spelling, start, max_leap)
    first = builder.entry(0, None if start is None else start.midi)
    if first is None:
        raise ConstraintError(
            f"no {len(specs)}-bar run fits these pitches, rhythms, cadences and leaps of at "
            f"most {max_leap} semitones"
        )
    root = (
        f"root ::= {_literal(specs[0].prefix)} {first}" if specs[0].prefix else f"root ::= {first}"
    )
    names = sorted(builder.rules, key=lambda name: str(builder.order[name]))
    ordered = sorted(names, key=lambda name: builder.order[name][:2])  # bar, offset
    return "\n".join([root, *(f"{name} ::= {builder.rules[name]}" for name in ordered)])


_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def grammar_alphabet(gbnf: str) -> frozenset[str]:
    """Every character a sentence of the grammar can contain (its literals' characters)."""
    characters: set[str] = set()
    for literal in _STRING.findall(gbnf):
        characters.update(re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], literal))
    return frozenset(characters)


_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_RULE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_-]*)\s*::=\s*(.*)$")


def gbnf_to_lark(gbnf: str) -> str:
    """The GBNF grammar in Lark syntax, for OpenAI's grammar-constrained custom tools.

    Covers what tunesmith's grammars use: rules, string literals, sequences, ``|``,
    parentheses and ``* + ?``. Rule names become lower case with ``_`` for ``-``; ``root``
    becomes Lark's ``start``.
    """

    def name(text: str) -> str:
        return "start" if text == "root" else text.lower().replace("-", "_")

    rules = []
    for number, line in enumerate(gbnf.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _RULE.match(line)
        if match is None:
            raise BackendError(
                f"grammar line {number} is not 'name ::= ...' (received {line[:40]!r})",
                hint="use grammar='none' with this request",
            )
        body, position, parts = match.group(2), 0, []
        while position < len(body):
            char = body[position]
            if char.isspace() or char in "|()*+?":
                parts.append(char)
                position += 1
            elif char == '"' and (literal := _LITERAL.match(body, position)):
                parts.append(literal.group())
                position = literal.end()
            elif identifier := _NAME.match(body, position):
                parts.append(name(identifier.group()))
                position = identifier.end()
            else:
                raise BackendError(
                    f"grammar line {number}: the openai grammar mode cannot translate "
                    f"{body[position : position + 20]!r} to Lark",
                    hint="use grammar='none' with this request",
                )
        rules.append(f"{name(match.group(1))}: {''.join(parts)}")
    return "\n".join(rules)
