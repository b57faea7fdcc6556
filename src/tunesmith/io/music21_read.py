"""MusicXML and ABC through music21 into a :class:`Score`, keeping what was written.

A measure of one voice whose notes have notation lengths becomes its events exactly, ties
and spelling included, so a file tunesmith wrote reads back as the same score. A measure
with several voices or lengths the notation lacks (quintuplets) is read as notes on a
timeline and quantised (see :mod:`tunesmith.io.timeline`); ``score.source`` says where.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from tunesmith.errors import ReadError, TunesmithError
from tunesmith.io.abc import Facts, Voice, voices
from tunesmith.io.limits import check_extent
from tunesmith.io.music21_header import musicxml_facts, mxl_document, read_header
from tunesmith.io.score import drum_at
from tunesmith.io.timeline import (
    Timed,
    choose_grid,
    exact,
    quantise,
    roles,
    to_bars,
)
from tunesmith.model.header import clean_text
from tunesmith.model.score import (
    DURATIONS,
    Bar,
    ChordSymbol,
    Drum,
    Event,
    Part,
    Pitch,
    Repeat,
    Score,
    Source,
    split_duration,
)

__all__ = ["read_music21"]

_LENGTHS = frozenset(DURATIONS.values())


def _pitch(m21_pitch: Any) -> Pitch:
    alter = m21_pitch.alter
    if alter != int(alter):
        raise TunesmithError(f"microtone {m21_pitch.nameWithOctave}")
    octave = m21_pitch.octave if m21_pitch.octave is not None else m21_pitch.implicitOctave
    return Pitch(m21_pitch.step, int(alter), octave)


def _drums(element: Any, abc_drums: bool) -> tuple[Drum, ...]:
    hits = []
    for hit in getattr(element, "notes", None) or [element]:
        if abc_drums:
            hits += [Drum.from_midi(p.midi) for p in getattr(hit, "pitches", ())]
        elif hasattr(hit, "displayStep"):
            place = f"{hit.displayStep}{hit.displayOctave}"
            head = hit.notehead if hit.notehead not in {None, "normal"} else "normal"
            drum = drum_at(place, head) or Drum.from_midi(min(127, max(0, hit.displayPitch().midi)))
            hits.append(drum)
        else:  # a pitched note in a drum part: its key is the drum, as General MIDI plays it
            hits += [Drum.from_midi(min(127, max(0, p.midi))) for p in getattr(hit, "pitches", ())]
    return tuple(dict.fromkeys(hits))


def _undo_full_bar_rest(measure: Any, signature: Any) -> None:
    """Give back its written length to a whole rest music21 stretched over the whole bar.

    music21 reads the one whole rest of a measure of chords as a rest of the full bar (in
    12/8 a rest of six quarter notes after the chords), and places what follows after it.
    """
    elements = [e for e in measure.notesAndRests if not e.duration.isGrace]
    rests = [e for e in elements if e.isRest and e.fullMeasure is True]
    if len(rests) != 1 or len(elements) < 2 or signature is None:
        return
    others = sum(Fraction(e.quarterLength) for e in elements if e is not rests[0])
    rests[0].quarterLength = Fraction(signature.barDuration.quarterLength) - others
    rests[0].fullMeasure = False
    now = Fraction(0)
    for element in sorted(elements, key=lambda e: e.offset):
        measure.setElementOffset(element, now)
        now += Fraction(element.quarterLength)


def _drop_padding(measure: Any) -> None:
    """Take out the hidden rests that end a measure (and each of its voices).

    music21's MusicXML writer fills a short measure in mid-tune (the pickup into the B part,
    a first ending before the repeat) up to the meter with rests it does not print; the
    measure as written ends where its printed music does.
    """
    for container in (measure, *measure.voices):
        written = [e for e in container.notesAndRests if not e.duration.isGrace]
        for element in sorted(written, key=lambda e: e.offset, reverse=True):
            if not element.isRest or not element.style.hideObjectOnPrint:
                break
            container.remove(element)


def _exact(measure: Any, drums: bool, abc_drums: bool) -> list[Event] | None:
    """The measure's events as written, or None if it needs the timeline reader."""
    if measure.voices:
        return None
    events, now = [], Fraction(0)
    for element in measure.notesAndRests:
        if element.duration.isGrace or "Harmony" in element.classes:
            continue
        length = Fraction(element.duration.quarterLength).limit_denominator(1024)
        if length not in _LENGTHS or Fraction(element.offset).limit_denominator(1024) != now:
            return None
        if element.isRest:
            events.append(Event.rest(length))
        elif drums:
            events.append(Event((), length, drums=_drums(element, abc_drums)))
        else:
            pitches = tuple(dict.fromkeys(_pitch(p) for p in element.pitches))
            tie = element.tie is not None and element.tie.type in {"start", "continue"}
            events.append(Event(pitches, length, tie))
        now += length
    return events


