"""tunesmith's text notation: one definition, read by :func:`parse` and written by :func:`format`.

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
request (scale, meter, range) is :mod:`tunesmith.validate`'s job. :mod:`tunesmith.grammar`
builds the constrained decoding grammars from the same tables.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction

from tunesmith.errors import GrammarError, TunesmithError
from tunesmith.notes import ACCIDENTALS
from tunesmith.score import (
    DURATIONS,
    ROLES,
    Bar,
    ChordSymbol,
    Drum,
    Event,
    Header,
    Key,
    Part,
    Pitch,
    PitchClass,
    Repeat,
    Score,
    Tune,
    duration_code,
    split_duration,
)

__all__ = [
    "BARS_PER_LINE",
    "BAR_LINE",
    "extract",
    "format",
    "format_event",
    "parse",
    "parse_tune",
]

BAR_LINE = "|"
TIE = "~"
REST = "r"
BARS_PER_LINE = 4
HEADER_FIELDS = ("title", "meter", "key", "notes", "tempo")
_BAR_LINES = ("", "|", "|:", ":|", ":|:", "|1", ":|2")

_ACCIDENTAL_RE = "|".join(sorted((re.escape(a) for a in ACCIDENTALS if a), key=len, reverse=True))
_PITCH_PATTERN = rf"[A-G](?:{_ACCIDENTAL_RE})?[0-9]"
_DURATION_PATTERN = "|".join(re.escape(code) for code in sorted(DURATIONS, key=len, reverse=True))
_EVENT_RE = re.compile(
    rf"(?:(?P<rest>{REST})|\[(?P<chord>\s*{_PITCH_PATTERN}(?:\s+{_PITCH_PATTERN})+\s*)\]"
    rf"|(?P<pitch>{_PITCH_PATTERN})):(?P<duration>{_DURATION_PATTERN})(?P<tie>{TIE})?"
)
_DRUM_RE = re.compile(
    rf"(?:(?P<rest>{REST})|\[(?P<chord>\s*[a-z0-9-]+(?:\s+[a-z0-9-]+)+\s*)\]|(?P<drum>[a-z0-9-]+))"
    rf":(?P<duration>{_DURATION_PATTERN})(?P<tie>{TIE})?"
)
_SYMBOL_RE = re.compile(rf"(?P<figure>[^\s:|\[\]]+):(?P<duration>{_DURATION_PATTERN})(?P<tie>{TIE})?")
_TOKEN_RE = re.compile(
    r"(?P<space>[ \t\r]+)|(?P<bar>:\|2|:\|:|:\||\|:|\|1|\|)"
    r"|(?P<event>\[[^\]\n|]*\][^\s|:]*(?::[^\s|:]*)?|[^\s|\[:]+(?::[^\s|\[:]*)?)|(?P<other>.)"
)
_FIELD_RE = re.compile(r"^\s*(title|meter|key|notes|tempo|part|role|program|harmony)\s*:(.*)$")
_TEMPO_RE = re.compile(rf"^\s*({_DURATION_PATTERN})\s*=\s*([0-9]+(?:\.[0-9]+)?)\s*$")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    line: int
    column: int


def _error(reason: str, token: _Token) -> GrammarError:
    return GrammarError(reason, line=token.line, column=token.column, token=token.text)


def _tokens(lines: Sequence[tuple[int, str]]) -> Iterator[_Token]:
    for number, line in lines:
        for match in _TOKEN_RE.finditer(line):
            if (kind := match.lastgroup or "other") != "space":
                yield _Token(kind, match.group(), number, match.start() + 1)


# -- events -----------------------------------------------------------------------------


def _pitch_event(token: _Token) -> Event:
    match = _EVENT_RE.fullmatch(token.text)
    if match is None:
        raise _error(_explain(token.text), token)
    if match["rest"]:
        if match["tie"]:
            raise _error("a rest cannot be tied", token)
        return Event.rest(DURATIONS[match["duration"]])
    names = match["chord"].split() if match["chord"] else [match["pitch"]]
    try:
        pitches = tuple(Pitch.parse(name) for name in names)
    except TunesmithError as error:
        raise _error(str(error), token) from error
    return Event(pitches, DURATIONS[match["duration"]], bool(match["tie"]))


def _drum_event(token: _Token) -> Event:
    match = _DRUM_RE.fullmatch(token.text)
    if match is None:
        raise _error(_explain(token.text, "drum name such as 'kick'"), token)
    if match["tie"]:
        raise _error("drums are struck, not tied: write a rest after the hit", token)
    length = DURATIONS[match["duration"]]
    if match["rest"]:
        return Event.rest(length)
    try:
        return Event.hit(tuple((match["chord"] or match["drum"]).split()), length)
    except TunesmithError as error:
        raise _error(str(error), token) from error


def _explain(text: str, head_kind: str = "") -> str:
    """Say which part of a bad event token is wrong."""
    head, colon, duration = text.partition(":")
    if not colon:
        return "expected PITCH:DURATION such as 'C#5:q' or 'r:e', missing ':'"
    if duration.removesuffix(TIE) not in DURATIONS:
        return (
            f"unknown duration {duration.removesuffix(TIE)!r}: use w h q e s t, optionally "
            "followed by '.', '..' or '3' (triplet), e.g. 'q.' or 'e3'"
        )
    if head_kind:
        return f"unknown {head!r}: use a {head_kind}, 'r' for a rest or '[kick crash]' for both"
    return (
        f"unknown pitch {head!r}: use a letter A-G, an optional accidental (# ## b bb) and an "
        "octave 0-9 such as 'F#4', 'r' for a rest or '[D4 F#4 A4]' for a chord"
    )


# -- blocks of bars ---------------------------------------------------------------------


@dataclass
class _Block:
    bars: list[list[tuple[_Token, object]]]
    bar_lines: list[_Token]
    """The bar line before each bar and after the last (an empty token where none)."""


def _read_block(lines: Sequence[tuple[int, str]], where: _Token) -> _Block:
    bars: list[list[tuple[_Token, object]]] = []
    current: list[tuple[_Token, object]] = []
    bar_lines = [_Token("bar", "", where.line, where.column)]
    for token in _tokens(lines):
        if token.kind == "bar":
            if current:
                bars.append(current)
                bar_lines.append(token)
                current = []
            elif bars or bar_lines[0].text:
                raise _error("empty bar", token)
            else:
                bar_lines[0] = token
        elif token.kind == "event":
            current.append((token, None))
        else:
            raise _error("unexpected character", token)
    if current:
        bars.append(current)
        bar_lines.append(_Token("bar", "", *_end_of(lines, where)))
    if not bars:
        raise _error("no notes: a tune needs at least one bar", bar_lines[-1])
    return _Block(bars, bar_lines)


def _end_of(lines: Sequence[tuple[int, str]], where: _Token) -> tuple[int, int]:
    return (lines[-1][0], len(lines[-1][1]) + 1) if lines else (where.line, where.column)


def _repeats(bar_lines: Sequence[_Token]) -> tuple[Repeat, ...]:
    repeats: list[Repeat] = []
    start: int | None = None
    first_ending: int | None = None
    for index, token in enumerate(bar_lines):
        kind = token.text
        if kind in {":|", ":|:", ":|2"}:
            if (kind == ":|2") != (first_ending is not None):
                raise _error("a first ending '|1' and a second ending ':|2' go together", token)
            begin = start if start is not None else (repeats[-1].stop if repeats else 0)
            ending = index - first_ending if first_ending is not None else 0
            try:
                repeats.append(Repeat(begin, index, ending))
            except TunesmithError:
                raise _error("this repeat has no bars of its own to repeat", token) from None
            start = first_ending = None
        if kind in {"|:", ":|:"}:
            if start is not None or index == len(bar_lines) - 1:
                raise _error("a repeat starts here but the one before has not ended", token)
            start = index
        elif kind == "|1":
            first_ending = index
    if start is not None or first_ending is not None:
        raise _error("a repeat is never closed: end it with ':|'", bar_lines[-1])
    return tuple(repeats)


def _bar_line_kinds(count: int, repeats: Sequence[Repeat]) -> list[str]:
    kinds = ["", *["|"] * count]
    for repeat in repeats:
        kinds[repeat.start] = ":|:" if kinds[repeat.start] == ":|" else "|:"
        if repeat.ending:
            kinds[repeat.end - repeat.ending], kinds[repeat.end] = "|1", ":|2"
        else:
            kinds[repeat.end] = ":|"
    return kinds


def _layout(bars: Sequence[str], kinds: Sequence[str]) -> str:
    lines = []
    for start in range(0, len(bars), BARS_PER_LINE):
        words = [kinds[start]] if start == 0 and kinds[0] else []
        for index in range(start, min(start + BARS_PER_LINE, len(bars))):
            words += [bars[index], kinds[index + 1]]
        lines.append(" ".join(words))
    return "\n".join(lines)


# -- the harmony lane -------------------------------------------------------------------


def _harmony(block: _Block, lengths: Sequence[Fraction]) -> tuple[ChordSymbol, ...]:
    if len(block.bars) != len(lengths):
        raise _error(
            f"the harmony lane has {len(block.bars)} bars but the parts have {len(lengths)}",
            block.bar_lines[0],
        )
    chords: list[ChordSymbol] = []
    now, held = Fraction(0), False
    for bar, length in zip(block.bars, lengths, strict=True):
        start = now
        for token, _ in bar:
            match = _SYMBOL_RE.fullmatch(token.text)
            if match is None:
                raise _error("expected CHORD:DURATION such as 'Am7:h' or 'r:q'", token)
            duration, figure = DURATIONS[match["duration"]], match["figure"]
            if held and chords[-1].figure == figure and chords[-1].end == now:
                chords[-1] = ChordSymbol(chords[-1].onset, chords[-1].duration + duration, figure)
            elif held:
                raise _error(f"a tie joins one chord, but {chords[-1].figure!r} is tied here", token)
            elif figure != REST:
                try:
                    chords.append(ChordSymbol(now, duration, figure))
                except TunesmithError as error:
                    raise _error(str(error), token) from error
            elif match["tie"]:
                raise _error("a rest cannot be tied", token)
            held, now = bool(match["tie"]), now + duration
        if now - start != length:
            raise _error(
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
    token: _Token
    fields: dict[str, tuple[str, _Token]]
    lines: list[tuple[int, str]]


def _sections(text: str) -> tuple[dict[str, tuple[str, _Token]], list[_Section]]:
    header: dict[str, tuple[str, _Token]] = {}
    sections: list[_Section] = []
    for number, line in enumerate(text.split("\n"), 1):
        match = _FIELD_RE.match(line)
        if match is None:
            if line.strip():
                if not sections:
                    sections.append(_Section("part", _Token("part", "", number, 1), {}, []))
                sections[-1].lines.append((number, line))
            continue
        name, value = match.group(1), match.group(2).strip()
        token = _Token("field", line.strip(), number, match.start(1) + 1)
        if name in HEADER_FIELDS:
            if sections:
                raise _error(f"the header field {name!r} comes before the first part", token)
            fields = header
        elif name in {"part", "harmony"}:
            sections.append(_Section(name, token, {}, []))
            fields = sections[-1].fields
        else:  # role, program
            if not sections or sections[-1].kind != "part" or sections[-1].lines:
                raise _error(f"{name!r} belongs right under a 'part:' line", token)
            fields = sections[-1].fields
        if name in fields:
            raise _error(f"{name!r} is given twice", token)
        fields[name] = (value, token)
    return header, sections


def _part(section: _Section, block: _Block) -> Part:
    role, role_token = section.fields.get("role", ("melody", section.token))
    if role not in ROLES:
        raise _error(f"unknown role {role!r}: use one of {', '.join(ROLES)}", role_token)
    read = _drum_event if role == "drums" else _pitch_event
    bars = tuple(Bar(tuple(read(token) for token, _ in bar)) for bar in block.bars)
    program, token = section.fields.get("program", ("0", section.token))
    if not program.isdigit() or not 0 <= int(program) <= 127:
        raise _error(f"program must be a General MIDI program 0-127 (received {program!r})", token)
    name = section.fields.get("part", ("", section.token))[0]
    try:
        return Part(bars, name=name, role=role, program=int(program))  # type: ignore[arg-type]
    except TunesmithError as error:
        raise _error(str(error), section.token) from error


def _header(fields: dict[str, tuple[str, _Token]], bar_lengths: Sequence[Fraction]) -> Header:
    options: dict[str, object] = {}
    for name, (value, token) in fields.items():
        try:
            if name == "tempo":
                match = _TEMPO_RE.match(value)
                if match is None:
                    raise _error("tempo is BEAT=BPM such as 'q.=116' or 'q=120'", token)
                options["beat"], options["tempo"] = DURATIONS[match[1]], float(match[2])
            elif name == "key":
                options["key"] = Key.parse(value)
            elif name == "notes":
                options["notes"] = tuple(PitchClass.parse(n) for n in value.split())
            else:
                options[name] = value
            Header(**{k: v for k, v in options.items() if k in {"meter", "key", "title", "notes"}})
        except GrammarError:
            raise
        except TunesmithError as error:
            raise _error(str(error), token) from error
    options.setdefault("meter", _meter_of(bar_lengths))
    try:
        return Header(**options)  # type: ignore[arg-type]
    except TunesmithError as error:
        where = fields.get("tempo", fields.get("meter", ("", _Token("field", "", 1, 1))))[1]
        raise _error(str(error), where) from error


def _meter_of(bar_lengths: Sequence[Fraction]) -> str:
    """The meter of the most common bar length: 3 quarter notes -> '3/4', 3/2 -> '3/8'."""
    length = Counter(bar_lengths).most_common(1)[0][0]
    for denominator in (4, 8, 16, 32, 64, 128):
        if (length * denominator / 4).denominator == 1 and length * denominator / 4 < 1000:
            return f"{length * denominator // 4}/{denominator}"
    return "4/4"


def parse(text: str) -> Score:
    """Read tunesmith notation into a :class:`~tunesmith.score.Score`.

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
        raise GrammarError(
            f"notation is text (received {type(text).__name__})", line=1, column=1, token=""
        )
    fields, sections = _sections(text)
    parts = [s for s in sections if s.kind == "part"]
    if not parts:
        where = sections[0].token if sections else _Token("", "", text.count("\n") + 1, 1)
        raise _error("no notes: a score needs at least one part with bars", where)
    blocks = {id(s): _read_block(s.lines, s.token) for s in sections}
    first = blocks[id(parts[0])]
    repeats = _repeats(first.bar_lines)
    for section in sections[1:]:
        block = blocks[id(section)]
        for mine, theirs in zip(block.bar_lines, first.bar_lines, strict=False):
            if (mine.text or BAR_LINE) != (theirs.text or BAR_LINE):
                raise _error(f"the first part has the bar line {theirs.text or '|'!r} here", mine)
    score_parts = tuple(_part(s, blocks[id(s)]) for s in parts)
    lengths = [bar.duration for bar in score_parts[0].bars]
    lanes = [s for s in sections if s.kind == "harmony"]
    if len(lanes) > 1:
        raise _error("a score has one harmony lane", lanes[1].token)
    harmony = _harmony(blocks[id(lanes[0])], lengths) if lanes else ()
    return Score(_header(fields, lengths), score_parts, harmony, repeats)


