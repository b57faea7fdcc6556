"""Seconds per tune and tokens per note on the embedded model, with and without the grammar.

Without the grammar the base model is asked the same document prompt and its text is only
parsed (no repair): the share that parses shows what the grammar buys.
"""

from __future__ import annotations

import statistics
import time

from tunesmith import ComposeRequest, compose
from tunesmith.backends.local import LocalBackend
from tunesmith.compose import _max_tokens
from tunesmith.errors import GrammarError
from tunesmith.notation import extract, parse_tune
from tunesmith.prompts import render_prompt

SEEDS = (1, 2, 3)
BARS = (8, 16)


def request(bars: int, seed: int) -> ComposeRequest:
    return ComposeRequest(
        notes=["A", "B", "C#", "F#", "G"], meter="6/8", bars=bars, style="folk jig", seed=seed
    )


def main() -> str:
    backend = LocalBackend()
    compose(request(1, 0), backend=backend)  # load the model outside the timings
    lines = [
        "| bars | mode | median s/tune | median tokens/s | tokens/note | parses |",
        "| ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for bars in BARS:
        seconds, rates, per_note = [], [], []
        for seed in SEEDS:
            started = time.perf_counter()
            tune = compose(request(bars, seed), backend=backend)
            seconds.append(time.perf_counter() - started)
            attempt = tune.report.attempts[-1]
            rates.append(attempt.completion_tokens / attempt.seconds)
            # the notes the model wrote: with a form (AABB) it writes each part once
            per_note.append(attempt.completion_tokens / len(parse_tune(attempt.text).events))
        lines.append(
            f"| {bars} | grammar | {statistics.median(seconds):.1f} | "
            f"{statistics.median(rates):.1f} | {statistics.median(per_note):.2f} | "
            f"{len(SEEDS)}/{len(SEEDS)} |"
        )
        seconds, rates, parsed = [], [], 0
        for seed in SEEDS:
            req = request(bars, seed)
            prompt = render_prompt(req, list(req.constraints.durations))
            completion = backend.complete(
                prompt, grammar=None, max_tokens=_max_tokens(req), temperature=0.8, seed=seed
            )
            seconds.append(completion.seconds)
            rates.append(completion.completion_tokens / max(completion.seconds, 1e-9))
            try:
                parse_tune(extract(completion.text))
                parsed += 1
            except GrammarError:
                pass
        lines.append(
            f"| {bars} | no grammar | {statistics.median(seconds):.1f} | "
            f"{statistics.median(rates):.1f} | - | {parsed}/{len(SEEDS)} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