def _timeline(measure: Any, drums: bool, abc_drums: bool) -> tuple[list[Timed], Fraction]:
    notes = []
    for element in measure.flatten().notesAndRests:
        if element.isRest or element.duration.isGrace or "Harmony" in element.classes:
            continue
        onset = Fraction(element.offset).limit_denominator(1024)
        end = onset + Fraction(element.duration.quarterLength).limit_denominator(1024)
        sounds = _drums(element, abc_drums) if drums else [_pitch(p) for p in element.pitches]
        notes += [Timed(onset, end, sound) for sound in sounds]
    return notes, choose_grid([t for n in notes for t in (n.onset, n.end)] or [Fraction(0)])


def _is_drums(part: Any, voice: Voice | None) -> bool:
    unpitched = any(e.classes[0] in {"Unpitched", "PercussionChord"} for e in part.recurse().notes)
    return unpitched or (voice is not None and voice.drums)


def _repeats(measures: list[Any], spanners: list[Any]) -> tuple[tuple[Repeat, ...], list[str]]:
    index = {id(m): i for i, m in enumerate(measures)}
    starts = {
        i for i, m in enumerate(measures) if getattr(m.leftBarline, "direction", "") == "start"
    }
    ends = {
        i + 1 for i, m in enumerate(measures) if getattr(m.rightBarline, "direction", "") == "end"
    }
    firsts = {}
    for bracket in spanners:
        spanned = [index[id(m)] for m in bracket.getSpannedElements() if id(m) in index]
        if spanned and "1" in str(bracket.number).replace(" ", "").split(","):
            firsts[max(spanned) + 1] = max(spanned) + 1 - min(spanned)
    repeats, notes, free = [], [], 0
    for end in sorted(ends):
        start = max((s for s in starts if free <= s < end), default=free)
        try:
            repeats.append(Repeat(start, end, firsts.get(end, 0)))
            free = repeats[-1].stop
        except TunesmithError:
            notes.append(f"a repeat ending at bar {end} could not be read; it is played once")
    return tuple(repeats), notes


def _harmony(part: Any, lengths: list[Fraction]) -> tuple[tuple[ChordSymbol, ...], list[str]]:
    starts = [Fraction(0)]
    for length in lengths:
        starts.append(starts[-1] + length)
    marks: list[tuple[Fraction, str | None]] = []
    for measure, start in zip(part.getElementsByClass("Measure"), starts, strict=False):
        for symbol in measure.getElementsByClass("Harmony"):
            onset = start + Fraction(symbol.offset).limit_denominator(1024)
            figure = None if "NoChord" in symbol.classes else symbol.figure
            if figure and symbol.chordKindStr:  # the chord as the file spells it
                bass = figure.partition("/")[2] and "/" + figure.partition("/")[2]
                figure = symbol.root().name + symbol.chordKindStr + bass
            marks.append((onset, figure and re.sub(r"(^|/)([A-G])-", r"\1\2b", figure)))
    chords, skipped = [], []
    for (onset, figure), (after, _) in zip(marks, [*marks[1:], (starts[-1], None)], strict=False):
        if figure is not None and after > onset:
            try:
                chords.append(ChordSymbol(onset, after - onset, figure))
            except TunesmithError:
                skipped.append(figure)
    notes = (
        [f"chord symbols tunesmith cannot name were dropped: {', '.join(skipped)}"]
        if skipped
        else []
    )
    return tuple(chords), notes


