"""tunesmith's text notation, defined once and used three ways.

It is read by :func:`parse`, written by :func:`format` and turned into a constrained
decoding grammar (GBNF) by :func:`constrained_gbnf`.

A tune is events separated by spaces and bars separated by ``|``::

    A4:e B4:e C#5:e F#5:q. | G5:e F#5:e C#5:e B4:q. | r:q A4:e B4:q~ | B4:q. A4:q. |

See ``docs/grammar.md`` for the EBNF. Parsing checks syntax only; whether a tune fits a
request (scale, meter, range) is :mod:`tunesmith.validate`'s job.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from tunesmith.errors import GrammarError, NotationError
from tunesmith.tune import ACCIDENTALS, Bar, Event, Pitch, Tune

__all__ = [
    "DURATIONS",
    "constrained_gbnf",
    "duration_code",
    "extract",
    "format",
    "melodic_gbnf",
    "parse",
]

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

BAR_LINE = "|"
TIE = "~"
REST = "r"
BARS_PER_LINE = 4

_ACCIDENTAL_RE = "|".join(sorted((re.escape(a) for a in ACCIDENTALS if a), key=len, reverse=True))
_PITCH_PATTERN = rf"[A-G](?:{_ACCIDENTAL_RE})?[0-9]"
_DURATION_PATTERN = "|".join(re.escape(code) for code in sorted(DURATIONS, key=len, reverse=True))
_EVENT_RE = re.compile(
    rf"(?:(?P<rest>{REST})|\[(?P<chord>\s*{_PITCH_PATTERN}(?:\s+{_PITCH_PATTERN})+\s*)\]"
    rf"|(?P<pitch>{_PITCH_PATTERN})):(?P<duration>{_DURATION_PATTERN})(?P<tie>{TIE})?"
)
_TOKEN_RE = re.compile(
    r"(?P<space>[ \t\r]+)|(?P<newline>\n)|(?P<bar>\|)"
    r"|(?P<event>\[[^\]\n|]*\]\S*|[^\s|\[]+)|(?P<other>.)"
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    line: int
    column: int


def _tokens(text: str) -> Iterator[_Token]:
    line, line_start = 1, 0
    for match in _TOKEN_RE.finditer(text):
        kind = match.lastgroup or "other"
        if kind == "newline":
            line, line_start = line + 1, match.end()
        elif kind != "space":
            yield _Token(kind, match.group(), line, match.start() - line_start + 1)


def _event(token: _Token) -> Event:
    match = _EVENT_RE.fullmatch(token.text)
    if match is None:
        raise GrammarError(
            _explain(token.text), line=token.line, column=token.column, token=token.text
        )
    if match["rest"]:
        if match["tie"]:
            raise GrammarError(
                "a rest cannot be tied", line=token.line, column=token.column, token=token.text
            )
        pitches: tuple[Pitch, ...] = ()
    elif match["chord"]:
        pitches = tuple(Pitch.parse(name) for name in match["chord"].split())
    else:
        pitches = (Pitch.parse(match["pitch"]),)
    return Event(pitches, DURATIONS[match["duration"]], bool(match["tie"]))


def _explain(text: str) -> str:
    """Say which part of a bad event token is wrong."""
    head, colon, duration = text.partition(":")
    if not colon:
        return "expected PITCH:DURATION such as 'C#5:q' or 'r:e', missing ':'"
    duration = duration.removesuffix(TIE)
    if duration not in DURATIONS:
        return (
            f"unknown duration {duration!r}: use w h q e s t, optionally followed by '.', '..' "
            "or '3' (triplet), e.g. 'q.' or 'e3'"
        )
    return (
        f"unknown pitch {head!r}: use a letter A-G, an optional accidental (# ## b bb) and an "
        "octave 0-9 such as 'F#4', 'r' for a rest or '[D4 F#4 A4]' for a chord"
    )


def parse(text: str) -> Tune:
    """Read tunesmith notation into a :class:`~tunesmith.tune.Tune`.

    A leading and a trailing bar line are optional; line breaks count as spaces.

    Raises
    ------
    GrammarError
        With the 1-based line and column of the first token that is not valid notation.
    """
    bars: list[Bar] = []
    current: list[Event] = []
    last = _Token("bar", "", 1, 1)
    for token in _tokens(text):
        if token.kind == "bar":
            if current:
                bars.append(Bar(tuple(current)))
                current = []
            elif bars or last.text:
                raise GrammarError("empty bar", line=token.line, column=token.column, token="|")
        elif token.kind == "event":
            current.append(_event(token))
        else:
            raise GrammarError(
                "unexpected character", line=token.line, column=token.column, token=token.text
            )
        last = token
    if current:
        bars.append(Bar(tuple(current)))
    if not bars:
        raise GrammarError(
            "no notes: a tune needs at least one bar", line=last.line, column=last.column, token=""
        )
    return Tune(tuple(bars))


_FENCE_RE = re.compile(r"^```[\w-]*$", re.MULTILINE)


def extract(text: str) -> str:
    """The notation in a model's answer: drops markdown fences and lines of prose.

    A line is kept when at least half of its words are events or bar lines.
    """
    kept = []
    for line in _FENCE_RE.sub("", text).splitlines():
        words = line.replace("|", " | ").split()
        notation = sum(1 for w in words if w == BAR_LINE or _EVENT_RE.fullmatch(w))
        if words and notation * 2 >= len(words):
            kept.append(line.strip())
    return "\n".join(kept)


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


def format_event(event: Event) -> str:
    """One event as notation text, e.g. ``"C#5:q."``."""
    if event.is_rest:
        head = REST
    elif event.is_chord:
        head = "[" + " ".join(str(pitch) for pitch in event.pitches) + "]"
    else:
        head = str(event.pitches[0])
    return f"{head}:{duration_code(event.duration)}{TIE if event.tie else ''}"


def format(tune: Tune) -> str:  # noqa: A001 - the inverse of parse(), named as in the design
    """Write a tune as notation text, four bars a line; ``parse(format(t)) == t``."""
    lines = []
    for start in range(0, len(tune.bars), BARS_PER_LINE):
        bars = tune.bars[start : start + BARS_PER_LINE]
        lines.append(" | ".join(" ".join(map(format_event, bar.events)) for bar in bars) + " |")
    return "\n".join(lines)


def _bar_separator(index: int, count: int) -> str:
    """What follows bar ``index`` (0-based) of ``count`` in :func:`format`'s layout."""
    if index == count - 1:
        return " |"
    return " |\n" if (index + 1) % BARS_PER_LINE == 0 else " | "


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _sequence_rules(
    prefix: str, parts: dict[str, int], last_parts: dict[str, int], total: int
) -> dict[int, str]:
    """Rules ``{prefix}{k}``: a sequence of ``parts`` (rule name -> size) summing to exactly k.

    The sequence ends with one of ``last_parts``, so the last event of a bar or of the tune
    can be constrained separately (e.g. to the tonic). Only lengths that can be filled get
    a rule, so the grammar has no dead ends. Returns {k: rule text} for k = 1..total.
    """
    rules: dict[int, str] = {}
    for remaining in range(1, total + 1):
        alternatives = [
            f'{name} " " {prefix}{remaining - size}'
            for name, size in parts.items()
            if size < remaining and remaining - size in rules
        ]
        alternatives += [name for name, size in last_parts.items() if size == remaining]
        if alternatives:
            rules[remaining] = f"{prefix}{remaining} ::= " + " | ".join(alternatives)
    return rules


