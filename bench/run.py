"""Runs every benchmark and writes docs/benchmarks.md (`make bench`)."""

from __future__ import annotations

import datetime
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import audio_speed
import compose_speed
import concurrency
import continuation
import gallery
import harmony
import heldout
import mutation
import quality
import refusals
import validate_repair

SECTIONS = [
    ("Validation and repair", validate_repair.main, validate_repair.__doc__),
    ("Refusing a bad file", refusals.main, refusals.__doc__),
    ("Composing on the embedded model", compose_speed.main, compose_speed.__doc__),
    ("Composing beside other work", concurrency.main, concurrency.__doc__),
    ("How folk-like: tunesmith against the corpus", quality.main, quality.__doc__),
    (
        "Held-out tunes: the folk adapter judged on music nothing was tuned on",
        heldout.main,
        heldout.__doc__,
    ),
    (
        "Spelling across the model boundary: ABC or tunesmith notation",
        quality.spelling_section,
        quality.spelling_section.__doc__,
    ),
    ("Continuing the user's music", continuation.main, continuation.__doc__),
    ("Harmony and the band", harmony.main, harmony.__doc__),
    ("Audio rendering", audio_speed.main, audio_speed.__doc__),
    (
        "Mutation testing (from the last `make mutation`; survivors in docs/mutation.md)",
        mutation.table,
        mutation.__doc__,
    ),
]


def main() -> None:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    parts = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {datetime.date.today()} ({machine}). Medians over repeated",
        "runs; each section's script in `bench/` says what it measures.",
    ]
    for title, run, doc in SECTIONS:
        print(f"running {title}", file=sys.stderr)
        parts += ["", f"## {title}", "", (doc or "").strip(), "", run()]
    out = Path(__file__).parent.parent / "docs" / "benchmarks.md"
    out.write_text("\n".join(parts) + "\n", encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)
    gallery.main()


if __name__ == "__main__":
    main()
