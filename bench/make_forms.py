"""Writes src/tunesmith/data/forms.json: which bars repeat which, in real dance tunes.

For every tune of O'Neill's and Ryan's (the corpus cache, ``bench/corpus_cache.py``) with at
least 16 whole bars, but the families held out from the folk adapter's training (so the
held-out evaluation, ``bench/heldout.py``, stays unseen), the first 16 whole bars (two
8-bar parts, counted as a player counts them: a pickup left out, a bar split at a part's end
joined) give a pattern: for each
bar, the earlier bar it repeats note for note, or null. A tune's plan samples one pattern of
its meter
(:func:`tunesmith.music.plan.plan_for`), so its repetition is one a real tune has. Patterns
whose part ends (bars 8 and 16) copy anything but bar 8 are left out: a part ends on a
cadence. 2/2 and 4/4 share their patterns (reels and hornpipes are written in both): the
file lists them once, under "same".

Run again after changing the corpus reader: `python bench/make_forms.py`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from corpus_cache import load
from make_rhythms import whole_bars
from tunesmith.model.notation import parse_tune
from tunesmith.music.rhythm import meter_of

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "train"))
import prepare

BARS = 16
ENDS = (7, 15)
POOLED = {"2/2": "2/2", "4/4": "2/2"}
MIN_PATTERNS = 30
OUT = Path(__file__).parent.parent / "src" / "tunesmith" / "data" / "forms.json"


def pattern(text: str, meter: str) -> list[int | None] | None:
    """The repeat pattern of a tune's first 16 bars as a player counts them
    (``make_rhythms.whole_bars``); None for a shorter tune."""
    bars = whole_bars(list(parse_tune(text).bars), meter_of(meter).bar_length)
    if len(bars) < BARS:
        return None
    return [next((j for j in range(i) if bars[j] == bar), None) for i, bar in enumerate(bars)]


def main() -> None:
    found: dict[str, list[list[int | None]]] = {}
    records = [r for r in load() if r["collection"] in {"oneills1850", "ryansMammoth"}]
    for record, family in zip(records, prepare.families(records), strict=True):
        if prepare.held_out(family):
            continue
        repeats = pattern(record["text"], record["meter"])
        if repeats is None or any(repeats[end] not in {None, ENDS[0]} for end in ENDS):
            continue
        found.setdefault(POOLED.get(record["meter"], record["meter"]), []).append(repeats)
    meters = {meter: patterns for meter, patterns in found.items() if len(patterns) >= MIN_PATTERNS}
    same = {
        meter: pooled for meter, pooled in POOLED.items() if meter != pooled and pooled in meters
    }
    data = {"bars": BARS, "source": "oneills1850, ryansMammoth", "meters": meters, "same": same}
    OUT.write_text(json.dumps(data) + "\n")
    print({meter: len(patterns) for meter, patterns in meters.items()}, "the same:", same)


if __name__ == "__main__":
    main()
