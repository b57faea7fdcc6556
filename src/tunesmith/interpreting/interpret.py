"""Words -> :class:`ComposeRequest`, with an explanation of every phrase.

::

    >>> request = interpret("a slow air in E dorian for fiddle, 16 bars, ending on E")
    >>> request.key, request.mode, request.bars, request.instrument
    ('E', 'dorian', 16, 'Fiddle')
    >>> print(request.explanation)  # doctest: +SKIP

Offline, the word tables of :mod:`tunesmith.interpreting.phrases` find the phrases and the
meanings in ``words/meanings.toml`` say what each sets. Words that name a value ("in 6/8",
"16 bars", "in D minor") beat what style, mood, tempo and length words imply; two phrases of equal
strength that disagree raise :class:`~tunesmith.errors.ConstraintError` quoting both;
options passed explicitly beat the words. Phrases for what tunesmith cannot compose yet
("continue this", a counter-melody) and words no table knows are listed in the
explanation, never dropped. With an :class:`~tunesmith.backends.openai.OpenAIBackend` the
model fills the request's JSON schema; the offline reading is the fallback and the
cross-check. The rules, with examples, are in ``docs/words.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tunesmith.backends.base import Backend
from tunesmith.backends.openai import OpenAIBackend
from tunesmith.errors import ConstraintError, RequestError
from tunesmith.interpreting.interpret_model import read_with_model
from tunesmith.interpreting.interpretation import Explanation, Interpretation, Phrase
from tunesmith.interpreting.phrases import LEXICON, Language, Match, languages, meanings
from tunesmith.model.score import STEPS, Pitch, PitchClass
from tunesmith.requests.band import PARTS
from tunesmith.requests.presets import instrument_ranges, style_preset, style_presets
from tunesmith.requests.request import ComposeRequest
from tunesmith.requests.theory import DEFAULT_HIGH, DEFAULT_LOW

__all__ = ["Explanation", "Interpretation", "Phrase", "interpret"]

MAX_TEXT = 2000
"""The longest request read, in characters: a request is a sentence or two, not a document."""
REGISTER_SHARE = 0.6
"""A register ("low", "high") is this share of the instrument's range, at least an octave."""

_FIELDS = tuple(ComposeRequest.model_fields)
_PITCH = ("notes", "key", "mode")
_HELPERS = ("tonic", "meters", "tempo_factor", "register")
_WEAK_KINDS = {"moods": 1, "lengths": 1, "registers": 1}
_WEAK_STYLE_FIELDS = {"meter", "tempo"}  # what a genre usually is: a lullaby is in 6/8
_LETTER_STEPS = {0: 0, 1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 4, 7: 4, 8: 5, 9: 5, 10: 6, 11: 6}
_LABELS = {"tempo_factor": "tempo", "tonic": "tonic"}
_HINTS = {
    "tonic": "a tune ends on its tonic, so name one key or ending",
    "instrument": "the melody has one instrument (the band's are set by instruments=): name one",
}


@dataclass(frozen=True)
class _Claim:
    field: str
    value: Any
    strength: int
    match: Match


def _quote(*matches: Match) -> str:
    return " and ".join(f"'{match.words}'" for match in matches)


_LEXICON_FIELDS = {"modes": "mode", "meters": "meter", "instruments": "instrument"}


def _claims(match: Match, language: Language) -> list[_Claim]:
    """What one phrase asks for, as claims on fields; 2 names a value, 1 implies one."""
    if match.kind in _LEXICON_FIELDS:
        return [_Claim(_LEXICON_FIELDS[match.kind], match.meaning, 2, match)]
    if match.kind in LEXICON:
        strength = _WEAK_KINDS.get(match.kind, 2)
        return [
            _Claim(field, value, 1 if field in _WEAK_STYLE_FIELDS else strength, match)
            if match.kind == "styles"
            else _Claim(field, value, strength, match)
            for field, value in meanings()[match.kind][match.meaning].items()
        ]
    claims = []
    for slot, text in match.slots.items():
        if slot in {"key", "notes", "mode"}:
            field = {"key": "tonic"}.get(slot, slot)
        elif match.kind == "range":
            field = {"pitch0": "low", "pitch1": "high"}[slot]
        else:
            field = match.kind
        value: Any = text
        if slot == "key":
            value = language.note_name(text)
        elif slot == "notes":
            value = tuple(map(language.note_name, text))
        elif slot.startswith("pitch"):
            value = language.note_name(text[:-1]) + text[-1]
        claims.append(_Claim(field, value, 2, match))
    return claims


