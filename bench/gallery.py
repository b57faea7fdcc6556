"""Writes docs/gallery.md: one tune per style, engraved (PNG from verovio's SVG) and rendered.

For every style preset, `compose(style=..., bars=16, seed=1)` on the embedded model; the
score is engraved by verovio and turned into a PNG by rsvg-convert (Debian's
librsvg2-bin), the audio rendered by FluidSynth and written as Ogg Vorbis, and the
page shows the picture, a link to the audio and MIDI, the ABC, and the critic's report,
so anyone can see and hear what tunesmith writes. Usage: python bench/gallery.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from tunesmith import compose
from tunesmith.requests.presets import style_presets

ROOT = Path(__file__).parent.parent
FOLDER = ROOT / "docs" / "gallery"
PAGE = ROOT / "docs" / "gallery.md"
KEYS = {
    "jig": {"key": "D"},
    "slip jig": {"key": "G"},
    "reel": {"key": "G"},
    "hornpipe": {"key": "D"},
    "polka": {"key": "A"},
    "march": {"key": "G"},
    "waltz": {"key": "F"},
    "air": {"key": "E", "mode": "dorian"},
}
BARS = 16
SEED = 1


def main() -> None:
    if shutil.which("rsvg-convert") is None:
        sys.exit("rsvg-convert is missing: apt-get install librsvg2-bin")
    FOLDER.mkdir(parents=True, exist_ok=True)
    sections = []
    for name in sorted(style_presets()):
        slug = name.replace(" ", "-")
        options = KEYS.get(name, {})
        bars = BARS if int(style_presets()[name].get("part_bars", 8)) * 2 <= BARS else 12
        started = time.perf_counter()
        composition = compose(style=name, bars=bars, seed=SEED, **options)
        seconds = time.perf_counter() - started
        svg = FOLDER / f"{slug}.svg"
        svg.write_text(composition.to_svg(), encoding="utf-8")
        subprocess.run(
            [
                "rsvg-convert",
                "--background-color",
                "white",
                "-w",
                "1400",
                "-o",
                str(FOLDER / f"{slug}.png"),
                str(svg),
            ],
            check=True,
        )
        svg.unlink()
        composition.save_audio(FOLDER / f"{slug}.ogg")
        composition.save_midi(FOLDER / f"{slug}.mid")
        request = composition.request
        report = composition.report
        chosen = next(c for c in report.candidates if c.number == report.chosen)
        sections.append(
            f"## {name.capitalize()}\n\n"
            f"`compose(style={name!r}, bars={bars}, seed={SEED}"
            + "".join(f", {k}={v!r}" for k, v in options.items())
            + f")`: {request.meter}, {request.constraints.description}, "
            f"{request.instrument}, {request.tempo:g} beats a minute; form "
            f"{report.form}; "
            + (
                f"best of {len(report.candidates)} candidates "
                if len(report.candidates) > 1
                else "one candidate finished "
            )
            + f"(critic score {chosen.score:.2f}, distance to the corpus {chosen.distance:.2f}); "
            f"{seconds:.1f} s.\n\n"
            f"![{name}](gallery/{slug}.png)\n\n"
            f"[audio (Ogg)](gallery/{slug}.ogg) · [MIDI](gallery/{slug}.mid)\n\n"
            f"```abc\n{composition.to_abc().strip()}\n```\n"
        )
        print(f"{name}: {seconds:.1f} s", file=sys.stderr)
    PAGE.write_text(
        "# Gallery\n\n"
        "One tune per style, composed on the embedded model (Gemma 3 270M) by "
        "`python bench/gallery.py` (run by `make bench`): engraved by verovio, rendered by "
        "FluidSynth with FluidR3_GM. Nothing here is picked by hand: seed 1, every time.\n\n"
        + "\n".join(sections),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
