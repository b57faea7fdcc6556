"""Honest evaluation of the folk adapter: tunes nothing was tuned on, features nothing was tuned on.

- **Held-out loss**: nats a token of corpus tunes from families the adapter never saw
  (``data/folk-lora.json``), written as the tune book writes them, on the full model in
  llama.cpp (the shipped GGUF), with and without the adapter.
- **Two-sample test**: tunesmith's tunes (eight styles, ``SEEDS`` seeds, with and without the
  adapter) against unseen tunes of the same meter (the held-out families, and the collections
  nothing in tunesmith was made from: Aird's Selection, the American fife and Northumbrian
  minstrelsy books, ``corpus_cache.UNSEEN``), on features that neither the
  rules nor the critic use: the last note's length, sixteenths, distinct bars, notes on a
  beat, leaps of a fourth or fifth, pitch-class entropy, mean interval. A cross-validated
  logistic regression's AUC (0.5: it cannot tell them apart).
- **Copying**: the share of a tune's two-bar phrases (pitches and rhythm, as written) that
  stand in some other corpus tune, against the same share for held-out corpus tunes.

Each dance style is judged against unseen tunes named as its dance, where there are
``MIN_DANCE``: by the ``R:`` field of the held-out O'Neill's and Ryan's tunes, else by a
dance word in the title (``prepare.named_rhythm``), in any of the unseen collections and, where
it is in ``.cache`` (``corpus_cache.NOTTINGHAM``), the Nottingham Music Database, whose tunes
join the meters' references. Nottingham's files are not dances but bins by meter: its "reels"
files hold every tune in 2/2, 4/4 or 2/4 (35 of 461 titles name a reel; others hornpipes,
polkas, marches, rants and country dances, written in quarter notes), so judging the reel
preset (Irish or Scottish reels in running eighths) against them measured the meter, not the
dance. ``--by-file`` judges by Nottingham's files as before.

Usage: python bench/heldout.py [SEEDS] [adapter] [noloss]  (SEEDS: 3 for seeds 1-3, or 4-8;
default 3; ``adapter``: only the tunes composed with the adapter; ``noloss``: no held-out
loss), or python bench/heldout.py --rows FILE... to judge the tunes saved runs (their
``.cache/heldout.json``) composed. Writes .cache/heldout.json and prints
markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import itertools
import json
import math
import statistics
import sys
import time
from collections import Counter
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from corpus_cache import load, load_nottingham, load_unseen
from quality import _logistic_auc
from tunesmith import compose
from tunesmith.backends.local import LocalBackend, folk_adapter_path
from tunesmith.model.notation import parse_tune
from tunesmith.model.score import Tune
from tunesmith.music.rhythm import meter_of

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "train"))
import prepare  # noqa: E402

REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("jig in D", {"key": "D", "style": "jig"}),
    ("reel in G", {"key": "G", "style": "reel"}),
    ("hornpipe in A", {"key": "A", "style": "hornpipe"}),
    ("polka in G", {"key": "G", "style": "polka"}),
    ("slip jig in E dorian", {"key": "E", "mode": "dorian", "style": "slip jig"}),
    ("waltz in D", {"key": "D", "style": "waltz"}),
    ("march in A dorian", {"key": "A", "mode": "dorian", "style": "march"}),
    ("air in E minor", {"key": "E", "mode": "minor", "style": "air"}),
]
BARS = 16
SAME_BARS = {"2/2": {"2/2", "4/4"}, "4/4": {"2/2", "4/4"}}
FEATURES = (
    "last_note",
    "sixteenths",
    "distinct_bars",
    "on_beat",
    "fourth_fifth",
    "pitch_class_entropy",
    "mean_interval",
)
LOSS_TUNES = 40
MIN_DANCE = 20
BY_FILE = "--by-file" in sys.argv
"""Nottingham's tunes judged as the dance their file is named for (the earlier reference)."""
ARGS = [arg for arg in sys.argv[1:] if arg != "--by-file"]
OUT = ROOT / ".cache" / "heldout.json"