class _Reading:
    """The claims of every phrase, resolved into a request's fields."""

    def __init__(self, text: str, language: Language, matches: list[Match]) -> None:
        self.text, self.language, self.matches = text, language, matches
        self.claims = [claim for match in matches for claim in _claims(match, language)]
        self.fields: dict[str, Any] = {}
        self.sources: dict[str, list[Match]] = {}
        self.decisions: list[str] = []

    def set(self, field: str, value: Any, *claims: _Claim | None) -> None:
        """Set a field from claims; every phrase that made the same claim is a source."""
        self.fields[field] = value
        backers = {(c.field, repr(c.value)) for c in claims if c is not None}
        self.sources[field] = [c.match for c in self.claims if (c.field, repr(c.value)) in backers]

    def winner(self, field: str) -> _Claim | None:
        """The strongest claim on a field; equally strong claims must agree."""
        claims = [claim for claim in self.claims if claim.field == field]
        if not claims:
            return None
        top = max(claim.strength for claim in claims)
        best = [claim for claim in claims if claim.strength == top]
        for other in best[1:]:
            if other.value != best[0].value:
                hint = _HINTS.get(field, "drop one of them")
                raise ConstraintError(
                    f"{_quote(best[0].match, other.match)} contradict each other: one asks "
                    f"for {_LABELS.get(field, field)} {best[0].value}, the other for "
                    f"{other.value}; {hint}"
                )
        for weaker in claims:
            if weaker.strength < top and weaker.value != best[0].value:
                label = _LABELS.get(field, field)
                self.decisions.append(
                    f"'{best[0].match.words}' sets the {label}, not '{weaker.match.words}': "
                    "words that name a value win"
                )
        return best[0]

    def resolve(self) -> None:
        self._style()
        meter = self.winner("meter")
        if meter is not None:
            for allowed in (c for c in self.claims if c.field == "meters"):
                if meter.strength > 1 and meter.value not in allowed.value:
                    raise ConstraintError(
                        f"'{allowed.match.words}' is in {' or '.join(allowed.value)}, but "
                        f"'{meter.match.words}' asks for {meter.value}: drop one of them, or give "
                        "the meter as an option (meter=, --meter) to override the style"
                    )
            self.set("meter", meter.value, meter)
        for field in ("bars", "instrument", "low", "high", "title", "seed", "form"):
            if (claim := self.winner(field)) is not None:
                self.set(field, claim.value, claim)
        self._pitches()
        self._tempo()
        self._register()
        self._band()

    def _band(self) -> None:
        """Chords and band from their phrases; the parts the phrases name, together."""
        for field in ("chords", "band"):
            if (claim := self.winner(field)) is not None:
                self.set(field, claim.value, claim)
        claims = [claim for claim in self.claims if claim.field == "parts"]
        if claims and "band" not in self.fields:
            named = {name for claim in claims for name in claim.value}
            self.set("parts", tuple(p for p in PARTS if p in named), *claims)

    def _style(self) -> None:
        claims = [claim for claim in self.claims if claim.field == "style"]
        presets = list({c.value: c for c in claims if c.value in style_presets()}.values())
        if len(presets) > 1:
            raise ConstraintError(
                f"{_quote(presets[0].match, presets[1].match)} are two styles: a tune has one "
                "style; name one of them"
            )
        if claims:
            text = " ".join(dict.fromkeys(claim.value for claim in claims))
            self.set("style", text, *claims)

    def _pitches(self) -> None:
        notes, tonic, mode = self.winner("notes"), self.winner("tonic"), self.winner("mode")
        modes = meanings()["modes"]
        if notes is not None:
            names = [PitchClass.parse(name) for name in notes.value]
            if mode is not None and mode.strength < 2:
                self.decisions.append(
                    f"'{mode.match.words}' does not change the mode: "
                    f"'{notes.match.words}' names the notes"
                )
                mode = None
            first = PitchClass.parse(tonic.value) if tonic else names[0]
            if first.semitone not in {name.semitone for name in names}:
                assert tonic is not None
                raise ConstraintError(
                    f"'{tonic.match.words}' makes {first} the tonic, but '{notes.match.words}' "
                    f"does not include {first}: a tune ends on its tonic, so add {first} to "
                    "the notes or drop one of them"
                )
            if mode is not None:
                allowed = _scale(str(first), modes[mode.value])
                outside = [str(n) for n in names if n.semitone not in allowed]
                if outside:
                    raise ConstraintError(
                        f"'{notes.match.words}' includes {' '.join(outside)}, which {first} "
                        f"{mode.value} ('{mode.match.words}') does not have: drop one of them"
                    )
            start = [name.semitone for name in names].index(first.semitone)
            ordered = [str(name) for name in names[start:] + names[:start]]
            self.set("notes", tuple(ordered), notes, tonic, mode)
        elif tonic is not None or mode is not None:
            entry = modes[mode.value if mode else "major"]
            key = tonic.value if tonic else entry["tonic"]
            if "steps" in entry:
                self.set("notes", _spell(key, entry["steps"]), tonic, mode)
            else:
                self.set("key", key, tonic or mode)
                if mode is not None:
                    self.set("mode", entry["mode"], mode)

    def _tempo(self) -> None:
        tempo, factor = self.winner("tempo"), self.winner("tempo_factor")
        if tempo is not None and (tempo.strength > 1 or factor is None):
            self.set("tempo", tempo.value, tempo)
            if factor is not None:
                self.decisions.append(
                    f"'{tempo.match.words}' sets the tempo; '{factor.match.words}' is not applied"
                )
        elif factor is not None:
            preset = style_preset(str(self.fields.get("style", "folk"))) or {}
            default = ComposeRequest.model_fields["tempo"].default
            base = tempo.value if tempo else preset.get("tempo", default)
            self.set("tempo", round(base * factor.value), factor)

    def _register(self) -> None:
        register = self.winner("register")
        if register is None:
            return
        preset = style_preset(str(self.fields.get("style", "folk"))) or {}
        instrument = self.fields.get("instrument") or preset.get("instrument")
        low, high = instrument_ranges().get(
            str(instrument or ComposeRequest.model_fields["instrument"].default),
            (DEFAULT_LOW, DEFAULT_HIGH),
        )
        bottom, top = Pitch.parse(low).midi, Pitch.parse(high).midi
        width = min(top - bottom, max(12, round((top - bottom) * REGISTER_SHARE)))
        start = {"low": bottom, "high": top - width, "middle": (bottom + top - width) // 2}
        for field, number in zip(("low", "high"), (0, width), strict=True):
            if field not in self.fields:
                pitch = Pitch.from_midi(start[register.value] + number)
                self.set(field, str(pitch), register)

    def apply(self, options: dict[str, Any]) -> None:
        """Options given explicitly win over the words."""
        for field, value in options.items():
            replaced = [f for f in _PITCH if f in self.fields] if field in _PITCH else []
            replaced += [field] if field in self.fields and field not in replaced else []
            for old in replaced:
                words = _quote(*self.sources.pop(old))
                self.decisions.append(f"the option {field}={value!r} replaces {old} from {words}")
                del self.fields[old]
            self.fields[field] = value

    def explanation(self, **extra: Any) -> Explanation:
        phrases, unsupported = [], []
        for match in self.matches:
            sets = {f: self.fields[f] for f, sources in self.sources.items() if match in sources}
            missing = [
                c.field
                for c in self.claims
                if c.match is match and c.field not in (*_FIELDS, *_HELPERS)
            ]
            if missing:
                reasons = meanings()["unsupported"]
                note = "; ".join(reasons.get(f, f"tunesmith has no {f!r} yet") for f in missing)
                unsupported.append(Phrase(words=match.words, note=note))
            else:
                overruled = any(f"'{match.words}'" in d for d in self.decisions)
                note = "" if sets else "overruled (see decided)" if overruled else "sets nothing"
                phrases.append(Phrase(words=match.words, sets=sets, note=note))
        return Explanation(
            text=self.text,
            language=self.language.code,
            phrases=tuple(phrases),
            unsupported=tuple(unsupported),
            ignored=tuple(self.language.leftovers(self.text, self.matches)),
            decisions=tuple(self.decisions),
            **extra,
        )

    def request(self, explanation: Explanation) -> Interpretation:
        try:
            request = Interpretation(**self.fields)
        except RequestError as error:
            located = re.findall(r"(?:^|; )(\w+): ", str(error))  # "style: ...": the field
            named = [f for f in self.sources if f in located] or [
                f for f in self.sources if re.search(rf"\b{f}\b", str(error))
            ]
            words = _quote(*(m for f in named for m in self.sources[f]))
            raise type(error)(f"{error} (read from {words})" if words else str(error)) from None
        request._explanation = explanation
        return request


def _scale(tonic: str, entry: dict[str, Any]) -> set[int]:
    """The semitones of a mode of ``words/meanings.toml`` on a tonic."""
    root = PitchClass.parse(tonic).semitone
    if "steps" in entry:
        return {(root + step) % 12 for step in entry["steps"]}
    return set(ComposeRequest(key=tonic, mode=entry["mode"]).constraints.semitones)


def _spell(tonic: str, steps: Iterable[int]) -> tuple[str, ...]:
    """A scale's notes spelled by degree: A blues scale -> A C D Eb E G."""
    root = PitchClass.parse(tonic)
    names = []
    for step in steps:
        letter = STEPS[(STEPS.index(root.step) + _LETTER_STEPS[step]) % 7]
        alter = (root.semitone + step - PitchClass(letter).semitone + 6) % 12 - 6
        names.append(str(PitchClass(letter, alter)))
    return tuple(names)


def _choose_language(text: str, code: str | None) -> tuple[Language, list[Match]]:
    """The language named, or the one whose phrases cover most of the text (English on a tie)."""
    if code is not None:
        if code not in languages():
            raise RequestError(
                f"unknown language {code!r}: use one of {', '.join(languages())} "
                "(a new language is a new file in tunesmith/words/)"
            )
        return languages()[code], languages()[code].find(text)
    found = [(language, language.find(text)) for language in languages().values()]
    return max(found, key=lambda item: sum(len(match.words) for match in item[1]))


def _offline(text: str, language: str | None, options: dict[str, Any]) -> Interpretation:
    chosen, matches = _choose_language(text, language)
    if not text.strip():
        raise RequestError("the request is empty: say what to compose, e.g. 'a jig in D'")
    reading = _Reading(text, chosen, matches)
    if not matches:
        ignored = chosen.leftovers(text, matches)
        if ignored or not re.search(r"\w", text):  # words that ask for nothing are a tune
            words = ", ".join(repr(word) for word in ignored[:8])
            read = f"read {words}" if ignored else "it holds no words"
            raise RequestError(
                f"no phrase of the request was understood ({read}): tunesmith reads "
                f"{', '.join(lang.name for lang in languages().values())} requests that name "
                "a style, key, meter, length, tempo or instrument, such as 'a jig in D for "
                "fiddle', or pass the fields as options"
            )
    reading.resolve()
    reading.apply(options)
    return reading.request(reading.explanation())


def interpret(
    text: str,
    /,
    *,
    language: str | None = None,
    backend: Backend | None = None,
    **options: Any,
) -> Interpretation:
    """Read a request for a tune in words; options given explicitly win over the words.

    ``language`` is a file in ``tunesmith/words/`` ("en", "uk"); by default the one whose
    phrases cover most of the text. With an :class:`OpenAIBackend`, the model reads the
    words (into the request's JSON schema, with structured outputs where the server takes
    them) and the word tables cross-check it; other backends read offline.

    Raises
    ------
    RequestError
        The text is empty, too long or understood nowhere, or a value is out of range
        (the message quotes the phrase); :class:`~tunesmith.errors.NoteNameError` for a
        note name such as "H"; :class:`~tunesmith.errors.ConstraintError` for phrases
        that contradict each other (the message quotes both).
    """
    if not isinstance(text, str):
        raise RequestError(f"the request must be text (received {type(text).__name__})")
    if len(text) > MAX_TEXT:
        raise RequestError(
            f"the request is {len(text):,} characters; tunesmith reads at most {MAX_TEXT:,}: "
            "say what to compose in a sentence or two, or pass the fields as options"
        )
    if isinstance(backend, OpenAIBackend):
        return read_with_model(text, backend, lambda opts: _offline(text, language, opts), options)
    return _offline(text, language, options)
