"""tunesmith's text notation, defined once and used three ways.

It is read by :func:`parse` and written by :func:`format`; :mod:`tunesmith.grammar` turns
the same table into constrained decoding grammars.

A tune is events separated by spaces and bars separated by ``|``::

    A4:e B4:e C#5:e F#5:q. | G5:e F#5:e C#5:e B4:q. | r:q A4:e B4:q~ | B4:q. A4:q. |

See ``docs/grammar.md`` for the EBNF. Parsing checks syntax only; whether a tune fits a
request (scale, meter, range) is :mod:`tunesmith.validate`'s job.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tunesmith.errors import GrammarError, NoteNameError, RequestTypeError
from tunesmith.score import ACCIDENTALS, DURATIONS, Bar, Event, Pitch, Tune, duration_code

__all__ = ["BARS_PER_LINE", "BAR_LINE", "extract", "format", "format_event", "parse"]

BAR_LINE = "|"
TIE = "~"
REST = "r"
BARS_PER_LINE = 4

_ACCIDENTAL_RE = "|".join(sorted((re.escape(a) for a in ACCIDENTALS if a), key=len, reverse=True))
_PITCH_PATTERN = rf"[A-G](?:{_ACCIDENTAL_RE})?(?:-1|[0-9])"
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
    else:
        names = match["chord"].split() if match["chord"] else [match["pitch"]]
        try:
            pitches = tuple(Pitch.parse(name) for name in names)
        except NoteNameError as error:  # above G9: well-formed, but no MIDI key holds it
            raise GrammarError(
                str(error), line=token.line, column=token.column, token=token.text
            ) from error
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
        "octave -1 to 9 such as 'F#4', 'r' for a rest or '[D4 F#4 A4]' for a chord"
    )


def parse(text: str) -> Tune:
    """Read tunesmith notation into a :class:`~tunesmith.score.Tune`.

    A leading and a trailing bar line are optional; line breaks count as spaces.

    Raises
    ------
    GrammarError
        With the 1-based line and column of the first token that is not valid notation.
    """
    if not isinstance(text, str):
        raise RequestTypeError(
            f"parse takes the notation as a str (received {type(text).__name__})"
        )
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
