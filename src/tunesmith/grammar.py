"""Constrained decoding grammars: every sentence is a tune that keeps every hard constraint.

One source, two syntaxes: GBNF for llama.cpp, vLLM and SGLang (:func:`grammar_for`), and
its Lark translation for OpenAI's custom tools (:func:`gbnf_to_lark`). The grammar's text
follows :func:`tunesmith.notation.format`'s layout, so what the model writes is canonical.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from tunesmith.errors import BackendError, NotationError
from tunesmith.notation import BARS_PER_LINE
from tunesmith.score import DURATIONS, Pitch
from tunesmith.theory import written_sections

if TYPE_CHECKING:
    from tunesmith.request import ComposeRequest

__all__ = ["MAX_MELODIC_STATES", "constrained_gbnf", "gbnf_to_lark", "grammar_for", "melodic_gbnf"]


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


MAX_MELODIC_STATES = 20_000
"""Above this many (bar, position, pitch) states the grammar drops the leap limit."""


def grammar_for(request: ComposeRequest) -> str:
    """The GBNF grammar for a request: every hard constraint, the form's cadences, and
    melodic steps of at most ``constraints.max_leap`` semitones where the grammar stays small.
    """  # noqa: D205 - the summary needs two lines
    constraints = request.constraints
    parts = len(written_sections(constraints.form))
    bars = parts * constraints.section_bars
    options: dict[str, Any] = {
        "pitches": constraints.pitches,
        "final_pitches": constraints.tonic_pitches,
        "durations": constraints.durations,
        "bar_length": constraints.bar_length,
        "bar_count": bars,
        "cell_length": constraints.cell_length,
        # every part but the last ends open, on a note of the dominant chord
        "cadences": {
            (part + 1) * constraints.section_bars - 1: constraints.half_cadence_pitches
            for part in range(parts - 1)
        },
    }
    shortest = min(DURATIONS[code] for code in constraints.durations)
    states = bars * int(constraints.bar_length / shortest) * len(constraints.pitches)
    if states <= MAX_MELODIC_STATES:
        return melodic_gbnf(max_leap=constraints.max_leap, **options)
    return constrained_gbnf(**options)


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
