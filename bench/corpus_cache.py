"""The folk corpus as tunesmith tunes, parsed once and cached for the benchmarks and the critic.

music21 parses the whole corpus (essenFolksong, oneills1850, ryansMammoth: 11,582 ABC
tunes) in about six minutes; the cache (`.cache/corpus.jsonl`, one tune a line: id,
collection, title, meter, tonic 0-11, mode, text in tunesmith notation) makes every later
read take a second. `python bench/corpus_cache.py` writes it; `load()` reads it (and
writes it first if it is missing).
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from tunesmith import TunesmithError, read_score
from tunesmith.checks.corpus import COLLECTIONS, corpus_tunes, tune_from_music21
from tunesmith.errors import NotationError
from tunesmith.model.notation import unparse
from tunesmith.model.score import Tune

CACHE = Path(__file__).parent.parent / ".cache" / "corpus.jsonl"
UNSEEN = ("airdsAirs", "miscFolk")
"""Collections nothing in tunesmith was made from: Aird's Selection (Scottish airs and dances,
1782-1803) and the American fife and Northumbrian minstrelsy books. The adapter, the critic,
the forms and the styles' rhythms come from O'Neill's, Ryan's and Essen; these judge them."""
UNSEEN_CACHE = CACHE.with_name("unseen.jsonl")
NOTTINGHAM = CACHE.parent / "nottingham-dataset" / "ABC_cleaned"
"""The Nottingham Music Database's ABC files (https://github.com/jukedeck/nottingham-dataset,
GPL-3.0, not in the repository: copy its ABC_cleaned folder here). Nothing in tunesmith was
made from it; its files are by dance (jigs, reels, hornpipes, waltzes, slip jigs), so it
judges each style against tunes of its own dance."""
NOTTINGHAM_CACHE = CACHE.with_name("nottingham.jsonl")
NOTTINGHAM_RHYTHMS = {
    "jigs": "jig",
    "reels": "reel",
    "hpps": "hornpipe",
    "waltzes": "waltz",
    "slip": "slip jig",
}


def record(tune_id: str, score: Any) -> dict[str, Any] | None:
    signature = next(iter(score.recurse().getElementsByClass("TimeSignature")), None)
    key = next(iter(score.recurse().getElementsByClass("KeySignature")), None)
    if signature is None or key is None:
        return None
    music21_key = key if "Key" in key.classes else key.asKey()
    try:
        text = unparse(tune_from_music21(score))
    except NotationError:
        return None
    return {
        "id": tune_id,
        "collection": tune_id.split("/", 1)[0],
        "title": score.metadata.title if score.metadata else None,
        "meter": signature.ratioString,
        "tonic": music21_key.tonic.pitchClass,
        "mode": music21_key.mode,
        "text": text,
    }


def build(collections: tuple[str, ...] = COLLECTIONS, cache: Path = CACHE) -> list[dict[str, Any]]:
    records = []
    for tune_id, score in corpus_tunes(collections):
        found = record(tune_id, score)
        if found is not None:
            records.append(found)
    cache.parent.mkdir(exist_ok=True)
    with cache.open("w", encoding="utf-8") as out:
        for found in records:
            out.write(json.dumps(found) + "\n")
    return records


def load() -> list[dict[str, Any]]:
    if not CACHE.is_file():
        print(f"parsing the corpus into {CACHE} (a few minutes, once)", file=sys.stderr)
        return build()
    with CACHE.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def load_unseen() -> list[dict[str, Any]]:
    """The collections nothing was made from (``UNSEEN``), parsed once."""
    if not UNSEEN_CACHE.is_file():
        print(f"parsing {UNSEEN} into {UNSEEN_CACHE} (a few minutes, once)", file=sys.stderr)
        return build(UNSEEN, UNSEEN_CACHE)
    with UNSEEN_CACHE.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def load_nottingham() -> list[dict[str, Any]]:
    """The Nottingham tunes (one key, one meter) as records with their ``rhythm``; [] without
    the dataset (``NOTTINGHAM``)."""
    if NOTTINGHAM_CACHE.is_file():
        with NOTTINGHAM_CACHE.open(encoding="utf-8") as lines:
            return [json.loads(line) for line in lines]
    if not NOTTINGHAM.is_dir():
        return []
    print(f"reading {NOTTINGHAM} into {NOTTINGHAM_CACHE} (a few minutes, once)", file=sys.stderr)
    records = []
    with tempfile.TemporaryDirectory() as folder:
        for path in sorted(NOTTINGHAM.glob("*.abc")):
            stem = re.sub(r"[a-z]-[a-z]$", "", path.stem)
            for chunk in re.split(r"(?m)^(?=X:)", path.read_bytes().decode("latin-1")):
                number = re.match(r"X:\s*(\d+)", chunk)
                if not number or len(re.findall(r"(?m)^[KM]:", chunk)) != 2:
                    continue  # one key and one meter
                target = Path(folder) / "tune.abc"
                target.write_text(chunk, "utf-8")
                try:
                    score = read_score(target)
                except TunesmithError:
                    continue
                key, meter = score.header.key, score.header.meter
                if key is None or meter is None:
                    continue
                records.append(
                    {
                        "id": f"nottingham/{path.name}#{number[1]}",
                        "collection": "nottingham",
                        "title": score.header.title,
                        "meter": meter,
                        "tonic": key.tonic.semitone,
                        "mode": key.mode,
                        "rhythm": NOTTINGHAM_RHYTHMS.get(stem),
                        "text": unparse(Tune(score.parts[0].bars)),
                    }
                )
    with NOTTINGHAM_CACHE.open("w", encoding="utf-8") as out:
        for found in records:
            out.write(json.dumps(found) + "\n")
    return records


if __name__ == "__main__":
    print(f"{len(build())} tunes cached in {CACHE}")
    print(f"{len(build(UNSEEN, UNSEEN_CACHE))} tunes cached in {UNSEEN_CACHE}")