def parse_tune(text: str) -> Tune:
    """Read bars of notes alone (no header, parts or repeats) into a :class:`Tune`.

    The form a model writes one melody in. Raises :class:`GrammarError` as :func:`parse`.
    """
    if not isinstance(text, str):
        raise GrammarError(
            f"notation is text (received {type(text).__name__})", line=1, column=1, token=""
        )
    lines = list(enumerate(text.split("\n"), 1))
    block = _read_block(lines, _Token("", "", 1, 1))
    for token in block.bar_lines:
        if token.text not in {"", BAR_LINE}:
            raise _error("a melody has plain bar lines '|' only", token)
    return Tune(tuple(Bar(tuple(_pitch_event(t) for t, _ in bar)) for bar in block.bars))


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


def format_event(event: Event) -> str:
    """One event as notation text, e.g. ``"C#5:q."`` or ``"[kick crash]:q"``."""
    heads = [str(p) for p in event.pitches] or [str(d) for d in event.drums]
    head = REST if not heads else heads[0] if len(heads) == 1 else "[" + " ".join(heads) + "]"
    return f"{head}:{duration_code(event.duration)}{TIE if event.tie else ''}"


def _bars(bars: Sequence[Bar]) -> list[str]:
    return [" ".join(map(format_event, bar.events)) for bar in bars]


def format(music: Score | Tune) -> str:  # noqa: A001 - the inverse of parse(), named as in the design
    """Write a score (header, parts, harmony lane) or a tune's bars, four bars a line.

    ``parse(format(score)) == score`` for every score, and ``parse_tune(format(tune))
    == tune`` for every tune.
    """
    if isinstance(music, Tune):
        return _layout(_bars(music.bars), _bar_line_kinds(len(music.bars), ()))
    header = music.header
    lines = [f"title: {header.title}"] if header.title else []
    lines.append(f"meter: {header.meter}")
    lines += [f"key: {header.key}"] if header.key else []
    lines += ["notes: " + " ".join(map(str, header.notes))] if header.notes else []
    tempo = int(header.tempo) if header.tempo.is_integer() else header.tempo
    lines.append(f"tempo: {duration_code(header.beat)}={tempo}")
    kinds = _bar_line_kinds(music.bar_count, music.repeats)
    for part in music.parts:
        lines += ["", f"part: {part.name}".rstrip(), f"role: {part.role}"]
        lines += [f"program: {part.program}", _layout(_bars(part.bars), kinds)]
    if music.harmony:
        lines += ["", "harmony:", _layout(_format_harmony(music), kinds)]
    return "\n".join(lines)
