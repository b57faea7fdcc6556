"""Writes src/tunesmith/data/corpus_sample.json: 60 corpus tunes in tunesmith notation.

The default test suite reads this file instead of parsing ABC (music21 parses a few tunes a
second). Run again after changing the converter: `python bench/make_corpus_sample.py`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tunesmith.checks.corpus import COLLECTIONS, tune_from_music21
from tunesmith.errors import NotationError
from tunesmith.model.notation import unparse

PER_COLLECTION = 20
OUT = Path(__file__).parent.parent / "src" / "tunesmith" / "data" / "corpus_sample.json"


def describe(tune_id: str, score: Any) -> dict[str, Any]:
    """What the sample keeps of a tune: where it is from, its meter, key and notation."""
    signature = next(iter(score.recurse().getElementsByClass("TimeSignature")), None)
    key = next(iter(score.recurse().getElementsByClass("KeySignature")), None)
    record: dict[str, Any] = {
        "id": tune_id,
        "title": score.metadata.title if score.metadata else None,
        "meter": signature.ratioString if signature else None,
        # a Key keeps the ABC mode ("g minor"); asKey() would call that "B- major"
        "key": str(key if "Key" in key.classes else key.asKey()) if key is not None else None,
    }
    try:
        record["text"] = unparse(tune_from_music21(score))
    except NotationError as error:
        record["gap"] = str(error)
    return record


def main() -> None:
    from music21 import corpus

    records = []
    for collection in COLLECTIONS:
        paths = sorted(p for p in corpus.getComposer(collection) if p.suffix == ".abc")
        step = max(1, len(paths) // PER_COLLECTION)
        for path in paths[::step][:PER_COLLECTION]:
            text = path.read_text(encoding="latin-1")
            number = int(re.search(r"^X:\s*(\d+)", text, re.MULTILINE)[1])  # type: ignore[index]
            score = corpus.parse(path, number=number)
            records.append(describe(f"{collection}/{path.name}#{number}", score))
            print(records[-1]["id"], records[-1].get("gap", "ok"))
    OUT.write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(records)} tunes to {OUT}")


if __name__ == "__main__":
    main()
