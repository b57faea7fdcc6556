"""The adapter's training data: folk tunes from music21's corpus, as the decoding loop writes them.

Every tune goes through tunesmith's own reader (``bench/corpus_cache.py``: music21's parse,
``tune_from_music21``) and the model-facing ABC spelling (``AbcSpelling``), under the same
tune-book header the prompt uses (``X: T: R: M: L:1/8 K:``) and the same layout (``|:`` a
part, four bars a line, ``:|`` every eight full bars), so training and decoding see one
format. Tunes are held out by tune family, not by row: O'Neill's and Ryan's share tunes and
variants, so a family (same normalised title, or same opening contour in the same meter) is
held out whole.

Run from the repository root, after ``make setup``::

    .venv/bin/python train/prepare.py

Writes ``.cache/train/data.npz`` (token ids of the original model, packed into sequences of
``SEQUENCE`` tokens) and ``.cache/train/manifest.json`` (counts, the corpus hash, the held-out
tune ids). Parsing the corpus takes about six minutes once (then cached).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import corpus_cache  # noqa: E402 - bench/ is not a package
from tunesmith.errors import NotationError  # noqa: E402
from tunesmith.io.abc import key_field  # noqa: E402
from tunesmith.model.notation import parse_tune  # noqa: E402
from tunesmith.music.rhythm import meter_of  # noqa: E402
from tunesmith.writing.prompts import Example  # noqa: E402
from tunesmith.writing.spelling import AbcSpelling  # noqa: E402

# --- configuration -------------------------------------------------------------------------
COLLECTIONS = ("oneills1850", "ryansMammoth", "essenFolksong")
ESSEN_SHARE = 0.25
"""Of the Essen songs (three quarters of the corpus), the share trained on: the embedded
model's styles are mostly dances, and the CPU's time is short."""
HELD_OUT_PERCENT = 4
SEQUENCE = 512
SEED = 1
OUT = ROOT / ".cache" / "train"
# -------------------------------------------------------------------------------------------

_TITLE_RHYTHMS = (
    ("slip jig", "slip jig"),
    ("hornpipe", "hornpipe"),
    ("reel", "reel"),
    ("jig", "jig"),
    ("polka", "polka"),
    ("march", "march"),
    ("waltz", "waltz"),
    ("slide", "slide"),
    ("air", "air"),
    ("lament", "air"),
)
_METER_RHYTHMS = {
    "6/8": "jig",
    "9/8": "slip jig",
    "12/8": "slide",
    "2/4": "march",
    "3/4": "waltz",
    "4/4": "reel",
    "2/2": "reel",
    "3/2": "hornpipe",
}
_TONICS = (
    "C",
    "C#",
    "Db",
    "D",
    "D#",
    "Eb",
    "E",
    "F",
    "F#",
    "Gb",
    "G",
    "G#",
    "Ab",
    "A",
    "A#",
    "Bb",
    "B",
)


def written_rhythms() -> dict[str, str]:
    """The ``R:`` field each corpus tune's ABC file gives it, by tune id ("double jig": "jig")."""
    from music21 import corpus

    found = {}
    for collection in COLLECTIONS:
        for path in corpus.getComposer(collection):
            number = None
            for line in path.read_text("latin-1").splitlines():
                if line.startswith("X:"):
                    number = line[2:].strip()
                elif line.startswith("R:") and number is not None:
                    rhythm = " ".join(line[2:].lower().replace("slipjig", "slip jig").split())
                    found[f"{collection}/{path.name}#{number}"] = rhythm.removeprefix("double ")
    return found


def rhythm_of(record: dict[str, Any], written: dict[str, str]) -> str:
    """The ``R:`` field: as the tune's file gives it, else the title's dance, else the meter's."""
    if record["collection"] == "essenFolksong":
        return "song"  # its R: fields are genres ("Liebeslied"), not rhythms
    return named_rhythm(record, written) or _METER_RHYTHMS.get(record["meter"], "tune")


def named_rhythm(record: dict[str, Any], written: dict[str, str]) -> str | None:
    """The dance a tune is named as: its file's ``R:`` field, else its title's dance word."""
    if written.get(record["id"]):
        return written[record["id"]]
    title = (record["title"] or "").lower()
    for word, rhythm in _TITLE_RHYTHMS:
        if re.search(rf"\b{word}\b", title):
            return rhythm
    return None


def key_of(tonic: int, mode: str) -> tuple[str, int]:
    """ABC's ``K:`` value and the key signature's sharps, the tonic spelled as simply as it can."""
    from music21 import key, pitch

    candidates = [name for name in _TONICS if pitch.Pitch(name).pitchClass == tonic]
    keys = [(abs(key.Key(name.replace("b", "-"), mode).sharps), name) for name in candidates]
    _, name = min(keys)
    return key_field(name, mode), key.Key(name.replace("b", "-"), mode).sharps


def body_of(record: dict[str, Any], sharps: int) -> str:
    """The tune's bars in the model-facing ABC, laid out as the decoding loop lays them out.

    A short bar (a pickup, the ending that balances it) is written where it stands; lines and
    parts end where four and eight bars' time have been heard, a pickup not counted.
    """
    tune = parse_tune(record["text"])
    meter = meter_of(record["meter"])
    pitches = {pitch for event in tune.events for pitch in event.pitches}
    spelling = AbcSpelling.for_pitches(meter, sharps, sorted(pitches, key=lambda p: p.midi))
    out, reached, filled = [], 0, Fraction(0)
    for bar in tune.bars:
        if not out or out[-1].endswith(":|\n"):
            out.append(spelling.part_start())
        filled += bar.duration
        count = round(filled / meter.bar_length)  # bars heard so far, a pickup not counted
        mark = count > reached and count % 4 == 0
        reached = max(reached, count)
        out.append(spelling.write(bar))
        out.append(spelling.separator(line_end=mark, part_end=mark and count % 8 == 0))
    text = "".join(out)
    return text if text.endswith("\n") else text + "\n"


