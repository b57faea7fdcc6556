"""tunesmith's text notation: one definition, read by :func:`parse` and written by :func:`unparse`.

A melody is events separated by spaces and bars separated by ``|``::

    A4:e B4:e C#5:e F#5:q. | G5:e F#5:e C#5:e B4:q. | r:q A4:e B4:q.~ | B4:q. A4:q. |

A score adds a header, one block per part and a harmony lane, and repeat marks::

    title: The Kesh
    meter: 6/8
    key: G major
    tempo: q.=116

    part: Fiddle
    role: melody
    program: 40
    |: G4:e G4:e G4:e G4:q. | D5:q. B4:q. :|

    part: Drums
    role: drums
    program: 0
    |: kick:q. snare:q. | kick:q. [snare crash]:q. :|

    harmony:
    |: G:h. | D:h. :|

See ``docs/grammar.md`` for the EBNF. Parsing checks syntax only; whether music fits a
request (scale, meter, range) is :mod:`tunesmith.checks.validate`'s job.
:mod:`tunesmith.writing.grammar` builds the constrained decoding grammars from the same tables.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from tunesmith.errors import GrammarError, RequestTypeError, TunesmithError
from tunesmith.model.events import (
    BAR_LINE,
    BARS_PER_LINE,
    DURATION_PATTERN,
    EVENT_RE,
    REST,
    TIE,
    Block,
    Token,
    bar_line_kinds,
    drum_event,
    format_bars,
    format_event,
    grammar_error,
    layout,
    pitch_event,
    read_block,
    repeats_of,
)
from tunesmith.model.score import (
    DURATIONS,
    ROLES,
    Bar,
    ChordSymbol,
    Header,
    Key,
    Part,
    PitchClass,
    Score,
    Tune,
    duration_code,
    split_duration,
)

__all__ = [
    "BARS_PER_LINE",
    "BAR_LINE",
    "extract",
    "format_event",
    "parse",
    "parse_tune",
    "unparse",
]

HEADER_FIELDS = ("title", "meter", "key", "notes", "tempo")

_FIELD_RE = re.compile(r"^\s*(title|meter|key|notes|tempo|part|role|program|harmony)\s*:(.*)$")
_SYMBOL_RE = re.compile(
    rf"(?P<figure>[^\s:|\[\]]+):(?P<duration>{DURATION_PATTERN})(?P<tie>{TIE})?"
)
_TEMPO_RE = re.compile(rf"^\s*({DURATION_PATTERN})\s*=\s*([0-9]+(?:\.[0-9]+)?)\s*$")


# -- the harmony lane -------------------------------------------------------------------


def _harmony(block: Block, lengths: Sequence[Fraction], where: Token) -> tuple[ChordSymbol, ...]:
    if len(block.bars) != len(lengths):
        raise grammar_error(
            f"the harmony lane has {len(block.bars)} bars but the parts have {len(lengths)}",
            where,
        )
    chords: list[ChordSymbol] = []
    now, held = Fraction(0), False
    for bar, length in zip(block.bars, lengths, strict=True):
        start = now
        for token, _ in bar:
            match = _SYMBOL_RE.fullmatch(token.text)
            if match is None:
                raise grammar_error("expected CHORD:DURATION such as 'Am7:h' or 'r:q'", token)
            duration, figure = DURATIONS[match["duration"]], match["figure"]
            if held and chords[-1].figure == figure and chords[-1].end == now:
                chords[-1] = ChordSymbol(chords[-1].onset, chords[-1].duration + duration, figure)
            elif held:
                raise grammar_error(
                    f"a tie joins one chord, but {chords[-1].figure!r} is tied here", token
                )
            elif figure != REST:
                try:
                    chords.append(ChordSymbol(now, duration, figure))
                except TunesmithError as error:
                    raise grammar_error(str(error), token) from error
            elif match["tie"]:
                raise grammar_error("a rest cannot be tied", token)
            held, now = bool(match["tie"]), now + duration
        if now - start != length:
            raise grammar_error(
                f"this bar of the harmony lane lasts {now - start} quarter notes but the parts' "
                f"bar lasts {length}",
                bar[0][0],
            )
    return tuple(chords)


def _format_harmony(score: Score) -> list[str]:
    bars: list[list[str]] = []
    start = Fraction(0)
    for length in score.bar_lengths:
        end, words, now = start + length, [], start
        for chord in [c for c in score.harmony if c.onset < end and c.end > start] + [None]:
            stop = end if chord is None else max(chord.onset, start)
            words += [f"{REST}:{duration_code(d)}" for d in _pieces(stop - now)]
            if chord is not None:
                now, stop = stop, min(chord.end, end)
                pieces = _pieces(stop - now)
                for number, piece in enumerate(pieces, 1):
                    tied = number < len(pieces) or chord.end > end
                    words.append(f"{chord.figure}:{duration_code(piece)}{TIE if tied else ''}")
            now = stop
        bars.append(words)
        start = end
    return [" ".join(words) for words in bars]


def _pieces(length: Fraction) -> tuple[Fraction, ...]:
    return split_duration(length) if length else ()


# -- scores -----------------------------------------------------------------------------


@dataclass
class _Section:
    kind: str  # "part" or "harmony"
    token: Token
    fields: dict[str, tuple[str, Token]]
    lines: list[tuple[int, str]]


def _sections(text: str) -> tuple[dict[str, tuple[str, Token]], list[_Section]]:
    header: dict[str, tuple[str, Token]] = {}
    sections: list[_Section] = []
    for number, line in enumerate(text.split("\n"), 1):
        match = _FIELD_RE.match(line)
        if match is None:
            if line.strip():
                if not sections:
                    sections.append(_Section("part", Token("part", "", number, 1), {}, []))
                sections[-1].lines.append((number, line))
            continue
        name, value = match.group(1), match.group(2).strip()
        token = Token("field", line.strip(), number, match.start(1) + 1)
        if name in HEADER_FIELDS:
            if sections:
                raise grammar_error(f"the header field {name!r} comes before the first part", token)
            fields = header
        elif name in {"part", "harmony"}:
            sections.append(_Section(name, token, {}, []))
            fields = sections[-1].fields
        else:  # role, program
            if not sections or sections[-1].kind != "part" or sections[-1].lines:
                raise grammar_error(f"{name!r} belongs right under a 'part:' line", token)
            fields = sections[-1].fields
        if name in fields:
            raise grammar_error(f"{name!r} is given twice", token)
        fields[name] = (value, token)
    return header, sections


def _part(section: _Section, block: Block) -> Part:
    role, role_token = section.fields.get("role", ("melody", section.token))
    if role not in ROLES:
        raise grammar_error(f"unknown role {role!r}: use one of {', '.join(ROLES)}", role_token)
    read = drum_event if role == "drums" else pitch_event
    bars = tuple(Bar(tuple(read(token) for token, _ in bar)) for bar in block.bars)
    program, token = section.fields.get("program", ("0", section.token))
    if not program.isdigit() or not 0 <= int(program) <= 127:
        raise grammar_error(
            f"program must be a General MIDI program 0-127 (received {program!r})", token
        )
    name = section.fields.get("part", ("", section.token))[0]
    try:
        return Part(bars, name=name, role=role, program=int(program))
    except TunesmithError as error:
        raise grammar_error(str(error), section.token) from error


def _header(fields: dict[str, tuple[str, Token]], bar_lengths: Sequence[Fraction]) -> Header:
    options: dict[str, object] = {}
    for name, (value, token) in fields.items():
        try:
            if name == "tempo":
                match = _TEMPO_RE.match(value)
                if match is None:
                    raise grammar_error("tempo is BEAT=BPM such as 'q.=116' or 'q=120'", token)
                options["beat"], options["tempo"] = DURATIONS[match[1]], float(match[2])
            elif name == "key":
                options["key"] = Key.parse(value)
            elif name == "notes":
                options["notes"] = tuple(PitchClass.parse(n) for n in value.split())
            else:
                options[name] = value
            checked = {k: v for k, v in options.items() if k in {"meter", "key", "title", "notes"}}
            Header(**checked)  # type: ignore[arg-type] # each field checked as it is read
        except GrammarError:
            raise
        except TunesmithError as error:
            raise grammar_error(str(error), token) from error
    options.setdefault("meter", _meter_of(bar_lengths))
    try:
        return Header(**options)  # type: ignore[arg-type]
    except TunesmithError as error:
        where = fields.get("tempo", fields.get("meter", ("", Token("field", "", 1, 1))))[1]
        raise grammar_error(str(error), where) from error


def _meter_of(bar_lengths: Sequence[Fraction]) -> str:
    """The meter of the most common bar length: 3 quarter notes -> '3/4', 3/2 -> '3/8'."""
    length = Counter(bar_lengths).most_common(1)[0][0]
    for denominator in (4, 8, 16, 32, 64, 128):
        if (length * denominator / 4).denominator == 1 and length * denominator / 4 < 1000:
            return f"{length * denominator // 4}/{denominator}"
    return "4/4"


def parse(text: str) -> Score:
    """Read tunesmith notation into a :class:`~tunesmith.model.score.Score`.

    Bars alone are one melody part; the meter is then the most common bar length's (a bar
    of three quarter notes is 3/4) and the tempo 120 beats a minute. A leading and a
    trailing bar line are optional; line breaks count as spaces.

    Raises
    ------
    GrammarError
        With the 1-based line and column of the first token that is not valid notation.
    ScoreError
        For parts whose bars differ in number or length.
    """
    if not isinstance(text, str):
        raise RequestTypeError(
            f"parse takes the notation as a str (received {type(text).__name__})"
        )
    fields, sections = _sections(text)
    parts = [s for s in sections if s.kind == "part"]
    if not parts:
        where = sections[0].token if sections else Token("", "", text.count("\n") + 1, 1)
        raise grammar_error("no notes: a score needs at least one part with bars", where)
    blocks = {id(s): read_block(s.lines, s.token) for s in sections}
    first = blocks[id(parts[0])]
    repeats = repeats_of(first.bar_lines)
    for section in sections[1:]:
        block = blocks[id(section)]
        for mine, theirs in zip(block.bar_lines, first.bar_lines, strict=False):
            if (mine.text or BAR_LINE) != (theirs.text or BAR_LINE):
                raise grammar_error(
                    f"the first part has the bar line {theirs.text or '|'!r} here", mine
                )
    score_parts = tuple(_part(s, blocks[id(s)]) for s in parts)
    lengths = [bar.duration for bar in score_parts[0].bars]
    lanes = [s for s in sections if s.kind == "harmony"]
    if len(lanes) > 1:
        raise grammar_error("a score has one harmony lane", lanes[1].token)
    harmony = _harmony(blocks[id(lanes[0])], lengths, lanes[0].token) if lanes else ()
    return Score(_header(fields, lengths), score_parts, harmony, repeats)


def parse_tune(text: str) -> Tune:
    """Read bars of notes alone (no header, parts or repeats) into a :class:`Tune`.

    The form a model writes one melody in. Raises :class:`GrammarError` as :func:`parse`.
    """
    if not isinstance(text, str):
        raise RequestTypeError(
            f"parse takes the notation as a str (received {type(text).__name__})"
        )
    lines = list(enumerate(text.split("\n"), 1))
    block = read_block(lines, Token("", "", 1, 1))
    for token in block.bar_lines:
        if token.text not in {"", BAR_LINE}:
            raise grammar_error("a melody has plain bar lines '|' only", token)
    return Tune(tuple(Bar(tuple(pitch_event(t) for t, _ in bar)) for bar in block.bars))


_FENCE_RE = re.compile(r"^```[\w-]*$", re.MULTILINE)


def extract(text: str) -> str:
    """The notation in a model's answer: drops markdown fences and lines of prose.

    A line is kept when at least half of its words are events or bar lines.
    """
    kept = []
    for line in _FENCE_RE.sub("", text).splitlines():
        words = line.replace("|", " | ").split()
        notation = sum(1 for w in words if w == BAR_LINE or EVENT_RE.fullmatch(w))
        if words and notation * 2 >= len(words):
            kept.append(line.strip())
    return "\n".join(kept)


def unparse(music: Score | Tune) -> str:
    """Write a score (header, parts, harmony lane) or a tune's bars, four bars a line.

    ``parse(unparse(score)) == score`` for every score, and ``parse_tune(unparse(tune))
    == tune`` for every tune.
    """
    if isinstance(music, Tune):
        return layout(format_bars(music.bars), bar_line_kinds(len(music.bars), ()))
    header = music.header
    lines = [f"title: {header.title}"] if header.title else []
    lines.append(f"meter: {header.meter}")
    lines += [f"key: {header.key}"] if header.key else []
    lines += ["notes: " + " ".join(map(str, header.notes))] if header.notes else []
    tempo = int(header.tempo) if header.tempo.is_integer() else header.tempo
    lines.append(f"tempo: {duration_code(header.beat)}={tempo}")
    kinds = bar_line_kinds(music.bar_count, music.repeats)
    for part in music.parts:
        lines += ["", f"part: {part.name}".rstrip(), f"role: {part.role}"]
        lines += [f"program: {part.program}", layout(format_bars(part.bars), kinds)]
    if music.harmony:
        lines += ["", "harmony:", layout(_format_harmony(music), kinds)]
    return "\n".join(lines)
