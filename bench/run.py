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
import quality
import validate_repair

SECTIONS = [
    ("Validation and repair", validate_repair),
    ("Composing on the embedded model", compose_speed),
    ("Musical quality: naive prompt vs tunesmith", quality),
    ("Audio rendering", audio_speed),
]


def main() -> None:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    parts = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {datetime.date.today()} ({machine}). Medians over repeated",
        "runs; each section's script in `bench/` says what it measures.",
    ]
    for title, module in SECTIONS:
        print(f"running {module.__name__}", file=sys.stderr)
        parts += ["", f"## {title}", "", (module.__doc__ or "").strip(), "", module.main()]
    out = Path(__file__).parent.parent / "docs" / "benchmarks.md"
    out.write_text("\n".join(parts) + "\n", encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