def example_of(record: dict[str, Any], written: dict[str, str]) -> Example:
    """A corpus tune (a ``bench/corpus_cache.py`` record) as the tune book writes it.

    Raises NotationError, ValueError or KeyError for a tune the ABC spelling cannot write.
    """
    key, sharps = key_of(record["tonic"], record["mode"])
    body = body_of(record, sharps)
    title = " ".join((record["title"] or "Untitled").split())
    return Example(record["id"], title, rhythm_of(record, written), record["meter"], key, body)


def _title_key(title: str | None) -> str:
    words = re.sub(r"[^a-z ]", " ", (title or "").lower()).split()
    kept = [
        w
        for w in words
        if w
        not in {
            "the",
            "a",
            "an",
            "of",
            "no",
            "reel",
            "jig",
            "hornpipe",
            "polka",
            "march",
            "air",
            "set",
            "dance",
            "slip",
        }
    ]
    return " ".join(kept)


def _opening_key(record: dict[str, Any]) -> str:
    """The first eight notes' pitch classes against the tonic, and the meter."""
    tune = parse_tune(record["text"])
    notes = [event.pitches[0].midi for event in tune.notes[:8]]
    return record["meter"] + ":" + ",".join(str((n - record["tonic"]) % 12) for n in notes)


def families(records: list[dict[str, Any]]) -> list[str]:
    """A family name per record: tunes that share a title or an opening are one family."""
    parent = list(range(len(records)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    first: dict[str, int] = {}
    for index, record in enumerate(records):
        for key in (f"title:{_title_key(record['title'])}", f"opening:{_opening_key(record)}"):
            if key in {"title:", "opening:"}:
                continue
            if key in first:
                parent[root(index)] = root(first[key])
            else:
                first[key] = index
    names: dict[int, str] = {}
    for index, record in enumerate(records):
        names.setdefault(root(index), record["id"])
    return [names[root(index)] for index in range(len(records))]


def held_out(family: str) -> bool:
    """Whether a family is held out (a hash of its name: the same split on every machine)."""
    return int(hashlib.sha256(family.encode()).hexdigest(), 16) % 100 < HELD_OUT_PERCENT


def pack(tunes: list[Example], tokenize: Any, bos: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Tunes numbered from X:1 in sequences of at most SEQUENCE tokens, BOS first, padded."""
    rows: list[list[int]] = [[bos]]
    number, dropped = 1, 0
    for tune in tunes:
        tokens = tokenize(tune.text(number) + "\n")
        if len(rows[-1]) + len(tokens) > SEQUENCE:
            number = 1
            tokens = tokenize(tune.text(number) + "\n")
            if 1 + len(tokens) > SEQUENCE:
                dropped += 1
                continue
            rows.append([bos])
        rows[-1].extend(tokens)
        number += 1
    lengths = np.array([len(row) for row in rows], np.int32)
    data = np.zeros((len(rows), SEQUENCE), np.int32)
    for index, row in enumerate(rows):
        data[index, : len(row)] = row
    return data, lengths, dropped


def main() -> None:
    """Write the training and held-out sequences and their manifest."""
    from tunesmith.backends.local import LocalBackend

    records = [r for r in corpus_cache.load() if r["collection"] in COLLECTIONS]
    rng = random.Random(SEED)
    records = [
        r for r in records if r["collection"] != "essenFolksong" or rng.random() < ESSEN_SHARE
    ]
    names = families(records)
    written = written_rhythms()
    skipped: Counter[str] = Counter()
    split: dict[bool, list[Example]] = {False: [], True: []}
    used = hashlib.sha256()
    heldout_ids = []
    for record, family in zip(records, names, strict=True):
        try:
            example = example_of(record, written)
        except (NotationError, ValueError, KeyError) as error:
            skipped[type(error).__name__ + ": " + str(error).split(":")[0]] += 1
            continue
        held = held_out(family)
        split[held].append(example)
        if held:
            heldout_ids.append(record["id"])
        used.update(f"{record['id']}\n{record['text']}\n".encode())
    llm = LocalBackend(adapter=None).llama

    def tokenize(text: str) -> list[int]:
        return list(llm.tokenize(text.encode(), add_bos=False, special=False))

    bos = int(llm.token_bos())
    OUT.mkdir(parents=True, exist_ok=True)
    arrays, counts = {}, {}
    for held, name in ((False, "train"), (True, "heldout")):
        tunes = split[held]
        random.Random(SEED).shuffle(tunes)
        data, lengths, dropped = pack(tunes, tokenize, bos)
        arrays[name], arrays[f"{name}_lengths"] = data, lengths
        counts[name] = {
            "tunes": len(tunes) - dropped,
            "dropped_too_long": dropped,
            "sequences": len(lengths),
            "tokens": int(lengths.sum()),
            "rhythms": dict(Counter(t.rhythm for t in tunes).most_common()),
        }
    np.savez_compressed(OUT / "data.npz", **arrays)
    manifest = {
        "collections": COLLECTIONS,
        "essen_share": ESSEN_SHARE,
        "held_out_percent": HELD_OUT_PERCENT,
        "sequence": SEQUENCE,
        "seed": SEED,
        "corpus_sha256": used.hexdigest(),
        "families": len(set(names)),
        "skipped": dict(skipped.most_common()),
        "counts": counts,
        "heldout_ids": sorted(heldout_ids),
        "example": split[False][0].text(1),
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(json.dumps({k: v for k, v in manifest.items() if k != "heldout_ids"}, indent=1))


if __name__ == "__main__":
    main()