def _code_name(code: str) -> str:
    return code.replace(".", "d").replace("3", "t")


def constrained_gbnf(
    *,
    pitches: Sequence[Pitch],
    final_pitches: Sequence[Pitch],
    durations: Sequence[str],
    bar_length: Fraction,
    bar_count: int,
    cell_length: Fraction | None = None,
    cadences: Mapping[int, Sequence[Pitch]] | None = None,
) -> str:
    """A GBNF grammar (llama.cpp) whose every sentence is a tune that fits the constraints.

    Every note is one of ``pitches``, every duration one of ``durations``, every bar sums
    exactly to ``bar_length`` quarter notes, there are exactly ``bar_count`` bars and the
    last note is one of ``final_pitches``. ``cadences`` maps a bar (0-based) to the pitches
    its last note must be one of (phrase endings). The text follows :func:`format`'s
    layout, so what the model writes is already canonical.

    With ``cell_length`` (e.g. a dotted quarter in 6/8), a bar is a sequence of rhythm
    cells: each cell is filled exactly by shorter notes, or a note spans whole cells, so
    notes never straddle the beat (``e q``, ``q e``, ``e e e``, ``q.`` in a jig).

    Raises :class:`NotationError` when the durations cannot fill a bar exactly.
    """
    cell_length = cell_length or bar_length
    if bar_length % cell_length:
        cell_length = bar_length
    unit = _gcd(bar_length, cell_length)
    for code in durations:
        unit = _gcd(unit, DURATIONS[code])
    cell_units, cells = int(cell_length / unit), int(bar_length / cell_length)
    units = {_code_name(code): int(DURATIONS[code] / unit) for code in durations}
    inner = {name: size for name, size in units.items() if size <= cell_units}
    spanning = {
        name: size // cell_units
        for name, size in units.items()
        if size > cell_units and size % cell_units == 0 and size <= cell_units * cells
    }
    cell = _sequence_rules("c", _prefixed("ev", inner), _prefixed("ev", inner), cell_units)
    if cell_units not in cell:
        raise NotationError(
            f"the durations {', '.join(durations)} cannot fill a bar of {bar_length} quarter notes"
        )
    bar_parts = {f"c{cell_units}": 1, **_prefixed("ev", spanning)}
    rules = [*cell.values(), *_sequence_rules("l", bar_parts, bar_parts, cells).values()]
    code_by_name = {_code_name(code): code for code in durations}
    events = [f"ev{name} ::= pitch {_literal(':' + code_by_name[name])}" for name in units]
    endings = {**(cadences or {}), bar_count - 1: final_pitches}
    names: dict[tuple[str, ...], str] = {}  # ending pitch set -> suffix ("" for the final)
    pitch_rules = ["pitch ::= " + " | ".join(_literal(str(p)) for p in dict.fromkeys(pitches))]
    for index in sorted(endings, key=lambda bar: bar != bar_count - 1):
        key = tuple(dict.fromkeys(str(p) for p in endings[index]))
        if key in names:
            continue
        suffix = names[key] = "" if not names else f"{len(names)}-"
        fin = f"fin{suffix}"
        rules += _sequence_rules(
            f"g{suffix}", _prefixed("ev", inner), _prefixed(fin, inner), cell_units
        ).values()
        last = {f"g{suffix}{cell_units}": 1, **_prefixed(fin, spanning)}
        rules += _sequence_rules(f"f{suffix}", bar_parts, last, cells).values()
        target = f"final{suffix.rstrip('-')}"
        events += [
            f"{fin}{name} ::= {target} {_literal(':' + code_by_name[name])}" for name in units
        ]
        pitch_rules.append(f"{target} ::= " + " | ".join(_literal(p) for p in key))
    sequence = []
    for index in range(bar_count):
        if index in endings:
            suffix = names[tuple(dict.fromkeys(str(p) for p in endings[index]))]
            sequence.append(f"f{suffix}{cells}")
        else:
            sequence.append(f"l{cells}")
        sequence.append(_literal(_bar_separator(index, bar_count)))
    return "\n".join(["root ::= " + " ".join(sequence), *rules, *events, *pitch_rules])


