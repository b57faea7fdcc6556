"""tunesmith notation at the level of events and bars: tokens, events, bar lines, repeats.

:mod:`tunesmith.model.notation` builds scores (header, parts, harmony lane) from these pieces and
is the module to use; this one is shared by it and by the ABC writer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from tunesmith.errors import GrammarError, TunesmithError
from tunesmith.model.notes import ACCIDENTALS, DURATIONS, Bar, Event, Pitch, duration_code
from tunesmith.model.score import Repeat

__all__ = [
    "BARS_PER_LINE",
    "BAR_LINE",
    "DURATION_PATTERN",
    "EVENT_RE",
    "REST",
    "TIE",
    "Block",
    "Token",
    "bar_line_kinds",
    "drum_event",
    "format_bars",
    "format_event",
    "grammar_error",
    "layout",
    "pitch_event",
    "read_block",
    "repeats_of",
]

BAR_LINE = "|"
TIE = "~"
REST = "r"
BARS_PER_LINE = 4

_ACCIDENTAL_RE = "|".join(sorted((re.escape(a) for a in ACCIDENTALS if a), key=len, reverse=True))
_PITCH_PATTERN = rf"[A-G](?:{_ACCIDENTAL_RE})?(?:-1|[0-9])"
DURATION_PATTERN = "|".join(re.escape(code) for code in sorted(DURATIONS, key=len, reverse=True))
EVENT_RE = re.compile(
    rf"(?:(?P<rest>{REST})|\[(?P<chord>\s*{_PITCH_PATTERN}(?:\s+{_PITCH_PATTERN})+\s*)\]"
    rf"|(?P<pitch>{_PITCH_PATTERN})):(?P<duration>{DURATION_PATTERN})(?P<tie>{TIE})?"
)
_DRUM_RE = re.compile(
    rf"(?:(?P<rest>{REST})|\[(?P<chord>\s*[a-z0-9-]+(?:\s+[a-z0-9-]+)+\s*)\]|(?P<drum>[a-z0-9-]+))"
    rf":(?P<duration>{DURATION_PATTERN})(?P<tie>{TIE})?"
)
_TOKEN_RE = re.compile(
    r"(?P<space>[ \t\r]+)|(?P<bar>:\|2|:\|:|:\||\|:|\|1|\|)"
    r"|(?P<event>\[[^\]\n|]*\][^\s|:]*(?::[^\s|:]*)?|[^\s|\[:]+(?::[^\s|\[:]*)?)|(?P<other>.)"
)


@dataclass(frozen=True, slots=True)
class Token:
    """A token of notation and where it starts (1-based line and column)."""

    kind: str
    text: str
    line: int
    column: int


def grammar_error(reason: str, token: Token) -> GrammarError:
    """A :class:`GrammarError` at ``token``."""
    return GrammarError(reason, line=token.line, column=token.column, token=token.text)


def tokens(lines: Sequence[tuple[int, str]]) -> Iterator[Token]:
    """The tokens of numbered lines: bar lines, events and anything else, spaces dropped."""
    for number, line in lines:
        for match in _TOKEN_RE.finditer(line):
            if (kind := match.lastgroup or "other") != "space":
                yield Token(kind, match.group(), number, match.start() + 1)


# -- events -----------------------------------------------------------------------------


def pitch_event(token: Token) -> Event:
    """A note, chord or rest such as ``C#5:q.~``."""
    match = EVENT_RE.fullmatch(token.text)
    if match is None:
        raise grammar_error(_explain(token.text), token)
    if match["rest"]:
        if match["tie"]:
            raise grammar_error("a rest cannot be tied", token)
        return Event.rest(DURATIONS[match["duration"]])
    names = match["chord"].split() if match["chord"] else [match["pitch"]]
    try:
        pitches = tuple(Pitch.parse(name) for name in names)
    except TunesmithError as error:
        raise grammar_error(str(error), token) from error
    return Event(pitches, DURATIONS[match["duration"]], bool(match["tie"]))


def drum_event(token: Token) -> Event:
    """Drum hits or a rest such as ``[kick crash]:q``."""
    match = _DRUM_RE.fullmatch(token.text)
    if match is None:
        raise grammar_error(_explain(token.text, "drum name such as 'kick'"), token)
    if match["tie"]:
        raise grammar_error("drums are struck, not tied: write a rest after the hit", token)
    length = DURATIONS[match["duration"]]
    if match["rest"]:
        return Event.rest(length)
    try:
        return Event.hit(tuple((match["chord"] or match["drum"]).split()), length)
    except TunesmithError as error:
        raise grammar_error(str(error), token) from error


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
        "octave -1 to 9 such as 'F#4', 'r' for a rest or '[D4 F#4 A4]' for a chord"
    )


