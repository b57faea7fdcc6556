"""Writes prompts/examples/*.abc: real folk tunes from the corpus for the embedded model's prompt.

For each style preset, tunes of music21's corpus (O'Neill's 1850, Ryan's Mammoth, then
Essen) in the style's meter whose first 16 bars are whole bars of single notes and whose
rhythm is mostly the style's (its cells, long notes and cadences) become examples, three
per style in different keys, written in tunesmith's ABC dialect as two 8-bar parts with
repeat marks, as dance tunes are played. Run again after changing the styles.
Usage: python bench/make_prompt_examples.py
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

from music21 import key

from corpus_cache import load
from tunesmith.io.abc import key_field
from tunesmith.model.notation import parse_tune
from tunesmith.model.score import Tune
from tunesmith.music.rhythm import meter_of, rhythm_for
from tunesmith.requests.presets import style_presets
from tunesmith.writing.spelling import AbcSpelling

OUT = Path(__file__).parent.parent / "prompts" / "examples"
PER_STYLE = 3
BARS = 16
MIN_FIT = 0.85
"""Share of a tune's cells that must be the style's own rhythm cells."""
DANCES = {"jig": 0.6, "slip jig": 0.6, "reel": 0.7, "hornpipe": 0.3, "polka": 0.5}
"""Dance rhythms, and the share of a tune's notes that must be eighths (hornpipe: dotted)."""
SAME_BARS = {"2/2": ("2/2", "4/4", "C|", "C"), "4/4": ("4/4", "C", "2/2", "C|")}


def fit(tune: Tune, style: dict[str, object], meter_text: str) -> float:
    """Share of the tune's cells (beats) whose rhythm is one of the style's cells or longs."""
    meter = meter_of(meter_text)
    rhythm = rhythm_for(
        meter,
        cell=style.get("cell"),  # type: ignore[arg-type]
        cells=style.get("cells", ()),  # type: ignore[arg-type]
        long=style.get("long", ()),  # type: ignore[arg-type]
        cadence=style.get("cadence", ()),  # type: ignore[arg-type]
    )
    patterns = {cell.durations for cell in rhythm.cells}
    patterns |= {(long,) for long in rhythm.long}
    patterns |= {slot.durations for slot in rhythm.cadence if slot is not None}
    good = total = 0
    for bar in tune.bars:
        offset, cell, cells = Fraction(0), [], []
        for event in bar.events:
            cell.append(event.duration)
            offset += event.duration
            if offset % rhythm.cell_length == 0:
                cells.append(tuple(cell))
                cell = []
        total += len(cells) or 1
        good += sum(1 for c in cells if c in patterns)
    return good / total if total else 0.0


def usable(tune: Tune, bar_length: Fraction) -> bool:
    bars = tune.bars[:BARS]
    return (
        len(bars) == BARS
        and all(bar.duration == bar_length for bar in bars)
        and all(len(e.pitches) <= 1 and not e.tie for bar in bars for e in bar.events)
        and sum(1 for bar in bars for e in bar.events if e.is_rest) == 0
    )


def body(tune: Tune, spelling: AbcSpelling) -> str:
    lines = []
    for part in range(2):
        bars = [spelling.write(bar) for bar in tune.bars[part * 8 : part * 8 + 8]]
        lines.append("|:" + "|".join(bars[:4]) + "|")
        lines.append("|".join(bars[4:]) + ":|")
    return "\n".join(lines)


def main() -> None:
    records = load()
    collections = ("oneills1850", "ryansMammoth", "essenFolksong")
    records.sort(key=lambda r: collections.index(r["collection"]))
    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("*.abc"):
        old.unlink()
    for name, style in sorted(style_presets().items()):
        meter = str(style["meter"])
        bar_length = meter_of(meter).bar_length
        chosen: list[str] = []
        keys: set[str] = set()
        for record in records:
            if record["meter"] not in SAME_BARS.get(meter, (meter,)):
                continue
            tune = parse_tune(record["text"])
            if tune.bars and tune.bars[0].duration < bar_length:  # a pickup: start after it
                tune = Tune(tune.bars[1:])
            if not usable(tune, bar_length) or fit(tune, style, meter) < MIN_FIT:
                continue
            notes = [e.duration for bar in tune.bars[:BARS] for e in bar.events]
            typical = Fraction(3, 4) if name == "hornpipe" else Fraction(1, 2)
            if notes.count(typical) < DANCES.get(name, 0) * len(notes):
                continue
            mode = record["mode"] if record["mode"] in {"major", "minor", "dorian"} else "major"
            pitch_key = key.Key(_name(record["tonic"]), mode)
            field = key_field(pitch_key.tonic.name.replace("-", "b"), mode)
            if field in keys or ("#" in field and len(field) > 3):
                continue
            first16 = Tune(tune.bars[:BARS])
            pitches = [p for bar in first16.bars for e in bar.events for p in e.pitches]
            spelling = AbcSpelling.for_pitches(meter_of(meter), pitch_key.sharps, pitches)
            if spelling.explicit:  # accidentals outside the key: a less clear example
                continue
            title = re.sub(r"\s+", " ", record["title"] or "Untitled").strip()
            text = (
                f"T:{title}\nR:{style.get('rhythm', name)}\nM:{meter}\nL:1/8\nK:{field}\n"
                f"{body(first16, spelling)}\n"
            )
            slug = name.replace(" ", "-")
            (OUT / f"{slug}-{len(chosen) + 1}.abc").write_text(text, encoding="utf-8")
            chosen.append(record["id"])
            keys.add(field)
            if len(chosen) == PER_STYLE:
                break
        print(f"{name}: {', '.join(chosen) or 'none found'}")


_NAMES = ["C", "C#", "D", "E-", "E", "F", "F#", "G", "A-", "A", "B-", "B"]


def _name(tonic: int) -> str:
    return _NAMES[tonic % 12]


if __name__ == "__main__":
    main()
