"""The context of the user's music: the part to work on, and the request its file implies.

A file says its meter, key, tempo and title (or the reader estimates them, and says so);
the part's own notes give the pitch set and the range. What the user gives explicitly
wins; everything else is inferred, and :attr:`Context.inferred` says how, for the report.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from statistics import fmean
from typing import Any

from tunesmith.errors import RequestError, RequestTypeError
from tunesmith.io.read import read_score
from tunesmith.model.header import MODES, Header, Key
from tunesmith.model.meter import meter_of
from tunesmith.model.score import Bar, Part, Pitch, PitchClass, Score
from tunesmith.pipeline.composition import Composition
from tunesmith.requests.request import ComposeRequest

__all__ = ["OPTIONS", "Context", "bar_range", "context_of", "load_score", "part_name"]

OPTIONS = (
    "notes",
    "key",
    "mode",
    "low",
    "high",
    "meter",
    "tempo",
    "instrument",
    "style",
    "title",
    "seed",
)
"""The request's options a user may give to continue, infill or vary their music."""
_PITCH_OPTIONS = ("notes", "key", "mode")
_RANGE_RE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


@dataclass(frozen=True)
class Context:
    """The user's score (its header as the user set it), the part worked on, the request."""

    score: Score
    index: int
    """The part's index in ``score.parts``."""
    request: ComposeRequest
    inferred: tuple[str, ...]
    """What came from the file or was estimated, in words; and what the user gave."""
    given: frozenset[str]
    """The options the user gave explicitly."""
    source: str
    """The file, or ``"the score"`` for a :class:`Score` given directly."""

    @property
    def part(self) -> Part:
        """The part worked on."""
        return self.score.parts[self.index]

    @property
    def bars(self) -> tuple[Bar, ...]:
        """The part's bars as written (repeats not played out)."""
        return self.part.bars


def load_score(source: Any) -> tuple[Score, str]:
    """The score of a file (MIDI, MusicXML, ABC, notation), Score or Composition; its name."""
    if isinstance(source, Score):
        return source, "the score"
    if isinstance(source, Composition):
        return source.score, "the composition"
    if not isinstance(source, str | os.PathLike):
        raise RequestTypeError(
            "the music to work on must be a file path (MIDI, MusicXML, ABC or tunesmith "
            f"notation), a Score or a Composition (received {type(source).__name__})"
        )
    return read_score(source), str(Path(source))


def part_name(score: Score, index: int) -> str:
    """``'Fiddle'``, or ``#2`` for a part without a name."""
    name = score.parts[index].name
    return repr(name) if name else f"#{index}"


def _describe(score: Score, index: int) -> str:
    return f"{part_name(score, index)} ({score.parts[index].role})"


def _notes(part: Part) -> list[Pitch]:
    return [p for bar in part.bars for e in bar.events for p in e.pitches]


def choose_part(score: Score, part: int | str | None, source: str) -> tuple[int, str]:
    """The index of the part to work on, and why it was chosen.

    Default: the melody, i.e. the highest-sounding part with pitches (the reader names it
    the melody); a name or an index into ``score.parts`` chooses another.
    """
    listed = ", ".join(f"{i}: {_describe(score, i)}" for i in range(len(score.parts)))
    if part is None:
        pitched = [i for i, p in enumerate(score.parts) if not p.is_drum and _notes(p)]
        if not pitched:
            raise RequestError(
                f"{source} has no part with pitches (its parts: {listed}); continue, infill "
                "and vary write melodies: give a file with a melody"
            )
        melodic = [i for i in pitched if score.parts[i].role == "melody"]
        index = melodic[0] if melodic else max(pitched, key=lambda i: fmean(_pitch_keys(score, i)))
        return index, f"part {_describe(score, index)}, the melody, of {len(score.parts)}"
    if isinstance(part, bool) or not isinstance(part, int | str):
        raise RequestTypeError(
            f"part must be a part's name or its index in score.parts (received {part!r})"
        )
    names = [p.name for p in score.parts]
    if isinstance(part, str) and part not in names:
        raise RequestError(f"part {part!r} does not exist in {source}: its parts are {listed}")
    if isinstance(part, int) and not 0 <= part < len(score.parts):
        raise RequestError(
            f"part {part} does not exist in {source}: give an index from 0 to "
            f"{len(score.parts) - 1} ({listed})"
        )
    index = names.index(part) if isinstance(part, str) else part
    chosen = score.parts[index]
    if chosen.is_drum or not _notes(chosen):
        why = "is drums" if chosen.is_drum else "has no notes"
        raise RequestError(
            f"part {_describe(score, index)} of {source} {why}: continue, infill and vary write "
            f"melodies; choose a part with pitches ({listed})"
        )
    return index, f"part {_describe(score, index)}, as asked, of {len(score.parts)}"


