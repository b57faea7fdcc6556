"""Writes src/tunesmith/data/rhythms.json: the rhythm cells and phrase endings of real dances.

For each dance style, the tunes of O'Neill's and Ryan's whose rhythm (``R:``, the title's
dance, else the meter's; ``train/prepare.py``) is that style's (the march: only tunes named
as marches, ``NAMED_ONLY``), and for the air the Essen
folk songs in 3/4 (``SONGS``), minus the families held out from the folk adapter's training
(so the held-out evaluation stays unseen):

- **cells**: how often each pattern fills one of the style's cells (a jig's dotted quarter,
  a reel's quarter) in whole bars. Patterns of at least ``MIN_CELL_SHARE`` of the cells,
  without rests, are kept: they are the style's cells, and the model (the folk adapter)
  chooses among them. Rarer ones are left out: the grammar offers every cell alike, so a
  model that leans away from long notes (``long_note_penalty``) wrote a jig's ornamental
  sixteenths (6% of real jigs' beats, in three cells) on 15% of its notes.
- **cadences**: the rhythm that ends a phrase, from the last beat (half a bar in 4/4 and
  2/2, the whole bar in 3/4) of bars 4 and 12 (``half``), 8 and 16 (``full``: the end of
  a part) and the tune's last bar (``final``). A bar shortened by a pickup is read with a
  rest for the pickup's time: that is how the tune sounds the last time through. Only
  endings whose last note is at least as long as the note before it are kept (a last short
  note after a long one is the next part's pickup, and the cadence's pitch belongs on the
  long note); ``final`` endings also need a last note of a whole cell or a rest after it,
  so a tune stops rather than runs on. Each kind keeps the endings of at least
  ``MIN_SHARE`` of the phrases measured.

- **bars**: the rhythm of real tunes' first 16 whole bars (a pickup left out), slot by slot:
  a cell's pattern, or a long note from a cell's start (tunes where a note crosses a cell
  otherwise, or a bar opens on a rest, are left out; at most ``MAX_SKELETONS`` tunes a
  style, spread over the list).
- **pickups**: the same tunes' pickups (the notes before the first bar line), as a pattern
  of duration codes; "" for a tune without one (or with one opening on a rest, or holding a
  note shorter than ``SHORTEST``).
- **finals**: the same tunes' own last endings (as ``final`` reads them; null where the
  tune's last bar gives none), so a tune ends as the real tune whose rhythm and pickup it
  takes ends: the rest that balances its pickup, a whole note without one.
- **repeats**: which of the same tunes' 16 bars repeats which, note for note (null for a
  tune whose part ends repeat another bar than bar 8).
- **harmony**: the chords the same tunes' melodies imply in those 16 bars, one a strong
  beat, as :func:`tunesmith.band.harmonise.best_fit` finds them among the key's triads
  (a minor key's dominant major): for each bar, ``[offset, degree]`` pairs, the degree
  counted from the tonic in the tune's own scale (0 the tonic, 4 the dominant). A tune
  whose writing draws these bars' rhythm takes their harmony too, in its own key.

- **rules**: the thresholds of the musical rules (:mod:`tunesmith.writing.rules`) that nine
  in ten of the same tunes' first 16 whole bars keep, judged bar by bar as the decoding loop
  judges a new bar (a bar repeating an earlier one is a copy, bars 4, 8, 12 and 16 end
  phrases). A rule set from the whole corpus's shares, judged on a tune so far, refused
  most real tunes somewhere: 53% of jigs broke the leap share, 76% of reels the zigzag.
  A style with ``thresholds = "corpus"`` takes these.

A tune's writing draws one real tune's bar rhythms and each phrase ending by its seed
(``Writing.of``), so its rhythm, which bars stop and how, is the tradition's, not one fixed
pattern; the model chooses the pitches. Run again after changing the corpus
reader: ``python bench/make_rhythms.py``.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from corpus_cache import load
from tunesmith.backends.local import folk_adapter_path
from tunesmith.band.harmonise import best_fit, harmony_chords
from tunesmith.model.header import Key
from tunesmith.model.notation import parse_tune, unparse
from tunesmith.model.notes import DURATIONS, PitchClass
from tunesmith.model.score import Bar, Tune
from tunesmith.music.rhythm import meter_of
from tunesmith.writing.rules import Rules, refused_bars

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "train"))
import prepare  # noqa: E402

OUT = ROOT / "src" / "tunesmith" / "data" / "rhythms.json"
STYLES = {  # style: meters its tunes are written in, and its cell length
    "jig": (("6/8",), Fraction(3, 2)),
    "reel": (("2/2", "4/4"), Fraction(1)),
    "hornpipe": (("4/4", "2/2"), Fraction(1)),
    "slip jig": (("9/8",), Fraction(3, 2)),
    "march": (("2/4",), Fraction(1)),
    "waltz": (("3/4",), Fraction(1)),
    "air": (("3/4",), Fraction(1)),
}
ONEILLS_MARCHES = range(1801, 1846)
"""O'Neill's *Music of Ireland* (1903), "Marches and Miscellaneous": tunes 1801-1845 are
marches (1846-1850 are the outcries and the fox chase); the book's ``R:`` fields name none."""
NAMED_ONLY = {"march": ("2/4", "4/4", "2/2")}
"""Styles drawn only from tunes named as their dance (``R:``, the title, O'Neill's section),
in these meters (a bar of 4/4 or 2/2 read as two of 2/4), not from every tune of the
style's meter: of O'Neill's 138 unnamed tunes in 2/4, 72 are airs and songs, 50 hornpipes
in sixteenths (the Boys of Bluehill, the Flowers of Edinburgh), 6 set dances, 10 marches."""
SONGS = frozenset({"air"})
"""Styles drawn from the Essen folk songs, not O'Neill's and Ryan's dances: a slow air is a
song's melody (the dance books hold 15 airs in 3/4). The held-out evaluation judges no
Essen song."""
MIN_SHARE = 0.01
BARS = 16
MAX_SKELETONS = 400
MIN_CELL_SHARE = 0.05
HALF, FULL = (4, 12), (8, 16)
SHORTEST = Fraction(1, 4)
"""A skeleton's shortest note, a sixteenth: thirty-seconds in the dance books are ornaments
written out (a turn, ``t t e.``), which the model would write as melody notes."""
KEPT = 0.9
"""The share of real tunes a rule's measured threshold lets through."""
PHRASE_ENDS = frozenset({3, 7, 11, 15})
LOOSE = Rules(
    unique_bars=False,
    max_run=10**6,
    max_repeat_share=1.0,
    min_step_share=0.0,
    max_same_beats=10**6,
    max_rhythms=None,
    max_leap_share=1.0,
    resolve_leaps=False,
    max_pitch_share=1.0,
    max_zigzag=10**6,
    max_turn_share=1.0,
)
"""Rules no tune breaks: one threshold at a time is set against them."""
_SHARES = [step / 100 for step in range(101)]
THRESHOLDS: dict[str, list[Any]] = {  # a rule's values, strictest first
    "max_run": list(range(1, 17)),
    "max_repeat_share": _SHARES,
    "min_step_share": _SHARES[::-1],
    "max_leap_share": _SHARES,
    "max_pitch_share": _SHARES,
    "max_same_beats": list(range(1, 9)),
    "max_rhythms": list(range(1, 17)),
    "max_span": list(range(1, 49)),
    "max_zigzag": list(range(1, 33)),
    "max_turn_share": _SHARES,
}
_CODES = {length: code for code, length in DURATIONS.items()}
_TONICS = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
"""A tonic's name by semitone, spelled as key signatures allow (Bb major, not A#)."""


