"""Composing on the embedded model: the loop's cost per token, tokens per note, seconds.

- **Per token**: milliseconds a sampled token costs, one lane: plain llama.cpp decoding
  with no grammar (``create_completion``), llama.cpp's own grammar sampler over the whole
  vocabulary (``create_completion(grammar=...)``), and tunesmith's loop (the same grammar
  over the candidate tokens, plus the musical rules, on the narrow copy of the model whose
  output layer scores ~16,000 tokens instead of 262,144: below 1.00 is faster than plain
  decoding); with the folk adapter (the default) and on the base model (``adapter=None``),
  each against plain decoding of the same model.
- **Tokens per note**: tokens the model sampled per note it wrote (bars the plan repeats
  are forced, not sampled), in ABC and in tunesmith notation.
- **Seconds**: a 16-bar jig with `compose()` (4 candidates), the first request of a
  process (prompt prefix read from its state on disk) and the next ones (prefix cached in
  memory); and the whole `tunesmith compose` command, process start to exit.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import llama_cpp

from tunesmith import ComposeRequest, compose
from tunesmith.backends.local import LocalBackend
from tunesmith.decoding.segments import SamplerSettings
from tunesmith.writing.plan_script import PlanScript
from tunesmith.writing.prompts import render_tunebook
from tunesmith.writing.script import Writing

SEEDS = (1, 2, 3)
JIG = {"notes": ["A", "B", "C#", "F#", "G"], "style": "jig", "bars": 16}
ROOT = Path(__file__).parent.parent


def per_token(backend: LocalBackend) -> tuple[float, float, float]:
    """ms per token: no grammar, llama.cpp's grammar, tunesmith's loop (one lane)."""
    writing = Writing.of(ComposeRequest(**JIG, seed=1))
    prefix, suffix, _ = render_tunebook(writing)
    grammar = writing.whole_grammar()
    llm = backend.llama
    plain, full, loop = [], [], []
    for seed in SEEDS:
        llm.reset()
        started = time.perf_counter()
        out = llm.create_completion(prefix + suffix, max_tokens=64, temperature=0.8, seed=seed)
        tokens = out["usage"]["completion_tokens"]
        llm.reset()
        prompt_only = time.perf_counter()
        llm.create_completion(prefix + suffix, max_tokens=1, temperature=0.8, seed=seed)
        prompt_seconds = time.perf_counter() - prompt_only
        plain.append((time.perf_counter() - started - 2 * prompt_seconds) / tokens)
        llm.reset()
        started = time.perf_counter()
        out = llm.create_completion(
            prefix + suffix,
            max_tokens=24,
            temperature=0.8,
            seed=seed,
            grammar=llama_cpp.LlamaGrammar.from_string(grammar, verbose=False),
        )
        full.append(
            (time.perf_counter() - started - prompt_seconds) / out["usage"]["completion_tokens"]
        )
        backend.write(
            prefix,
            suffix,
            [PlanScript(writing)],
            seed=seed,
            settings=SamplerSettings(),
            deadline=None,
        )
        stats = backend.decoder().last_run
        loop.append(stats.loop_seconds / stats.steps)
    return (
        1000 * statistics.median(plain),
        1000 * statistics.median(full),
        1000 * statistics.median(loop),
    )


def tokens_per_note(spelling: str) -> tuple[float, float]:
    """Tokens per note: of the written text (the spelling's cost), and sampled (retries too)."""
    backend = LocalBackend(spelling=spelling)
    written_ratio, sampled_ratio = [], []
    for seed in SEEDS:
        composition = compose(**JIG, seed=seed, backend=backend, candidates=1)
        writing = Writing.of(composition.request, spelling)
        text = composition.report.attempts[0].text
        notes = sum(
            1
            for bar, planned in zip(writing.read(text).bars, writing.plan.bars, strict=True)
            if planned.source is None
            for event in bar.events
            if event.pitches
        )
        tokens = len(backend.decoder().tokenize(text, bos=False))
        all_notes = sum(1 for bar in writing.read(text).bars for e in bar.events if e.pitches)
        written_ratio.append(tokens / all_notes)
        sampled_ratio.append(composition.report.candidates[0].tokens / notes)
    return statistics.median(written_ratio), statistics.median(sampled_ratio)


def seconds() -> tuple[float, float, float]:
    """First jig of a process, the next ones, and the whole CLI command (medians)."""
    first = []
    for seed in SEEDS:
        code = (
            "import time; from tunesmith import compose; from tunesmith.backends.local import "
            "LocalBackend; b = LocalBackend(); b.decoder(); t = time.perf_counter(); "
            f"compose(**{JIG!r}, seed={seed}, backend=b); print(time.perf_counter() - t)"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        first.append(float(done.stdout.strip().splitlines()[-1]))
    backend = LocalBackend()
    compose(**JIG, seed=99, backend=backend)
    warm = []
    for seed in SEEDS:
        started = time.perf_counter()
        compose(**JIG, seed=seed, backend=backend)
        warm.append(time.perf_counter() - started)
    command = []
    tunesmith = str(Path(sys.executable).parent / "tunesmith")
    for seed in SEEDS:
        started = time.perf_counter()
        subprocess.run(
            [
                tunesmith,
                "compose",
                "--notes",
                "A B C# F# G",
                "--style",
                "jig",
                "--bars",
                "16",
                "--seed",
                str(seed),
                "-o",
                "/tmp/tunesmith-bench.mid",
            ],
            capture_output=True,
            check=True,
        )
        command.append(time.perf_counter() - started)
    return statistics.median(first), statistics.median(warm), statistics.median(command)


def main() -> str:
    backend = LocalBackend()
    plain, full, loop = per_token(backend)
    base_plain, _, base_loop = per_token(LocalBackend(adapter=None))
    (abc, abc_sampled), (notation, notation_sampled) = (
        tokens_per_note("abc"),
        tokens_per_note("notation"),
    )
    first, warm, command = seconds()
    return "\n".join(
        [
            "| per sampled token, one lane, with the folk adapter | ms | vs no grammar |",
            "| --- | ---: | ---: |",
            f"| no grammar (llama.cpp) | {plain:.1f} | 1.00 |",
            f"| llama.cpp's grammar sampler, whole vocabulary | {full:.1f} | {full / plain:.2f} |",
            f"| tunesmith's loop: candidates, grammar, rules | {loop:.1f} | {loop / plain:.2f} |",
            f"| the same loop on the base model (no adapter; its plain decoding "
            f"{base_plain:.1f} ms) | {base_loop:.1f} | {base_loop / base_plain:.2f} |",
            "",
            f"Tokens per note (16-bar jig, one candidate, median of {len(SEEDS)} seeds), of the "
            f"text as written: ABC {abc:.2f}, tunesmith notation {notation:.2f} "
            f"({notation / abc:.1f}x); sampled per new note, bars written again included: "
            f"ABC {abc_sampled:.2f}, tunesmith notation {notation_sampled:.2f}.",
            "",
            "| 16-bar jig on A B C# F# G, 4 candidates | median s |",
            "| --- | ---: |",
            f"| compose(), first request of a process (prefix evaluated) | {first:.1f} |",
            f"| compose(), later requests (prefix cached) | {warm:.1f} |",
            f"| `tunesmith compose ...` command, start to exit | {command:.1f} |",
        ]
    )


if __name__ == "__main__":
    print(main())
