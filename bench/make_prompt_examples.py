"""Writes prompts/examples/: real folk tunes from the corpus sample, in prompt form.

For each meter tunesmith's styles use, the first tunes of the corpus sample
whose opening 8 bars are all full bars (no pickup) become examples: a header like the
one the prompt ends with (meter, tempo, style, notes used, range, final note) and the
8 bars in tunesmith notation. Run again after changing the sample.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

from tunesmith.corpus import load_sample
from tunesmith.notation import format, parse_tune
from tunesmith.score import Tune

ROOT = Path(__file__).parent.parent
METERS = {"6/8": 2, "4/4": 2, "2/2": 1, "3/4": 2, "2/4": 2, "9/8": 1}
BARS = 8
TEMPO = {"jig": 112, "reel": 110, "hornpipe": 80, "waltz": 120, "polka": 120, "march": 108}


def style_of(title: str) -> str:
    for style in ("slip jig", "jig", "reel", "hornpipe", "waltz", "polka", "march", "strathspey"):
        if style in title.lower():
            return f"folk {style}"
    return "folk song"


def header(title: str, meter: str, tune: Tune) -> str:
    notes = [p for e in tune.notes for p in e.pitches]
    last = tune.notes[-1].pitches[-1]
    classes = sorted(
        {str(p.pitch_class): p.pitch_class.semitone for p in notes}.items(),
        key=lambda item: (item[1] - last.pitch_class.semitone) % 12,
    )
    style = style_of(title)
    tempo = TEMPO.get(style.split()[-1], 100)
    low, high = min(notes, key=lambda p: p.midi), max(notes, key=lambda p: p.midi)
    return (
        f"T: {title}\nM: {meter}  Q: {tempo}  Style: {style}  Instrument: Violin\n"
        f"Notes: {' '.join(name for name, _ in classes)}  Range: {low}-{high}  "
        f"Ends on: {last.pitch_class}"
    )


def main() -> None:
    sample = load_sample()
    folder = ROOT / "prompts" / "examples"
    for old in folder.glob("*.txt"):
        old.unlink()
    chosen = dict.fromkeys(METERS, 0)
    for record in sample:
        meter = record.get("meter")
        if meter not in METERS or chosen[meter] >= METERS[meter] or "text" not in record:
            continue
        numerator, denominator = map(int, meter.split("/"))
        bar = Fraction(4 * numerator, denominator)
        tune = parse_tune(record["text"])
        opening = Tune(tune.bars[:BARS])
        if len(opening.bars) < BARS or any(b.duration != bar for b in opening.bars):
            continue
        if any(e.tie for e in opening.bars[-1].events[-1:]):
            continue
        chosen[meter] += 1
        title = record["title"] or record["id"]
        name = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
        path = folder / f"{meter.replace('/', '-')}-{name}.txt"
        path.write_text(header(title, meter, opening) + "\n" + format(opening) + "\n", "utf-8")
        print("wrote", path.name)


if __name__ == "__main__":
    main()