# -- blocks of bars ---------------------------------------------------------------------


@dataclass
class Block:
    """A block of bars: each bar's event tokens, and the bar lines around them."""

    bars: list[list[tuple[Token, object]]]
    bar_lines: list[Token]
    """The bar line before each bar and after the last (an empty token where none)."""


def read_block(lines: Sequence[tuple[int, str]], where: Token) -> Block:
    """The bars of numbered lines; ``where`` places errors about a block with no bars."""
    bars: list[list[tuple[Token, object]]] = []
    current: list[tuple[Token, object]] = []
    bar_lines = [Token("bar", "", where.line, where.column)]
    for token in tokens(lines):
        if token.kind == "bar":
            if current:
                bars.append(current)
                bar_lines.append(token)
                current = []
            elif bars or bar_lines[0].text:
                raise grammar_error("empty bar", token)
            else:
                bar_lines[0] = token
        elif token.kind == "event":
            current.append((token, None))
        else:
            raise grammar_error("unexpected character", token)
    if current:
        bars.append(current)
        bar_lines.append(Token("bar", "", *_end_of(lines, where)))
    if not bars:
        raise grammar_error("no notes: a tune needs at least one bar", bar_lines[-1])
    return Block(bars, bar_lines)


def _end_of(lines: Sequence[tuple[int, str]], where: Token) -> tuple[int, int]:
    return (lines[-1][0], len(lines[-1][1]) + 1) if lines else (where.line, where.column)


def repeats_of(bar_lines: Sequence[Token]) -> tuple[Repeat, ...]:
    """The repeats that bar lines such as ``|:`` ``|1`` ``:|2`` mark."""
    repeats: list[Repeat] = []
    start: int | None = None
    first_ending: int | None = None
    for index, token in enumerate(bar_lines):
        kind = token.text
        if kind in {":|", ":|:", ":|2"}:
            if (kind == ":|2") != (first_ending is not None):
                raise grammar_error(
                    "a first ending '|1' and a second ending ':|2' go together", token
                )
            begin = start if start is not None else (repeats[-1].stop if repeats else 0)
            ending = index - first_ending if first_ending is not None else 0
            try:
                repeats.append(Repeat(begin, index, ending))
            except TunesmithError:
                raise grammar_error("this repeat has no bars of its own to repeat", token) from None
            start = first_ending = None
        if kind in {"|:", ":|:"}:
            if start is not None or index == len(bar_lines) - 1:
                raise grammar_error("a repeat starts here but the one before has not ended", token)
            start = index
        elif kind == "|1":
            first_ending = index
    if start is not None or first_ending is not None:
        raise grammar_error("a repeat is never closed: end it with ':|'", bar_lines[-1])
    return tuple(repeats)


def bar_line_kinds(count: int, repeats: Sequence[Repeat]) -> list[str]:
    """The bar line before each of ``count`` bars and after the last, for ``repeats``."""
    kinds = ["", *["|"] * count]
    for repeat in repeats:
        kinds[repeat.start] = ":|:" if kinds[repeat.start] == ":|" else "|:"
        if repeat.ending:
            kinds[repeat.end - repeat.ending], kinds[repeat.end] = "|1", ":|2"
        else:
            kinds[repeat.end] = ":|"
    return kinds


def layout(bars: Sequence[str], kinds: Sequence[str]) -> str:
    """Bars and bar lines as lines of text, four bars a line."""
    lines = []
    for start in range(0, len(bars), BARS_PER_LINE):
        words = [kinds[start]] if start == 0 and kinds[0] else []
        for index in range(start, min(start + BARS_PER_LINE, len(bars))):
            words += [bars[index], kinds[index + 1]]
        lines.append(" ".join(words))
    return "\n".join(lines)


def format_event(event: Event) -> str:
    """One event as notation text, e.g. ``"C#5:q."`` or ``"[kick crash]:q"``."""
    heads = [str(p) for p in event.pitches] or [str(d) for d in event.drums]
    head = REST if not heads else heads[0] if len(heads) == 1 else "[" + " ".join(heads) + "]"
    return f"{head}:{duration_code(event.duration)}{TIE if event.tie else ''}"


def _bars(bars: Sequence[Bar]) -> list[str]:
    return [" ".join(map(format_event, bar.events)) for bar in bars]


def format_bars(bars: Sequence[Bar]) -> list[str]:
    """Each bar's events as text."""
    return [" ".join(map(format_event, bar.events)) for bar in bars]