def whole_bars(tune_bars: list[Bar], bar_length: Fraction) -> list[Bar]:
    """A tune's first ``BARS`` bars as a player counts them: an opening pickup left out, a bar
    split where a part ends (a short bar and the pickup into the next part) joined into one;
    the count stops at a short bar nothing completes (the tune's last, balancing its pickup).
    """
    found: list[Bar] = []
    index = int(bool(tune_bars) and tune_bars[0].duration < bar_length)
    while index < len(tune_bars) and len(found) < BARS:
        bar = tune_bars[index]
        if bar.duration == bar_length:
            found.append(bar)
            index += 1
        elif (
            index + 1 < len(tune_bars)
            and bar.duration + tune_bars[index + 1].duration == bar_length
        ):
            found.append(Bar((*bar.events, *tune_bars[index + 1].events)))
            index += 2
        else:
            break
    return found


def _pattern(events: list[tuple[Fraction, bool]]) -> str | None:
    """Duration codes (``r:`` for a rest); None where a length has no code."""
    words = []
    for duration, rest in events:
        if duration not in _CODES:
            return None
        words.append(("r:" if rest else "") + _CODES[duration])
    return " ".join(words)


def cells_of(bar: Bar, cell: Fraction) -> list[str]:
    """The patterns filling each of a whole bar's cells (notes crossing a cell: none)."""
    found, current, position, broken = [], [], Fraction(0), False
    for event in bar.events:
        if position % cell == 0 and event.duration > cell and event.duration % cell == 0:
            position += event.duration  # a long note: not a cell
            continue
        current.append((event.duration, not event.pitches))
        position += event.duration
        if position % cell == 0:
            if not broken and (text := _pattern(current)) is not None:
                found.append(text)
            current, broken = [], False
        elif position // cell != (position - event.duration) // cell:
            current, broken = [], True  # a note across the cell's end: no cell until the next
    return found