def features(tune: Tune, meter: str, whole: Tune | None = None) -> dict[str, float]:
    """Features neither the rules nor the critic use (2/2 counted in quarters, as 4/4 is, so
    a reel's notes on a beat do not depend on which of the two it is written in).

    ``tune`` is the first 16 whole bars; the last note is ``whole``'s (the tune's own end,
    on both sides: a reference's bar 16 is mid-tune where it runs longer)."""
    facts = meter_of("4/4" if meter == "2/2" else meter)
    starts = set(facts.beat_starts())
    notes, onsets = [], []
    for bar in tune.bars:
        position = Fraction(0)
        for event in bar.events:
            if event.pitches:
                notes.append(event)
                onsets.append(position)
            position += event.duration
    pitches = [event.pitches[-1].midi for event in notes]
    intervals = [abs(b - a) for a, b in itertools.pairwise(pitches)] or [0]
    classes = Counter(pitch % 12 for pitch in pitches)
    total = sum(classes.values())
    keys = [tuple((e.pitches, e.duration) for e in bar.events) for bar in tune.bars]
    ending = [e for bar in (whole or tune).bars for e in bar.events if e.pitches][-1]
    return {
        "last_note": float(ending.duration / facts.bar_length),
        "sixteenths": sum(e.duration <= Fraction(1, 4) for e in notes) / len(notes),
        "distinct_bars": len(set(keys)) / len(keys),
        "on_beat": sum(onset in starts for onset in onsets) / len(onsets),
        "fourth_fifth": sum(5 <= i <= 7 for i in intervals) / len(intervals),
        "pitch_class_entropy": -sum(c / total * math.log2(c / total) for c in classes.values()),
        "mean_interval": statistics.fmean(intervals),
    }


def first_bars(tune: Tune, meter: str) -> Tune | None:
    """The first 16 whole bars (a pickup and short bars left out); None for a shorter tune."""
    whole = [bar for bar in tune.bars if bar.duration == meter_of(meter).bar_length]
    return Tune(tuple(whole[:BARS])) if len(whole) >= BARS else None


def heldout_records() -> list[dict[str, Any]]:
    """Corpus tunes of the families the adapter never saw."""
    ids = set(json.loads(folk_adapter_path().with_suffix(".json").read_text())["heldout_ids"])
    return [record for record in load() if record["id"] in ids]