def _pitch_keys(score: Score, index: int) -> list[int]:
    return [p.midi for p in _notes(score.parts[index])]


def _own_pitch_classes(part: Part, tonic: PitchClass) -> tuple[PitchClass, ...]:
    """The part's pitch classes as it spells them most often, from the tonic up."""
    spellings: dict[int, Counter[PitchClass]] = {}
    for pitch in _notes(part):
        spellings.setdefault(pitch.pitch_class.semitone, Counter())[pitch.pitch_class] += 1
    chosen = {semitone: count.most_common(1)[0][0] for semitone, count in spellings.items()}
    chosen[tonic.semitone] = tonic
    return tuple(chosen[s] for s in sorted(chosen, key=lambda s: (s - tonic.semitone) % 12))


def _tonic(score: Score, part: Part) -> tuple[PitchClass, str]:
    key = score.header.key
    if key is not None:
        return key.tonic, f"the key {key}"
    last = [p for bar in part.bars for e in bar.events for p in e.pitches[-1:]][-1]
    return last.pitch_class, "the last note (the file has no key)"


def _origin(score: Score, field: str) -> str:
    estimated = [e for e in (score.source.estimated if score.source else ()) if e.startswith(field)]
    return f"(estimated: {estimated[0]})" if estimated else "(from the file)"


def _range(pitches: tuple[PitchClass, ...], part: Part, tonic: PitchClass) -> tuple[Pitch, Pitch]:
    """The part's lowest and highest notes, widened to hold a tonic if they hold none."""
    keys = [p.midi for p in _notes(part)]
    low, high = min(keys), max(keys)
    if not any((k - tonic.semitone) % 12 == 0 for k in range(low, high + 1)):
        above = high + (tonic.semitone - high) % 12
        below = low - (low - tonic.semitone) % 12
        low, high = (low, above) if above - high <= low - below else (below, high)
    spell = {pc.semitone: pc for pc in pitches}
    return Pitch.from_midi(low, spell.get(low % 12)), Pitch.from_midi(high, spell.get(high % 12))


