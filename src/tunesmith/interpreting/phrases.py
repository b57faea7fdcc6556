"""Finding the phrases of a request in words, from the word tables in ``words/``.

Each language is a TOML file (``words/en.toml``, ``words/uk.toml``): lexicon tables map a
meaning of ``words/meanings.toml`` (or a field value) to the phrases that say it, and
pattern templates with slots (``"in {key} {mode}"``, ``"{number} bars"``) find values.
:meth:`Language.find` returns the phrases of a text, longest first where they overlap;
:meth:`Language.leftovers` the words no phrase used. What the phrases mean is
:mod:`tunesmith.interpreting.interpret`'s business.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from tunesmith.errors import NoteNameError
from tunesmith.requests.presets import gm_instruments

__all__ = ["LEXICON", "Language", "Match", "languages", "meanings"]

LEXICON = (
    "styles",
    "moods",
    "tempi",
    "lengths",
    "registers",
    "modes",
    "parts",
    "actions",
    "meters",
    "instruments",
)
"""The tables of phrases with a fixed meaning, in every language file."""

_START, _END = r"(?<![\w'\u2019])", r"(?![\w'\u2019#♯♭])"
_OPEN, _CLOSE = (
    "[\"\u201c\u00ab'\u2018]",
    "[\"\u201d\u00bb'\u2019]",
)  # straight and curly quotes, and guillemets


@dataclass(frozen=True, eq=False)
class Match:
    """One phrase found in a text: where, which table or pattern, and what it named."""

    start: int
    end: int
    words: str
    kind: str
    """A lexicon table ("styles", "moods"...) or a pattern ("key", "notes", "bars"...)."""
    meaning: str = ""
    """For a lexicon phrase: the meaning's name ("jig", "sad") or value ("6/8", "Fiddle")."""
    slots: dict[str, Any] = field(default_factory=dict)
    """For a pattern: the values found, e.g. {"key": "D", "mode": "dorian"}."""


def _normal(text: str) -> str:
    """Case, hyphens, spaces and apostrophes as the tables write them: "Slip-Jig" -> "slip jig"."""
    return re.sub(r"[\s-]+", " ", text.casefold().replace("\u2019", "'")).strip()


def _alternation(phrases: list[str]) -> str:
    longest_first = sorted(set(phrases), key=len, reverse=True)
    return "|".join(r"[\s-]+".join(map(re.escape, p.split())) for p in longest_first)


@functools.cache
def meanings() -> dict[str, Any]:
    """``words/meanings.toml``: what each meaning sets, shared by every language."""
    text = resources.files("tunesmith").joinpath("words", "meanings.toml").read_text("utf-8")
    return tomllib.loads(text)


@functools.cache
def languages() -> dict[str, Language]:
    """Every language in ``words/``, by code ("en", "uk")."""
    folder = resources.files("tunesmith").joinpath("words")
    found = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml") and entry.name != "meanings.toml":
            language = Language(tomllib.loads(entry.read_text("utf-8")))
            found[language.code] = language
    return found