def heldout_loss(records: list[dict[str, Any]]) -> dict[str, float]:
    """Nats a token on held-out tunes, full model in llama.cpp, base and adapted."""
    written = prepare.written_rhythms()
    texts = []
    for record in records[:: max(1, len(records) // LOSS_TUNES)][:LOSS_TUNES]:
        try:
            texts.append(prepare.example_of(record, written).text(1))
        except (ValueError, KeyError, prepare.NotationError):
            continue
    result = {}
    for name, adapter in (("base", None), ("adapter", folk_adapter_path())):
        context = LocalBackend(adapter=adapter, lanes=1).decoder(narrow=False).context
        losses = [context.loss(text) for text in texts]
        result[name] = sum(t for t, _ in losses) / sum(c for _, c in losses)
    result["tunes"] = len(texts)
    return result


def phrases(tune: Tune, tonic: int) -> set[tuple[Any, ...]]:
    """A tune's two-bar phrases: pitches (against the tonic, so in any key) and durations."""
    keys = [
        tuple((tuple(p.midi - tonic for p in e.pitches), e.duration) for e in bar.events)
        for bar in tune.bars
    ]
    return {(a, b) for a, b in itertools.pairwise(keys)}


def copied_share(
    tune: Tune, tonic: int, index: dict[tuple[Any, ...], set[str]], own: str | None
) -> float:
    """The share of ``tune``'s two-bar phrases found in a corpus tune other than ``own``."""
    found = phrases(tune, tonic)
    copied = [p for p in found if index.get(p, set()) - {own}]
    return len(copied) / max(len(found), 1)


def compose_rows(seeds: range, adapters: tuple[Path | None, ...]) -> list[dict[str, Any]]:
    """Every request and seed, with and without the adapter."""
    rows = []
    for adapter in adapters:
        backend = LocalBackend(adapter=adapter)
        for (name, options), seed in itertools.product(REQUESTS, seeds):
            started = time.perf_counter()
            composition = compose(bars=BARS, seed=seed, backend=backend, **options)
            rows.append(
                {
                    "request": name,
                    "adapter": adapter is not None,
                    "seed": seed,
                    "meter": composition.request.meter,
                    "tonic": composition.request.constraints.tonic.semitone,
                    "seconds": time.perf_counter() - started,
                    "text": composition.text,
                }
            )
            print(f"{name} seed {seed} adapter {adapter is not None}", file=sys.stderr)
    return rows


def _auc(ours: list[dict[str, float]], theirs: list[dict[str, float]]) -> float | None:
    if len(ours) < 3 or len(theirs) < 10:
        return None
    x = np.array([[row[f] for f in FEATURES] for row in ours + theirs])
    y = np.r_[np.ones(len(ours)), np.zeros(len(theirs))]
    return _logistic_auc(x, y, folds=min(5, len(ours)))


Reference = dict[str, list[tuple[dict[str, float], float]]]


def references(
    records: list[dict[str, Any]], index: dict[tuple[Any, ...], set[str]]
) -> tuple[Reference, Reference]:
    """Unseen tunes' features and copied shares, by meter and by dance (Nottingham's files)."""
    by_meter: Reference = {}
    by_rhythm: Reference = {}
    written = prepare.written_rhythms()
    for record in records + load_unseen() + load_nottingham():
        whole = parse_tune(record["text"])
        tune = first_bars(whole, record["meter"])
        if tune is None or record["collection"] == "essenFolksong":
            continue
        found = (
            features(tune, record["meter"], whole),
            copied_share(tune, record["tonic"], index, record["id"]),
        )
        by_meter.setdefault(record["meter"], []).append(found)
        dance = record.get("rhythm") if BY_FILE else prepare.named_rhythm(record, written)
        if dance:
            by_rhythm.setdefault(f"{dance} {record['meter']}", []).append(found)
    return by_meter, by_rhythm


def _theirs(
    request: dict[str, Any], meter: str, by_meter: Reference, by_rhythm: Reference
) -> tuple[list[dict[str, float]], str]:
    """A request's reference: tunes of its dance and meter where there are ``MIN_DANCE``, else
    of its meter."""
    style, meters = request.get("style"), SAME_BARS.get(meter, {meter})
    dance = [found for m in meters for found in by_rhythm.get(f"{style} {m}", [])]
    if len(dance) >= MIN_DANCE:
        return [f for f, _ in dance], f"{len(dance)} tunes named {style}"
    theirs = [f for m in sorted(meters) for f, _ in by_meter.get(m, [])]
    return (
        theirs,
        f"{len(theirs)} tunes in {' or '.join(sorted(meters))} ({len(dance)} named {style})",
    )


def judge(
    rows: list[dict[str, Any]], by_meter: Reference, by_rhythm: Reference
) -> tuple[list[str], dict[str, Any]]:
    """The AUC table's rows and the figures, for composed rows (with ``features``)."""
    options = dict(REQUESTS)
    lines, figures = [], {}
    for adapter in (True, False):
        mine = [row for row in rows if row["adapter"] == adapter]
        if not mine:
            continue
        theirs_all = [
            f
            for meter in {r["meter"] for r in mine}
            for m in SAME_BARS.get(meter, {meter})
            for f, _ in by_meter.get(m, [])
        ]
        overall = _auc([r["features"] for r in mine], theirs_all)
        per, against = [], {}
        for name, _ in REQUESTS:
            ours = [r for r in mine if r["request"] == name]
            theirs, against[name] = _theirs(options[name], ours[0]["meter"], by_meter, by_rhythm)
            per.append(_auc([r["features"] for r in ours], theirs))
        label = "with the folk adapter" if adapter else "base model"
        cells = " | ".join("n/a" if a is None else f"{a:.2f}" for a in per)
        lines.append(f"| {label} | {overall:.2f} | {cells} |")
        figures[label] = {
            "auc": overall,
            "per_style": dict(zip([n for n, _ in REQUESTS], per, strict=True)),
            "references": against,
            "copied": statistics.fmean(r["copied"] for r in mine),
            "seconds": statistics.median(r["seconds"] for r in mine),
            "medians": {
                f: (
                    statistics.median(r["features"][f] for r in mine),
                    statistics.median(x[f] for x in theirs_all),
                )
                for f in FEATURES
            },
        }
    return lines, figures


def main() -> str:
    """Run everything (or, with ``--rows FILE``, judge a saved run's tunes) and return markdown."""
    index: dict[tuple[Any, ...], set[str]] = {}
    for record in load():
        for phrase in phrases(parse_tune(record["text"]), record["tonic"]):
            index.setdefault(phrase, set()).add(record["id"])
    records = heldout_records()
    by_meter, by_rhythm = references(records, index)
    if ARGS[:1] == ["--rows"]:
        rows = [r for f in ARGS[1:] for r in json.loads(Path(f).read_text())["rows"]]
        loss = None
    else:
        first, _, last = (ARGS[0] if ARGS else "3").rpartition("-")
        seeds = range(int(first or 1), int(last) + 1)
        adapters = (folk_adapter_path(),) if "adapter" in ARGS[1:] else (folk_adapter_path(), None)
        loss = None if "noloss" in ARGS[1:] else heldout_loss(records)
        rows = compose_rows(seeds, adapters)
    for row in rows:
        tune = parse_tune(row["text"])
        row["features"] = features(first_bars(tune, row["meter"]) or tune, row["meter"], tune)
        row["copied"] = copied_share(tune, row["tonic"], index, None)
    table, figures = judge(rows, by_meter, by_rhythm)
    lines = [
        "| tunes | AUC, all styles | " + " | ".join(name for name, _ in REQUESTS) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in REQUESTS) + " |",
        *table,
    ]
    figures["loss"] = loss
    corpus_copied = statistics.fmean(c for pairs in by_meter.values() for _, c in pairs)
    figures["corpus_copied"] = corpus_copied
    figures["reference_tunes"] = {m: len(v) for m, v in by_meter.items()}
    figures["reference_dances"] = {m: len(v) for m, v in by_rhythm.items()}
    if ARGS[:1] != ["--rows"]:
        OUT.write_text(json.dumps({"figures": figures, "rows": rows}, indent=1, default=str))
    if loss is not None:
        lines += [
            "",
            f"Held-out loss ({loss['tunes']} tunes, full model in llama.cpp): "
            f"{loss['base']:.2f} nats a token on the base model, {loss['adapter']:.2f} with the "
            "adapter.",
        ]
    ours = figures["with the folk adapter"]
    lines += [
        "",
        f"Two-bar phrases found in another corpus tune: {ours['copied']:.1%} of tunesmith's "
        f"with the adapter; unseen tunes: {corpus_copied:.1%}.",
        f"Reference tunes per meter: {figures['reference_tunes']}; per dance and meter: "
        f"{figures['reference_dances']}.",
        "Each style against: "
        + "; ".join(f"{name}: {label}" for name, label in ours["references"].items())
        + ".",
        "",
        "| feature (median) | tunesmith with the adapter | unseen tunes of the same meters |",
        "| --- | ---: | ---: |",
        *(f"| {f} | {a:.2f} | {b:.2f} |" for f, (a, b) in ours["medians"].items()),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
