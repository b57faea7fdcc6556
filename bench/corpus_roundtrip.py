"""The whole corpus: how many tunes tunesmith notation expresses, and round-trips exactly.

For every tune of essenFolksong, oneills1850 and ryansMammoth: convert with music21
(`tune_from_music21`), then check `parse_tune(unparse(t)) == t` and that the MIDI file read back
with mido has exactly the tune's notes. Inexpressible tunes are counted by gap kind.
Takes tens of minutes (music21 parses a few ABC tunes a second); writes docs/corpus.md.
Usage: python bench/corpus_roundtrip.py [LIMIT_PER_COLLECTION]
"""

from __future__ import annotations

import datetime
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from tunesmith.checks.corpus import COLLECTIONS, corpus_tunes, tune_from_music21
from tunesmith.errors import NotationError
from tunesmith.io.midi import midi_bytes, read_midi_notes, sounding_notes
from tunesmith.model.notation import parse_tune, unparse
from tunesmith.model.score import Header, Score, Tune


def midi_matches(tune: Tune) -> bool:
    """Whether the MIDI file holds exactly the tune's notes (ties merged, rests skipped)."""
    return read_midi_notes(midi_bytes(Score.of_tune(tune, Header("4/4")))) == sounding_notes(tune)


Check = tuple[str, Callable[[Tune], bool]]
"""A named check of an expressible tune, counted under its name when it holds."""


def roundtrip_counts(
    tunes: Iterable[tuple[str, Any]], extra_checks: Sequence[Check] = ()
) -> Counter[str]:
    """Counts over ``(id, music21 score)`` pairs such as `corpus_tunes` yields.

    Keys: "tunes", "expressible", "notation round trip" (`parse_tune(unparse(t)) == t`), the name
    of each extra check that holds, "gap: KIND" per NotationError kind and "music21 error:
    TYPE" where music21 itself fails. Tunes failing a check are named on stderr.
    """
    counts: Counter[str] = Counter()
    for tune_id, score in tunes:
        counts["tunes"] += 1
        try:
            tune = tune_from_music21(score)
        except NotationError as error:
            counts["gap: " + str(error).split(":")[0]] += 1
            continue
        except Exception as error:  # music21 itself fails on some tunes
            counts[f"music21 error: {type(error).__name__}"] += 1
            continue
        counts["expressible"] += 1
        checks: list[Check] = [("notation round trip", lambda t: parse_tune(unparse(t)) == t)]
        for name, check in [*checks, *extra_checks]:
            if check(tune):
                counts[name] += 1
            else:
                print(f"{tune_id}: {name} fails", file=sys.stderr)
    return counts


def main(limit: int | None = None) -> str:
    rows = []
    totals: Counter[str] = Counter()
    started = time.perf_counter()
    extra = [("MIDI round trip", midi_matches)]
    for collection in COLLECTIONS:
        counts = roundtrip_counts(corpus_tunes([collection], limit=limit), extra_checks=extra)
        rows.append((collection, counts))
        totals.update(counts)
    rows.append(("all", totals))
    kinds = ["tunes", "expressible", "notation round trip", *(name for name, _ in extra)]
    kinds += sorted(k for k in totals if k not in kinds)
    lines = ["| collection | " + " | ".join(kinds) + " |", "| --- |" + " ---: |" * len(kinds)]
    lines += [f"| {name} | " + " | ".join(str(c[k]) for k in kinds) + " |" for name, c in rows]
    lines.append("")
    lines.append(f"{time.perf_counter() - started:.0f} s in all.")
    return "\n".join(lines)


if __name__ == "__main__":
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else None
    table = main(limit)
    print(table)
    if limit is None:
        out = Path(__file__).parent.parent / "docs" / "corpus.md"
        out.write_text(
            "# The folk corpus in tunesmith notation\n\n"
            f"Measured on {datetime.date.today()} with `python bench/corpus_roundtrip.py` "
            "over every ABC tune of music21's essenFolksong, oneills1850 and ryansMammoth.\n\n"
            + (__doc__ or "").split("\n\n")[1].strip()
            + "\n\n"
            + table
            + "\n",
            encoding="utf-8",
        )
