"""Real scores through read_score and every writer: what comes back, and what does not.

For music21's Bach chorales (MusicXML) and folk tunes (ABC): read each with read_score,
write MusicXML, ABC, MIDI and tunesmith notation, read each back and compare: MusicXML and
notation must give the same score (roles aside), ABC and MIDI the same sounding notes per
part (MIDI: repeats played out). Prints counts and the first failures of each kind.

    python bench/score_roundtrip.py [chorales] [folk tunes]     # default 40 and 60
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from tunesmith import read_score, write_score
from tunesmith.errors import TunesmithError
from tunesmith.io.midi import sounding_notes
from tunesmith.model.score import Score


def same_but_roles(read: Score, written: Score) -> bool:
    parts = tuple(replace(p, role=q.role) for p, q in zip(read.parts, written.parts, strict=True))
    return replace(read, parts=parts) == written


def same_sound(read: Score, written: Score) -> bool:
    return [sounding_notes(p.tune) for p in read.parts] == [
        sounding_notes(p.tune) for p in written.parts
    ]


def check(path: Path, folder: Path) -> dict[str, bool]:
    score = read_score(path)
    results = {}
    for suffix in (".musicxml", ".txt", ".abc", ".mid"):
        copy = folder / f"copy{suffix}"
        try:
            write_score(score, copy)
            back = read_score(copy)
            if suffix == ".mid":
                results[suffix] = same_sound(back, score.expanded())
            elif suffix == ".abc":
                results[suffix] = same_sound(back, score)
            else:
                results[suffix] = same_but_roles(back, score)
        except TunesmithError as error:
            print(f"  {path.name}{suffix}: {error}")
            results[suffix] = False
    return results


def folk_files(count: int, folder: Path) -> list[Path]:
    from music21 import corpus

    files = []
    for source in sorted(corpus.getComposer("oneills1850")) + sorted(
        corpus.getComposer("ryansMammoth")
    ):
        text = source.read_bytes().decode("latin-1")
        for number, tune in enumerate(re.split(r"(?m)^(?=X:)", text)):
            if tune.startswith("X:") and len(files) < count:
                path = folder / f"{source.stem}-{number}.abc"
                path.write_text(tune, "utf-8")
                files.append(path)
        if len(files) >= count:
            break
    return files


def main() -> None:
    from music21 import corpus

    chorales, folk = (int(a) for a in (sys.argv[1:] or ["40", "60"]))
    folder = Path(tempfile.mkdtemp())
    sets = {
        "Bach chorales (MusicXML)": [
            Path(p) for p in sorted(corpus.getComposer("bach")) if str(p).endswith(".mxl")
        ][:chorales],
        "folk tunes (ABC)": folk_files(folk, folder),
    }
    for name, paths in sets.items():
        started, tally, unreadable = time.perf_counter(), Counter[str](), 0
        for path in paths:
            try:
                tally.update(k for k, ok in check(path, folder).items() if ok)
            except TunesmithError as error:
                unreadable += 1
                print(f"  {path.name}: {error}")
        seconds = time.perf_counter() - started
        counts = ", ".join(
            f"{suffix} {tally[suffix]}" for suffix in (".musicxml", ".txt", ".abc", ".mid")
        )
        print(f"{name}: {len(paths)} read ({unreadable} unreadable); same after {counts} "
              f"({seconds / max(len(paths), 1):.2f} s a score)")  # fmt: skip


if __name__ == "__main__":
    main()