def melodic_gbnf(
    *,
    pitches: Sequence[Pitch],
    final_pitches: Sequence[Pitch],
    durations: Sequence[str],
    bar_length: Fraction,
    bar_count: int,
    max_leap: int,
    cell_length: Fraction | None = None,
    cadences: Mapping[int, Sequence[Pitch]] | None = None,
) -> str:
    """Like :func:`constrained_gbnf`, and every melodic step is at most ``max_leap``
    semitones (or exactly an octave), as in folk tunes, which mostly move by step.

    The grammar carries the previous pitch from note to note, across bar lines too: one
    rule per (bar, position in the bar, previous pitch), so it is larger; only states from
    which the tune can still be finished get a rule.
    """  # noqa: D205 - the summary needs two lines
    cell_length = cell_length or bar_length
    if bar_length % cell_length:
        cell_length = bar_length
    unit = _gcd(bar_length, cell_length)
    for code in durations:
        unit = _gcd(unit, DURATIONS[code])
    bar_units, cell_units = int(bar_length / unit), int(cell_length / unit)
    lengths = {code: int(DURATIONS[code] / unit) for code in durations}

    def fits(position: int, size: int) -> bool:
        """Inside one rhythm cell, or whole cells from a cell boundary, within the bar."""
        if position + size > bar_units:
            return False
        if size <= cell_units:
            return position // cell_units == (position + size - 1) // cell_units
        return position % cell_units == 0 and size % cell_units == 0

    notes = list(dict.fromkeys(pitches))
    index = {pitch: number for number, pitch in enumerate(notes)}
    endings = {**(cadences or {}), bar_count - 1: final_pitches}
    allowed_end = {bar: {index[p] for p in group if p in index} for bar, group in endings.items()}

    def near(previous: int | None) -> list[int]:
        if previous is None:
            return list(range(len(notes)))
        step = notes[previous].midi
        return [
            n
            for n, pitch in enumerate(notes)
            if abs(pitch.midi - step) <= max_leap or abs(pitch.midi - step) == 12
        ]

    # alive[(bar, position, previous)]: alternatives (text, next state or None at the end)
    alive: dict[tuple[int, int, int | None], list[tuple[str, tuple[int, int, int] | None]]] = {}

    def step(bar: int, reached: int, pitch: int) -> tuple[str, tuple[int, int, int] | None]:
        """What follows a note ending at ``reached``: ("", None) where the tune cannot go on."""
        if reached < bar_units:
            following = (bar, reached, pitch)
            return (" ", following) if following in alive else ("", None)
        if bar in allowed_end and pitch not in allowed_end[bar]:
            return "", None
        separator = _bar_separator(bar, bar_count)
        if bar == bar_count - 1:
            return separator, None
        following = (bar + 1, 0, pitch)
        return (separator, following) if following in alive else ("", None)

    for bar in range(bar_count - 1, -1, -1):
        for position in range(bar_units - 1, -1, -1):
            previous_options: list[int | None] = (
                [None] if bar == 0 and position == 0 else list(range(len(notes)))
            )
            for previous in previous_options:
                alternatives = [
                    (f"{notes[pitch]}:{code}{separator}", following)
                    for code, size in lengths.items()
                    if fits(position, size)
                    for pitch in near(previous)
                    for separator, following in [step(bar, position + size, pitch)]
                    if following is not None or separator.endswith("|")
                ]
                if alternatives:
                    alive[(bar, position, previous)] = alternatives
    start = (0, 0, None)
    if start not in alive:
        raise NotationError(
            f"no tune of {bar_count} bars fits these pitches, durations and leaps of at most "
            f"{max_leap} semitones"
        )

    def name(state: tuple[int, int, int | None]) -> str:
        bar, position, previous = state
        return f"s{bar}-{position}-{'x' if previous is None else previous}"

    rules = [f"root ::= {name(start)}"]
    for state in sorted(alive, key=lambda st: (st[0], st[1], -1 if st[2] is None else st[2])):
        options = [
            _literal(text) + (f" {name(following)}" if following else "")
            for text, following in alive[state]
        ]
        rules.append(f"{name(state)} ::= " + " | ".join(options))
    return "\n".join(rules)


def _prefixed(prefix: str, sizes: dict[str, int]) -> dict[str, int]:
    return {prefix + name: size for name, size in sizes.items()}


def _gcd(a: Fraction, b: Fraction) -> Fraction:
    """Greatest common divisor of two non-negative fractions."""
    while b:
        a, b = b, a % b
    return a