@dataclass
class _Tally:
    """What reading changed: notes for ``score.source``, quantised times, merged bars."""

    notes: list[str] = field(default_factory=list)
    moved: int = 0
    largest: Fraction = Fraction(0)
    merged: set[int] = field(default_factory=set)
    barred: list[int] = field(default_factory=list)


def _parse(data: Any, path: Path, kind: str, tally: _Tally) -> tuple[Any, Facts]:
    """music21's score of the file (its first tune), and what music21 does not read."""
    from music21 import converter, stream  # noqa: PLC0415 - music21 is slow to import

    if kind == "abc":
        tunes = [m.start() for m in re.finditer(r"^X:", data, re.MULTILINE)]
        if len(tunes) > 1:
            tally.notes.append(f"the file holds {len(tunes)} tunes; read the first")
            data = data[: tunes[1]]
        facts = voices(data)
    else:
        facts = musicxml_facts(mxl_document(data) if isinstance(data, Path) else data)
    try:
        parsed = converter.parse(str(data) if isinstance(data, Path) else data, format=kind)
    except Exception as error:  # music21 raises many kinds for a file it cannot read
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ReadError(path, f"music21 cannot read it as {kind}: {reason}") from error
    if isinstance(parsed, stream.Opus):
        parsed = parsed.scores[0]
    return parsed, facts


def _measures(parts: list[Any], tally: _Tally) -> tuple[list[list[Any]], list[Fraction]]:
    """Each part's measures, and each bar's length (the longest part's, a pickup's short).

    The part whose bar lines the file gave comes first in ``tally.barred``.
    """
    measure_lists = []
    for number, part in enumerate(parts):
        measures = list(part.getElementsByClass("Measure"))
        signature = None
        for measure in measures:
            signature = measure.timeSignature or signature
            _drop_padding(measure)
            _undo_full_bar_rest(measure, signature)
        if measures:
            tally.barred.append(number)
        else:
            tally.notes.append(
                f"music21 read no bar lines in part {number + 1} (in ABC it needs two plain "
                "'|'); its bars follow the meter"
            )
            measures = list(part.makeMeasures().getElementsByClass("Measure"))
        measure_lists.append(measures)
    lengths = []
    for index in range(max(len(m) for m in measure_lists)):
        ends = [
            Fraction(e.offset + e.quarterLength).limit_denominator(1024)
            for measures in measure_lists if index < len(measures)
            for e in measures[index].flatten().notesAndRests if not e.duration.isGrace
        ]  # fmt: skip
        lengths.append(max(ends, default=Fraction(0)) or _full_bar(measure_lists, index))
    return measure_lists, lengths


def _bar(
    measure: Any, length: Fraction, *, drums: bool, abc: bool, tally: _Tally, number: int
) -> Bar:
    """A measure as a bar of ``length``: exactly as written where it can be, else quantised."""
    events = _exact(measure, drums, abc) if measure is not None else []
    if events is None:
        timed, grid = _timeline(measure, drums, abc)
        if not exact([t for n in timed for t in (n.onset, n.end)], [Fraction(0), length]):
            timed, moved, shift = quantise(timed, grid)
            tally.moved, tally.largest = tally.moved + moved, max(tally.largest, shift)
        tally.merged.add(number)
        events = list(to_bars(timed, [Fraction(0), length], drums=drums)[0].events)
    filled = sum((e.duration for e in events), Fraction(0))
    if filled > length:
        raise TunesmithError("it is longer than the same bar of the other parts")
    rests = split_duration(length - filled) if filled < length else ()
    return Bar(tuple(events) + tuple(Event.rest(piece) for piece in rests))