def slots_of(bar: Bar, cell: Fraction) -> list[str] | None:
    """A whole bar as slots: a pattern per cell, or a long note spanning whole cells from a
    cell's start; None where a note crosses a cell's end otherwise, or a length has no code."""
    slots, current, position = [], [], Fraction(0)
    for event in bar.events:
        rest = not event.pitches
        if not current and position % cell == 0 and event.duration % cell == 0:
            if (text := _pattern([(event.duration, rest)])) is None:
                return None
            slots.append(text)  # a cell of one note, or a long note
            position += event.duration
            continue
        current.append((event.duration, rest))
        position += event.duration
        if position % cell == 0:
            if (text := _pattern(current)) is None:
                return None
            slots.append(text)
            current = []
        elif position // cell != (position - event.duration) // cell:
            return None
    return slots


def skeleton(whole: list[Bar], cell: Fraction) -> list[list[str]] | None:
    """The rhythm of a tune's first ``BARS`` bars (``whole_bars``), slot by slot."""
    if len(whole) < BARS:
        return None
    if any(not bar.events[0].pitches for bar in whole):
        return None  # a bar opening on a rest: a pickup padded out, not a bar's rhythm
    if any(event.duration < SHORTEST for bar in whole for event in bar.events):
        return None  # ornaments written out as notes (a waltz's turn, t t e.): no bar rhythm
    found = [slots_of(bar, cell) for bar in whole]
    return None if any(slots is None for slots in found) else found  # type: ignore[return-value]


def pickup_of(tune_bars: list[Bar], bar_length: Fraction) -> str:
    """The rhythm of a tune's pickup (a short first bar opening on a note); "" for none, or
    for one the model could not write (a length without a code, an ornament's note).
    """
    first = tune_bars[0]
    if len(tune_bars) < 2 or first.duration >= bar_length or not first.events[0].pitches:
        return ""
    if any(event.duration < SHORTEST for event in first.events):
        return ""
    return _pattern([(event.duration, not event.pitches) for event in first.events]) or ""


def repeats_of(whole: list[Bar]) -> list[int | None] | None:
    """Which of a tune's first ``BARS`` bars (``whole_bars``) repeats which, note for note (as
    ``bench/make_forms.py`` finds it); None where a part's end (bar 8 or 16) repeats anything
    but bar 8: a part ends on its own cadence.
    """
    found = [next((j for j in range(i) if whole[j] == bar), None) for i, bar in enumerate(whole)]
    return None if any(found[end] not in {None, 7} for end in (7, 15)) else found


