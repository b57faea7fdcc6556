"""The naive way against tunesmith, both on the embedded model, side by side.

Naive: the prompt from the prompting guide ("Write the notes for a folk song that only
uses A, B, C#, F#, and G."), the model's text taken as it is: no grammar, no repair. Its
notes are read leniently for the metrics (every note name it wrote, octave 4 when none,
a quarter note each), strictly for "parses". tunesmith: `compose()` with its grammar.
Distance: mean |z| of the tune's metrics against the corpus sample's tunes of the same
meter (0 = typical folk tune; see tunesmith.metrics). Also: tokens per note of tunesmith
notation against ABC for the same corpus tunes, counted by the model's own tokenizer.
"""

from __future__ import annotations

import re
import statistics
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

from tunesmith import ComposeRequest, compose
from tunesmith.backends.base import Prompt
from tunesmith.backends.local import LocalBackend, _load
from tunesmith.corpus import load_sample
from tunesmith.errors import GrammarError
from tunesmith.io.abc import abc_text
from tunesmith.metrics import distance, measure, reference_metrics
from tunesmith.notation import extract, format_event, parse_tune
from tunesmith.prompts import render_prompt
from tunesmith.score import Bar, Event, Pitch, Score, Tune
from tunesmith.validate import validate

REQUESTS = [
    (
        "jig on A B C# F# G",
        {"notes": ["A", "B", "C#", "F#", "G"], "meter": "6/8", "style": "folk jig"},
    ),
    ("reel in D major", {"key": "D", "mode": "major", "meter": "4/4", "style": "folk reel"}),
    ("waltz in G major", {"key": "G", "mode": "major", "meter": "3/4", "style": "folk waltz"}),
    ("air in E dorian", {"key": "E", "mode": "dorian", "meter": "3/4", "style": "slow air"}),
]
SEEDS = (1, 2)
BARS = 8
NOTE_RE = re.compile(r"\b([A-G])([#b]?)(\d?)\b")
PLOT = Path(__file__).parent.parent / "docs" / "quality.png"


def format_event_bar(bar: Bar) -> str:
    return " ".join(format_event(event) for event in bar.events)


def naive_prompt(request: ComposeRequest) -> str:
    names = [str(pc) for pc in request.constraints.pitch_classes]
    notes = ", ".join(names[:-1]) + f", and {names[-1]}"
    return f"Write the notes for a {request.style} in {request.meter} that only uses {notes}.\n"


def lenient_tune(text: str) -> Tune | None:
    """Every note name in the text as a quarter note (octave 4 if none), four to a bar."""
    events = [
        Event.note(Pitch.parse(f"{step}{accidental}{octave or 4}"), Fraction(1))
        for step, accidental, octave in NOTE_RE.findall(text)
    ]
    if len(events) < 2:
        return None
    return Tune(tuple(Bar(tuple(events[i : i + 4])) for i in range(0, len(events), 4)))


def run(backend: LocalBackend) -> dict[str, dict[str, list[float]]]:
    results: dict[str, dict[str, list[float]]] = {
        way: {
            "parses": [],
            "valid": [],
            "distance": [],
            "tokens_per_note": [],
            "seconds": [],
            "copied": [],
        }
        for way in ("naive", "tunesmith")
    }
    for _, options in REQUESTS:
        for seed in SEEDS:
            request = ComposeRequest(bars=BARS, seed=seed, **options)
            reference = reference_metrics(request.meter)
            tonic = request.constraints.tonic.semitone
            naive = backend.complete(
                Prompt(naive_prompt(request)),
                grammar=None,
                max_tokens=200,
                temperature=0.8,
                seed=seed,
            )
            stats = results["naive"]
            try:
                strict = parse_tune(extract(naive.text))
                stats["parses"].append(1.0)
                stats["valid"].append(float(validate(strict, request).ok))
            except GrammarError:
                stats["parses"].append(0.0)
                stats["valid"].append(0.0)
            loose = lenient_tune(naive.text)
            if loose is not None:
                stats["distance"].append(distance(measure(loose, tonic), reference))
                stats["tokens_per_note"].append(naive.completion_tokens / len(loose.events))
            stats["seconds"].append(naive.seconds)
            started = time.perf_counter()
            composition = compose(request, backend=backend)
            stats = results["tunesmith"]
            stats["seconds"].append(time.perf_counter() - started)
            stats["parses"].append(float(not composition.report.attempts[-1].problems))
            stats["valid"].append(float(validate(composition.tune, request).ok))
            stats["distance"].append(distance(measure(composition.tune, tonic), reference))
            attempt = composition.report.attempts[-1]
            written = len(parse_tune(attempt.text).events)  # each part of a form is written once
            stats["tokens_per_note"].append(attempt.completion_tokens / written)
            document = render_prompt(request, list(request.constraints.durations)).document
            bars = [format_event_bar(bar) for bar in composition.tune.bars]
            stats["copied"].append(sum(bar in document for bar in bars) / len(bars))
    return results


