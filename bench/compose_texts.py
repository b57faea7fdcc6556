"""Composes bench/quality.py's requests and prints each tune as JSON (for any tunesmith version).

Uses only what every version has (`compose`, `.text`, `.request.meter`), so the quality of
an earlier commit can be measured: `PYTHONPATH=old/src python bench/compose_texts.py 5 >
before.json`, then `python bench/quality.py 5 --before before.json`.
"""

from __future__ import annotations

import json
import os
import sys
import time

from tunesmith import compose

REQUESTS = [
    ("jig on A B C# F# G", {"notes": ["A", "B", "C#", "F#", "G"], "style": "jig"}),
    ("reel in G", {"key": "G", "style": "reel"}),
    ("hornpipe in D", {"key": "D", "style": "hornpipe"}),
    ("polka in D", {"key": "D", "style": "polka"}),
    ("slip jig in E dorian", {"key": "E", "mode": "dorian", "style": "slip jig"}),
    ("waltz in F", {"key": "F", "style": "waltz"}),
]
BARS = 16


def main() -> None:
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    from tunesmith.backends.local import LocalBackend  # every version has it

    threads = int(os.environ.get("TUNESMITH_THREADS") or 0) or None
    backend = LocalBackend(n_threads=threads)
    rows = []
    for name, options in REQUESTS:
        for seed in range(1, seeds + 1):
            started = time.perf_counter()
            composition = compose(bars=BARS, seed=seed, backend=backend, **options)
            rows.append(
                {
                    "request": name,
                    "style": options["style"],
                    "seed": seed,
                    "meter": composition.request.meter,
                    "seconds": time.perf_counter() - started,
                    "text": composition.text,
                }
            )
            print(f"{name} seed {seed}: {rows[-1]['seconds']:.1f} s", file=sys.stderr)
    json.dump(rows, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