def read_music21(data: Any, path: Path, kind: Literal["musicxml", "abc"]) -> Score:
    """Read MusicXML (bytes, text or a path for .mxl) or ABC text through music21."""
    tally = _Tally()
    parsed, facts = _parse(data, path, kind, tally)
    _check_extent(parsed, path)
    parts = list(parsed.parts) or [parsed]
    measure_lists, lengths = _measures(parts, tally)
    check_extent(path, bars=len(lengths))
    read_parts = []
    for number, (part, measures) in enumerate(zip(parts, measure_lists, strict=True)):
        voice = facts.voices[number] if number < len(facts.voices) else None
        drums = _is_drums(part, voice)
        bars = []
        for index, length in enumerate(lengths):
            measure = measures[index] if index < len(measures) else None
            try:
                abc = kind == "abc" and drums
                bars.append(
                    _bar(measure, length, drums=drums, abc=abc, tally=tally, number=index + 1)
                )
            except TunesmithError as error:
                raise ReadError(path, f"part {number + 1}, bar {index + 1}: {error}") from error
        name = voice.name if voice is not None else clean_text(str(part.partName or ""))
        read_parts.append((tuple(bars), drums, name, voice.program if voice else 0))
    if not any(e.pitches or e.drums for bars, *_ in read_parts for bar in bars for e in bar.events):
        raise ReadError(path, "the file has no notes")
    assigned = roles([(bars, drums) for bars, drums, *_ in read_parts])
    final = tuple(
        Part(b, name=n, role=r, program=p)
        for (b, _, n, p), r in zip(read_parts, assigned, strict=True)
    )
    melody = next((p for p in final if p.role == "melody"), final[0])
    line = [(p.midi, e.duration) for e in melody.tune.events for p in e.pitches[:1]]
    try:
        header, estimated = read_header(parts[0], parsed, path, lengths, facts=facts, line=line)
    except TunesmithError as error:
        raise ReadError(path, f"its header cannot be read: {error}") from error
    brackets = list(parsed.recurse().getElementsByClass("RepeatBracket"))
    repeats, repeat_notes = _repeats(measure_lists[(tally.barred or [0])[0]], brackets)
    chorded = [p for p in parts if next(iter(p.recurse().getElementsByClass("Harmony")), None)]
    harmony, harmony_notes = _harmony(chorded[0], lengths) if chorded else ((), [])
    if tally.merged:
        merged = ", ".join(map(str, sorted(tally.merged)))
        tally.notes.append(f"measures read as layered notes (voices, tuplets): {merged}")
    notes = tuple(tally.notes + repeat_notes + harmony_notes)
    source = Source(str(path), kind, tuple(estimated), tally.moved, tally.largest, notes)
    return Score(header, final, harmony, repeats, source)


def _check_extent(parsed: Any, path: Path) -> None:
    """Refuse a file with no notes, or one too long to read, before its bars are made.

    A bar lasts at most the longest time signature's bar (four quarter notes without one).
    """
    notes = sum(len(n.pitches) or 1 for n in parsed.recurse().notes)
    if not parsed.parts and not notes:  # a MusicXML <part-list> that names no part
        raise ReadError(path, "the file has no parts; export it again with its parts")
    if not notes:
        raise ReadError(path, "the file has no notes")
    signatures = parsed.recurse().getElementsByClass("TimeSignature")
    longest = max((s.barDuration.quarterLength for s in signatures), default=4.0)
    quarters = float(parsed.highestTime)
    check_extent(path, bars=math.ceil(quarters / longest), notes=notes, quarters=quarters)


def _full_bar(measure_lists: list[list[Any]], index: int) -> Fraction:
    for measures in measure_lists:
        if index < len(measures) and (sig := measures[index].getContextByClass("TimeSignature")):
            return Fraction(sig.barDuration.quarterLength)
    return Fraction(4)