def _pitch_fields(
    score: Score, part: Part, given: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """The notes, low and high the file implies where the user gave none, and whence."""
    fields: dict[str, Any] = {}
    inferred: list[str] = []
    tonic, whence = _tonic(score, part)
    spelled: tuple[PitchClass, ...] = ()
    if not any(name in given for name in _PITCH_OPTIONS):
        if score.header.notes is not None:
            spelled, how = score.header.notes, "the file's pitch set"
        else:
            spelled, how = _own_pitch_classes(part, tonic), "the part's own notes"
        spelled = (tonic, *(p for p in spelled if p.semitone != tonic.semitone))
        fields["notes"] = [str(p) for p in spelled]
        names = " ".join(map(str, spelled))
        inferred.append(f"pitches {names} ({how}; tonic {tonic} from {whence})")
        if score.header.key is not None:
            inferred.append(f"key {score.header.key} {_origin(score, 'key')}")
    else:  # the tonic the user gave: the key, or the first of the notes
        first = given.get("key") or given.get("notes")
        if isinstance(first, str):
            first = first.replace(",", " ").split()
        if isinstance(first, list | tuple) and first:
            tonic = PitchClass.parse(str(first[0]))
    if "low" not in given or "high" not in given:
        low, high = _range(spelled, part, tonic)
        fields["low"], fields["high"] = given.get("low", str(low)), given.get("high", str(high))
        whose = "the part's lowest and highest notes"
        inferred.append(f"range {fields['low']}-{fields['high']} ({whose})")
    return fields, inferred


def context_of(
    score: Score, source: str, part: int | str | None, bars: int, options: dict[str, Any]
) -> Context:
    """The request for ``bars`` new bars of the chosen part: the user's options win.

    Raises
    ------
    RequestError
        An unknown option, a part that does not exist or has no pitches, a meter whose
        bars last longer or shorter than the file's, or any bad value a request refuses.
    """
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise RequestError(
            f"unknown option {unknown[0]!r}: continue, infill and vary take "
            f"{', '.join(OPTIONS)} (the form is the file's)"
        )
    given = {name: value for name, value in options.items() if value is not None}
    index, why = choose_part(score, part, source)
    chosen = score.parts[index]
    header = score.header
    inferred = [why]
    fields: dict[str, Any] = {"bars": bars, **given}
    if "meter" not in given:
        fields["meter"] = header.meter
        inferred.append(f"meter {header.meter} {_origin(score, 'meter')}")
    pitched, how = _pitch_fields(score, chosen, given)
    fields |= pitched
    inferred += how
    if "tempo" not in given:
        beat = meter_of(str(fields["meter"])).beat_length
        tempo = min(max(round(header.qpm / float(beat), 2), 10.0), 400.0)
        fields["tempo"] = tempo
        inferred.append(f"tempo {tempo:g} {_origin(score, 'tempo')}")
    if "instrument" not in given:
        fields["instrument"] = chosen.program
    if "title" not in given and header.title:
        fields["title"] = header.title
    request = ComposeRequest(**fields)
    bar_length = meter_of(request.meter).bar_length
    if bar_length != header.bar_length:
        raise RequestError(
            f"meter {request.meter!r} has bars of {bar_length} quarter notes but the bars of "
            f"{source} ({header.meter}) last {header.bar_length}: give a meter of the same "
            "bar length (e.g. 6/8 for 3/4), or none to keep the file's"
        )
    if given:
        inferred.append(f"given: {', '.join(sorted(given))}")
    return Context(
        score=replace(score, header=_header(header, request, given)),
        index=index,
        request=request,
        inferred=tuple(inferred),
        given=frozenset(given),
        source=source,
    )


def _header(header: Header, request: ComposeRequest, given: dict[str, Any]) -> Header:
    """The file's header, with what the user set explicitly."""
    changes: dict[str, Any] = {}
    if "meter" in given:
        changes |= {"meter": request.meter, "beat": Fraction(0)}
    if "tempo" in given:
        changes |= {"tempo": request.tempo, "beat": meter_of(request.meter).beat_length}
    if "title" in given and request.title:
        changes["title"] = " ".join(request.title.split())
    constraints = request.constraints
    if "notes" in given:
        changes["notes"] = constraints.pitch_classes
    if ("key" in given or "mode" in given) and constraints.key_mode in MODES:
        changes |= {"key": Key(constraints.tonic, constraints.key_mode), "notes": None}
    return replace(header, **changes) if changes else header


def bar_range(bars: Any, count: int, what: str = "bars") -> range:
    """0-based indices of ``bars`` (``"5-8"``, ``"5"``, ``5`` or ``(5, 8)``; 1-based, inclusive).

    Raises :class:`RequestError` for a range that is reversed or outside bars 1 to ``count``.
    """
    first: int | None = None
    if isinstance(bars, str) and (match := _RANGE_RE.match(bars)):
        first, last = int(match[1]), int(match[2] or match[1])
    elif isinstance(bars, int) and not isinstance(bars, bool):
        first = last = bars
    elif isinstance(bars, tuple) and len(bars) == 2 and all(type(b) is int for b in bars):
        first, last = bars
    if first is None:
        raise RequestTypeError(
            f"{what} must be a bar range such as '5-8', a bar number or a pair (5, 8) of "
            f"1-based bar numbers (received {bars!r})"
        )
    if first > last:
        raise RequestError(
            f"{what}={bars!r} is reversed: give the first bar first, e.g. '{last}-{first}'"
        )
    if first < 1 or last > count:
        raise RequestError(
            f"{what}={bars!r} is outside the tune: it has bars 1 to {count}; give a range "
            "within them"
        )
    return range(first - 1, last)