def harmony_of(
    whole: list[Bar], record: dict[str, Any], meter: str
) -> list[list[list[Any]]] | None:
    """The implied chords of a tune's first ``BARS`` bars (``whole_bars``): ``[offset,
    degree]`` pairs a bar."""
    key = Key(PitchClass.parse(_TONICS[record["tonic"]]), record["mode"])
    scale = [pitch.semitone for pitch in key.scale]
    chords = harmony_chords(key)
    facts = meter_of(meter)
    fitted = best_fit(Tune(tuple(whole)), facts, chords, tonic=chords[0], rhythm="strong")
    found = []
    for bar in fitted:
        pairs = [
            [str(offset), scale.index(chord.root.semitone)]
            for offset, chord in bar
            if chord.root.semitone in scale
        ]
        found.append(pairs)
    return found if len(found) == BARS else None


def ending_of(bar: Bar, bar_length: Fraction, tail: Fraction) -> str | None:
    """The pattern of a phrase's last ``tail`` quarter notes (a short bar padded with a rest)."""
    events = [(event.duration, not event.pitches) for event in bar.events]
    if bar.duration < bar_length:
        events.append((bar_length - bar.duration, True))
    start, position, kept = bar_length - tail, Fraction(0), []
    for duration, rest in events:
        if position >= start:
            kept.append((duration, rest))
        elif position + duration > start:
            return None  # a note across the tail's start
        position += duration
    pitched = [duration for duration, rest in kept if not rest]
    if not pitched or (len(pitched) > 1 and pitched[-1] < pitched[-2]):
        return None
    return _pattern(kept)


def thresholds(tunes: list[list[Bar]], cell: Fraction) -> dict[str, Any]:
    """Each rule's strictest threshold that ``KEPT`` of ``tunes`` keep (see the docstring)."""
    found = {}
    for name, values in THRESHOLDS.items():
        strictest = []
        for bars in tunes:  # each tune's strictest value it keeps: the first that passes
            low, high = 0, len(values) - 1
            while low < high:
                middle = (low + high) // 2
                rules = replace(LOOSE, **{name: values[middle]})
                if not refused_bars(rules, bars, cell=cell, free_rhythm=PHRASE_ENDS):
                    high = middle
                else:
                    low = middle + 1
            strictest.append(low)
        strictest.sort()
        found[name] = values[strictest[min(len(strictest) - 1, int(KEPT * len(strictest)))]]
    return found


def _closes(pattern: str, cell: Fraction) -> bool:
    """Whether a tune may stop on it: a last note of a whole cell, or a rest after it."""
    words = pattern.split()
    return words[-1].startswith("r:") or DURATIONS[words[-1]] >= cell


def _kept(counts: Counter[str]) -> list[list[Any]]:
    total = sum(counts.values())
    return [
        [pattern, round(count / total, 4)]
        for pattern, count in counts.most_common()
        if count / total >= MIN_SHARE
    ]