def notation_tokens(backend: LocalBackend) -> tuple[float, float]:
    """Median tokens per note of corpus tunes written in tunesmith notation and in ABC."""
    llm = _load(backend.model_path, 4096, 2)
    ours, theirs = [], []
    for record in load_sample():
        if "text" not in record:
            continue
        tune = parse_tune(record["text"])
        body = abc_text(Score.of_tune(tune)).split("\n", 5)[5]
        ours.append(len(llm.tokenize(record["text"].encode(), add_bos=False)) / len(tune.events))
        theirs.append(len(llm.tokenize(body.encode(), add_bos=False)) / len(tune.events))
    return statistics.median(ours), statistics.median(theirs)


def plot(results: dict[str, dict[str, list[float]]]) -> None:
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(11, 3.2))
    ways = list(results)
    colours = ["#c0504d", "#4f81bd"]
    panels: list[tuple[str, Any]] = [
        ("share that parses", lambda s: statistics.fmean(s["parses"])),
        ("share that keeps every constraint", lambda s: statistics.fmean(s["valid"])),
        ("distance to the corpus (lower is better)", lambda s: statistics.median(s["distance"])),
    ]
    for axis, (title, value) in zip(axes, panels, strict=True):
        axis.bar(ways, [value(results[w]) for w in ways], color=colours)
        axis.set_title(title, fontsize=9)
    figure.suptitle("Embedded Gemma 3 270M: naive prompt vs tunesmith", fontsize=10)
    figure.tight_layout()
    figure.savefig(PLOT, dpi=110)


def main() -> str:
    backend = LocalBackend()
    results = run(backend)
    plot(results)
    ours, abc = notation_tokens(backend)

    def cell(values: list[float], form: str) -> str:
        return format(statistics.median(values), form) if values else "n/a"

    lines = [
        f"{len(REQUESTS)} requests x {len(SEEDS)} seeds, {BARS} bars each: "
        + "; ".join(name for name, _ in REQUESTS)
        + ".",
        "",
        "| way | parses | keeps every constraint | median distance to corpus | tokens/note "
        "| median s/tune |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for way, stats in results.items():
        lines.append(
            f"| {way} | {statistics.fmean(stats['parses']):.0%} | "
            f"{statistics.fmean(stats['valid']):.0%} | {cell(stats['distance'], '.2f')} | "
            f"{cell(stats['tokens_per_note'], '.2f')} | {cell(stats['seconds'], '.1f')} |"
        )
    copied = statistics.fmean(results["tunesmith"]["copied"])
    lines += [
        "",
        f"Bars of tunesmith's tunes copied from the prompt's example tunes: {copied:.0%}.",
    ]
    naive_d, ours_d = results["naive"]["distance"], results["tunesmith"]["distance"]
    if naive_d:
        ratio = statistics.median(naive_d) / statistics.median(ours_d)
        lines += [
            "",
            f"tunesmith's tunes are {ratio:.1f}x closer to the corpus than the naive way.",
        ]
    lines += [
        "",
        f"Tokens per note on the corpus sample (model tokenizer): tunesmith notation {ours:.2f}, "
        f"ABC {abc:.2f} (ratio {ours / abc:.2f}).",
        "",
        "![quality](quality.png)",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
