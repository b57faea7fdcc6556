"""In-process FluidSynth rendering against the `fluidsynth -F` command line.

Same MIDI file (a 32-bar tune), same soundfont (FluidR3_GM), 44.1 kHz, reverb and chorus
on in both. The command line loads the soundfont on every run, as a script calling it
would; tunesmith loads it once per process and reuses the synthesizer, so its first
render (cold) is timed apart from the following ones (warm). Seconds of wall time per
second of rendered audio, medians over repeated runs.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import tempfile
import time
import wave
from pathlib import Path

import tunesmith.io.audio as audio
from tunesmith.io.midi import midi_bytes
from tunesmith.model.notation import parse_tune
from tunesmith.model.score import Header, Score

REPEATS = 7
BAR = "A4:e B4:e C#5:e F#5:q. | G5:e F#5:e C#5:e B4:q. | A4:q. C#5:q B4:e | A4:h. |"


def main() -> str:
    soundfont = audio.find_soundfont()
    data = midi_bytes(Score.of_tune(parse_tune(" ".join([BAR] * 8)), Header("6/8", tempo=112)))
    folder = Path(tempfile.mkdtemp())
    (folder / "tune.mid").write_bytes(data)
    audio._synth.cache_clear()
    started = time.perf_counter()
    samples = audio.render_audio(data, soundfont=soundfont)
    cold = time.perf_counter() - started
    length = len(samples) / 44100
    warm = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        audio.render_audio(data, soundfont=soundfont)
        warm.append(time.perf_counter() - started)
    lines = [
        f"Rendered audio: {length:.1f} s.",
        "",
        "| renderer | median wall s | s per rendered s | speed vs fluidsynth -F |",
        "| --- | ---: | ---: | ---: |",
    ]
    cli = []
    if shutil.which("fluidsynth"):
        for _ in range(REPEATS):
            started = time.perf_counter()
            subprocess.run(
                [
                    "fluidsynth",
                    "-ni",
                    "-q",
                    "-r",
                    "44100",
                    "-F",
                    str(folder / "cli.wav"),
                    str(soundfont),
                    str(folder / "tune.mid"),
                ],
                check=True,
                capture_output=True,
            )
            cli.append(time.perf_counter() - started)
        with wave.open(str(folder / "cli.wav")) as rendered:
            cli_length = rendered.getnframes() / rendered.getframerate()
        lines.append(
            f"| fluidsynth -F (CLI, {cli_length:.1f} s of audio) | {statistics.median(cli):.3f} | "
            f"{statistics.median(cli) / cli_length:.4f} | 1.00 |"
        )
    base = statistics.median(cli) / cli_length if cli else None
    for name, seconds in (("tunesmith, warm", statistics.median(warm)), ("tunesmith, cold", cold)):
        per = seconds / length
        ratio = f"{base / per:.2f}x" if base else "n/a"
        lines.append(f"| {name} | {seconds:.3f} | {per:.4f} | {ratio} |")
    shutil.rmtree(folder)
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