def measure(records: list[dict[str, Any]], style: str) -> dict[str, Any]:
    """One style's cells and cadences."""
    meters, cell = STYLES[style]
    bar_length = meter_of(meters[0]).bar_length
    beats = meter_of(meters[0]).beats
    simple_three = len(beats) == 3 and not meter_of(meters[0]).compound
    tail = bar_length / 2 if len(beats) == 4 else bar_length if simple_three else beats[-1]
    cells: Counter[str] = Counter()
    endings: dict[str, Counter[str]] = {"half": Counter(), "full": Counter(), "final": Counter()}
    tunes = 0
    skeletons, harmonies, pickups, repeats, finals, judged = [], [], [], [], [], []
    for record in records:
        tune = parse_tune(record["text"])
        bars = list(tune.bars)
        if len(bars) < 2:
            continue
        tunes += 1
        whole = whole_bars(bars, bar_length)  # bar 1 is the first whole bar
        if len(whole) == BARS:
            judged.append(whole)
        last = ending_of(bars[-1], bar_length, tail)
        closes = last is not None and _closes(last, cell)
        if (found := skeleton(whole, cell)) is not None:
            skeletons.append(found)
            harmonies.append(harmony_of(whole, record, meters[0]))
            pickups.append(pickup_of(bars, bar_length))
            repeats.append(repeats_of(whole))
            finals.append(last if closes else None)
        for bar in bars:
            if bar.duration == bar_length:
                cells.update(cells_of(bar, cell))
        for kind, numbers in (("half", HALF), ("full", FULL)):
            for number in numbers:
                if number < len(whole) and whole[number - 1] is not bars[-1]:
                    found = ending_of(whole[number - 1], bar_length, tail)
                    if found is not None:
                        endings[kind][found] += 1
        if last is not None and closes:
            endings["final"][last] += 1
    total = sum(cells.values())
    step = max(1, len(skeletons) // MAX_SKELETONS)  # the same tunes in every list
    return {
        "meter": meters[0],
        "tunes": tunes,
        "cell": _CODES[cell],
        "cells": [
            [pattern, round(count / total, 4)]
            for pattern, count in cells.most_common()
            if count / total >= MIN_CELL_SHARE and "r:" not in pattern
        ],
        "cadences": {kind: _kept(counts) for kind, counts in endings.items()},
        "bars": skeletons[::step][:MAX_SKELETONS],
        "harmony": harmonies[::step][:MAX_SKELETONS],
        "pickups": pickups[::step][:MAX_SKELETONS],
        "repeats": repeats[::step][:MAX_SKELETONS],
        "finals": finals[::step][:MAX_SKELETONS],
        "rules": thresholds(judged, cell),
    }


def dance_of(record: dict[str, Any], written: dict[str, str]) -> str | None:
    """The dance a tune is named as: its ``R:`` field or title (``prepare.named_rhythm``), or
    for O'Neill's, the section of the book it stands in."""
    number = record["id"].rpartition("#")[2]
    if (
        record["collection"] == "oneills1850"
        and number.isdigit()
        and int(number) in ONEILLS_MARCHES
    ):
        return "march"
    return prepare.named_rhythm(record, written)


def in_meter(record: dict[str, Any], meter: str) -> dict[str, Any]:
    """The record with its bars split into bars of ``meter`` where they are whole multiples of
    it (a 4/4 march as 2/4 bars; a short first bar keeps its notes before the bar line);
    unchanged where a note crosses a new bar line."""
    if record["meter"] == meter:
        return record
    length = meter_of(meter).bar_length
    tune = parse_tune(record["text"])
    bars: list[Bar] = []
    for number, bar in enumerate(tune.bars):
        pieces: list[list[Any]] = [[]]
        position = length - bar.duration % length if number == 0 else Fraction(0)
        for event in bar.events:
            if position and position % length == 0 and pieces[-1]:
                pieces.append([])
            if position % length + event.duration > length:
                return record  # a note across the new bar line
            pieces[-1].append(event)
            position += event.duration
        bars.extend(Bar(tuple(events)) for events in pieces if events)
    return {**record, "meter": meter, "text": unparse(Tune(tuple(bars)))}


def main() -> None:
    written = prepare.written_rhythms()
    records = [r for r in load() if r["collection"] in {"oneills1850", "ryansMammoth"}]
    seen = [
        record
        for record, family in zip(records, prepare.families(records), strict=True)
        if not prepare.held_out(family)
    ]
    unseen = set(json.loads(folk_adapter_path().with_suffix(".json").read_text())["heldout_ids"])
    songs = [r for r in load() if r["collection"] == "essenFolksong" and r["id"] not in unseen]
    styles = {}
    for style, (meters, _) in STYLES.items():
        if style in SONGS:
            mine = [r for r in songs if r["meter"] in meters]
        elif style in NAMED_ONLY:
            mine = [
                in_meter(r, meters[0])
                for r in seen
                if dance_of(r, written) == style and r["meter"] in NAMED_ONLY[style]
            ]
        else:
            mine = [
                r for r in seen if prepare.rhythm_of(r, written) == style and r["meter"] in meters
            ]
        styles[style] = measure(mine, style)
        print(style, styles[style]["tunes"], len(styles[style]["bars"]), file=sys.stderr)
    data = {
        "source": "oneills1850 and ryansMammoth (music21 corpus), adapter's held-out families left "
        "out; bench/make_rhythms.py",
        "styles": styles,
    }
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