class Language:
    """One language's word tables, compiled to regular expressions."""

    def __init__(self, table: dict[str, Any]) -> None:
        self.code: str = table["language"]["code"]
        self.name: str = table["language"]["name"]
        spelling = table["spelling"]
        self.fillers = frozenset(_normal(word) for word in table["language"]["fillers"])
        self._notes = {_normal(k): v for k, v in spelling["notes"].items()}
        self._not_notes = {_normal(k): v for k, v in spelling["not_notes"].items()}
        self._numbers = {_normal(k): v for k, v in spelling["numbers"].items()}
        self._sharps = {_normal(s) for s in spelling["sharp"] + spelling["sharp_words"]}
        self.lexicon: dict[str, dict[str, str]] = {}
        for kind in LEXICON:
            self.lexicon[kind] = {
                _normal(phrase): meaning
                for meaning, phrases in table[kind].items()
                for phrase in phrases
            }
        if table["language"].get("general_midi_names"):
            for name in gm_instruments():
                self.lexicon["instruments"].setdefault(_normal(name), name)
        letters = _alternation([*spelling["notes"], *spelling["not_notes"]])
        signs = "|".join(map(re.escape, spelling["sharp"] + spelling["flat"]))
        words = _alternation(spelling["sharp_words"] + spelling["flat_words"])
        note = rf"(?:{letters})(?:{signs}|[\s-]+(?:{words}))?{_END}"
        joiner = _alternation(spelling["and"])
        separator = rf"(?:\s*,\s*(?:(?:{joiner})\s+)?|\s+(?:{joiner})\s+|\s+)"
        self._slots = {
            "key": note,
            "notes": rf"{note}(?:{separator}{note})*",
            "mode": _alternation(list(self.lexicon["modes"])),
            # every digit, and the sign: a number out of range is an error that says so
            "number": rf"-?\d+|{_alternation(list(spelling['numbers']))}",
            "meter": r"\d{1,3}\s*/\s*\d{1,3}",
            "pitch": rf"(?:{letters})(?:{signs})?\d",
            "text": rf"{_OPEN}[^\"\u201d\u00bb\u2019\n]{{1,80}}{_CLOSE}",
            "form": r"[A-Za-z]{2,12}",
        }
        self._note_re = re.compile(_START + note, re.IGNORECASE)
        self._note_parts = re.compile(
            rf"(?P<letter>{letters})(?:(?P<sign>{signs})|[\s-]+(?P<word>{words}))?$", re.IGNORECASE
        )
        self._patterns = [
            (kind, template, self._compile(template))
            for kind, templates in table["patterns"].items()
            for template in templates
        ]
        self._lexicon_res = {
            kind: re.compile(_START + f"(?:{_alternation(list(phrases))})" + _END, re.IGNORECASE)
            for kind, phrases in self.lexicon.items()
        }

    def __repr__(self) -> str:
        return f"Language({self.code!r})"

    def _compile(self, template: str) -> re.Pattern[str]:
        parts, counts = [], dict[str, int]()
        for part in re.split(r"(\{\w+\})", template):
            if part.startswith("{"):
                name = part[1:-1]
                index = counts[name] = counts.get(name, -1) + 1
                parts.append(f"(?P<{name}{index}>{self._slots[name]})")
            elif part:
                parts.append(r"\s+".join(map(re.escape, part.split(" "))))
        return re.compile(_START + "".join(parts) + _END, re.IGNORECASE)

    def note_name(self, text: str) -> str:
        """A note name of this language as tunesmith spells it: "до дієз" -> "C#"."""
        parts = self._note_parts.match(text.strip())
        if parts is None:
            raise NoteNameError(f"unknown note name {text!r}")
        letter, sign = _normal(parts["letter"]), parts["sign"] or parts["word"]
        if letter in self._not_notes:
            raise NoteNameError(f"unknown note name {parts['letter']!r}: {self._not_notes[letter]}")
        name = str(self._notes[letter])
        if sign is None:
            return name
        return name + ("#" if _normal(sign) in self._sharps else "b")

    def _number(self, text: str) -> int:
        return int(text) if text.lstrip("-").isdigit() else int(self._numbers[_normal(text)])

    def _slot_values(self, match: re.Match[str]) -> dict[str, Any] | None:
        """The values of a pattern's slots, or None where the match is not really one."""
        values: dict[str, Any] = {}
        for group, text in match.groupdict().items():
            if text is None:
                continue
            name = group.rstrip("0123456789")
            if name == "key":
                values[name] = text
            elif name == "notes":
                values[name] = tuple(m[0] for m in self._note_re.finditer(text))
            elif name == "mode":
                values[name] = self.lexicon["modes"][_normal(text)]
            elif name == "number":
                values[name] = self._number(text)
            elif name == "meter":
                values[name] = re.sub(r"\s+", "", text)
            elif name == "text":
                values[name] = text[1:-1].strip()
            elif name == "form" and not text.isupper():
                return None
            else:
                values[group if name == "pitch" else name] = text
        return values if _plausible(values, match) else None

    def find(self, text: str) -> list[Match]:
        """The phrases of ``text``: the longest first where two overlap; in text order."""
        candidates = []
        for kind, _, pattern in self._patterns:
            for found in pattern.finditer(text):
                slots = self._slot_values(found)
                if slots is not None:
                    candidates.append(Match(found.start(), found.end(), found[0], kind, "", slots))
        for kind, pattern in self._lexicon_res.items():
            for found in pattern.finditer(text):
                meaning = self.lexicon[kind][_normal(found[0])]
                candidates.append(Match(found.start(), found.end(), found[0], kind, meaning))
        candidates.sort(key=lambda m: (m.start - m.end, m.start))
        taken: list[Match] = []
        for candidate in candidates:
            if all(candidate.end <= t.start or candidate.start >= t.end for t in taken):
                taken.append(candidate)
        return sorted(taken, key=lambda m: m.start)

    def leftovers(self, text: str, matches: list[Match]) -> list[str]:
        """The words of ``text`` outside every phrase that are not fillers."""
        covered = [False] * len(text)
        for match in matches:
            covered[match.start : match.end] = [True] * (match.end - match.start)
        return [
            word[0]
            for word in re.finditer(r"[\w'\u2019#♯♭/]+", text)
            if not any(covered[word.start() : word.end()])
            and _normal(word[0]).strip("'") not in self.fillers
        ]


def _plausible(values: dict[str, Any], match: re.Match[str]) -> bool:
    """Reject a lone lowercase letter that is surely a word: "in a jig", "only a few"."""
    key = values.get("key", "")
    if len(key) == 1 and key.islower() and key.isascii():
        starts_with_slot = match.start() == match.start("key0")
        if starts_with_slot or "mode" not in values:
            return False
    notes = values.get("notes", ())
    return not (len(notes) == 1 and len(notes[0]) == 1 and notes[0].islower())
