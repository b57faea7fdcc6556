"""Harmony and the band: chord tones by grammar, folk-likeness with chords, Bach, and time.

- **Chord tones on strong beats**: the share of strong beats whose melody note is a tone
  of the chord sounding there, in what the model wrote (before repair). The embedded model
  writes under the chord-tone grammar, with its own chords (``band=True``, which asks for
  ``chords="auto"``) and with given ones (``"I IV V I"``). A server without a grammar is
  played by the melody-only tune of the same request handed over as its answer for the
  given chords: its share is what chance gives, and repair takes it to 100%.
- **Folk-likeness with and without chords**: the six requests of ``bench/quality.py``,
  melody only and with ``band=True``; the same classifier's AUC against corpus tunes of
  the same meters (0.5: indistinguishable), and whether each request's median stepwise,
  repeated-note and leap shares are inside the corpus's p10-p90 band.
- **Bach**: the soprano of each four-part chorale in music21's corpus harmonised by
  :func:`tunesmith.harmonise` (a chord a beat), against music21's Roman-numeral analysis
  of Bach's own harmony (``romanNumeralFromChord`` of the chordified chorale, in the key
  the file's signature and final give): the share of beats whose chord has Bach's root and
  quality, and its root alone; on every beat, and on the beats where Bach's chord is a
  triad or seventh chord. The baseline chooses between the tonic and dominant triads alone,
  by the same best fit.
- **Seconds per tune**, melody only and with ``band=True`` (composing, chords and band).

Usage: python bench/harmony.py [SEEDS] [CHORALES]   (default 1 seed, 40 chorales)
"""

from __future__ import annotations

import statistics
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import quality
from tunesmith import compose, harmonise, read_score
from tunesmith.backends import Completion, Prompt
from tunesmith.band.harmonise import best_fit, harmony_chords
from tunesmith.model.score import Score
from tunesmith.music.chords import Chord
from tunesmith.music.harmony import chord_at, lane_of, strong_beats
from tunesmith.music.rhythm import meter_of
from tunesmith.writing.script import Writing

GIVEN = "I IV V I"


class _Answers:
    """A server without a grammar that answers with a tune written for another request."""

    name, model, supports_grammar = "no-grammar", "melody-only answer", False

    def __init__(self, text: str) -> None:
        self.text = text

    def complete(self, prompt: Prompt, **_: object) -> Completion:
        return Completion(self.text, self.model, 0, 0, "stop", 0.0)


def _row(name: str, options: dict[str, Any], seed: int, **extra: Any) -> dict[str, Any]:
    from tunesmith.backends.local import LocalBackend

    started = time.perf_counter()
    composition = compose(bars=quality.BARS, seed=seed, backend=LocalBackend(), **options, **extra)
    seconds = time.perf_counter() - started
    plan = Writing.of(composition.request).plan
    print(f"{name} {extra or 'melody only'} seed {seed}: {seconds:.1f} s", file=sys.stderr)
    return {
        "request": name,
        "style": options["style"],
        "seed": seed,
        "meter": composition.request.meter,
        "seconds": seconds,
        "text": composition.text,
        "sources": [bar.source for bar in plan.bars] if len(plan.bars) == quality.BARS else None,
        "chord_tones": composition.report.chord_tones,
        "composition": composition,
    }


def compose_rows(seeds: int) -> dict[str, list[dict[str, Any]]]:
    """Melody only, with a band, and over given chords, for every request and seed."""
    rows: dict[str, list[dict[str, Any]]] = {"melody": [], "band": [], "given": []}
    for name, options in quality.REQUESTS:
        for seed in range(1, seeds + 1):
            rows["melody"].append(_row(name, options, seed))
            rows["band"].append(_row(name, options, seed, band=True))
            rows["given"].append(_row(name, options, seed, chords=GIVEN))
    return rows


def no_grammar(rows: list[dict[str, Any]]) -> tuple[list[float], list[float]]:
    """The melody-only tunes as a grammar-less server's answers for the given chords."""
    before, after = [], []
    for row in rows:
        request = row["composition"].request.model_copy(update={"chords": GIVEN})
        composition = compose(request, backend=_Answers(row["text"]), max_attempts=1)
        before.append(composition.report.chord_tones or 0.0)
        heard = composition.score.expanded()
        meter = meter_of(request.meter)
        misses = 0
        for index, bar in enumerate(heard.melody.bars):
            start = index * request.constraints.bar_length
            offset = Fraction(0)
            for event in bar.events:
                for beat in strong_beats(meter):
                    chord = chord_at(heard.harmony, start + beat)
                    sounding = offset <= beat < offset + event.duration and event.pitches
                    if sounding and chord and event.pitches[-1].midi % 12 not in chord.semitones:
                        misses += 1
                offset += event.duration
        after.append(1.0 if misses == 0 else 0.0)
    return before, after


# -- Bach ------------------------------------------------------------------------------------


def _chorales(count: int) -> list[Path]:
    from music21 import corpus

    paths = sorted(p for p in corpus.getComposer("bach") if p.suffix in {".mxl", ".xml"})
    return paths[:count]


def _reference(path: Path, key: Any) -> list[tuple[Fraction, Fraction, Any]]:
    """(onset, end, music21 RomanNumeral) of Bach's chords, from the chordified chorale."""
    from music21 import converter, roman

    chords = converter.parse(path).chordify().flatten().getElementsByClass("Chord")
    found = []
    for chord in chords:
        onset = Fraction(chord.offset).limit_denominator(96)
        end = onset + Fraction(chord.quarterLength).limit_denominator(96)
        found.append((onset, end, roman.romanNumeralFromChord(chord, key)))
    return found


def bach(count: int) -> dict[str, Any]:
    """Soprano harmonisations by tunesmith and the tonic/dominant baseline, against Bach."""
    from music21 import key as music21_key

    tallies = {
        name: {"all": 0, "root": 0, "triads": 0, "triad_hits": 0}
        for name in ("tunesmith", "baseline")
    }
    beats_total = chorales = 0
    for path in _chorales(count):
        try:
            score = read_score(path)
        except Exception as error:
            print(f"skipped {path.name}: {error}", file=sys.stderr)
            continue
        if len(score.parts) != 4 or score.header.key is None:
            continue
        key = score.header.key
        soprano = Score(score.header, score.parts[:1], repeats=score.repeats)
        ours = harmonise(soprano, parts=(), rhythm="beat", keep_chords=False).harmony
        tonic, dominant = harmony_chords(key)[0], Chord.parse(str(key.scale[4]))  # I and V
        meter = meter_of(score.header.meter)
        pair = [tonic, dominant]
        base_bars = best_fit(soprano.melody.tune, meter, pair, tonic=tonic, rhythm="beat")
        baseline = lane_of(base_bars, score.bar_lengths)
        m21key = music21_key.Key(str(key.tonic).replace("b", "-"), key.mode)
        reference = _reference(path, m21key)
        chorales += 1
        start = Fraction(0)
        for length in score.bar_lengths:
            for beat in (b for b in meter.beat_starts() if b < length):
                time_ = start + beat
                bach_rn = next((rn for onset, end, rn in reference if onset <= time_ < end), None)
                if bach_rn is None:
                    continue
                beats_total += 1
                root, kind = bach_rn.root().pitchClass, bach_rn.quality
                triad = kind in {"major", "minor", "diminished", "augmented"}
                for name, lane in (("tunesmith", ours), ("baseline", baseline)):
                    chord = chord_at(lane, time_)
                    if chord is None:
                        continue
                    same_root = chord.root.semitone == root
                    tally = tallies[name]
                    tally["root"] += same_root
                    tally["all"] += same_root and chord.quality == kind
                    tally["triads"] += triad
                    tally["triad_hits"] += triad and same_root and chord.quality == kind
            start += length
    return {"chorales": chorales, "beats": beats_total, "tallies": tallies}


# -- the report ------------------------------------------------------------------------------


def _share(values: list[float]) -> str:
    return f"{statistics.fmean(values):.0%}" if values else "n/a"


def report(rows: dict[str, list[dict[str, Any]]], chorales: dict[str, Any]) -> str:
    lines = ["| chord tones on strong beats (as written) | share | tunes |", "| --- | --- | --- |"]
    band = [r["chord_tones"] for r in rows["band"] if r["chord_tones"] is not None]
    given = [r["chord_tones"] for r in rows["given"] if r["chord_tones"] is not None]
    before, after = no_grammar(rows["melody"])
    lines += [
        f"| embedded model, grammar, its own chords (`band=True`) | {_share(band)} | {len(band)} |",
        f"| embedded model, grammar, given chords (`{GIVEN}`) | {_share(given)} | {len(given)} |",
        f"| server without a grammar (a melody-only tune), before repair | {_share(before)} "
        f"| {len(before)} |",
        f"| the same, after repair | {_share(after)} | {len(after)} |",
        "",
    ]
    melody, with_band = quality.compare(rows["melody"]), quality.compare(rows["band"])
    for result in (melody, with_band):
        result["inside"] = sum(all(bands.values()) for bands in result["bands"].values())
    lines += [
        "| folk-likeness | melody only | with `band=True` (chords by grammar) |",
        "| --- | --- | --- |",
        f"| AUC against the corpus (0.5: indistinguishable) | {melody['auc']:.2f} "
        f"| {with_band['auc']:.2f} |",
        f"| requests inside the corpus bands (of {len(quality.REQUESTS)}) | "
        f"{melody['inside']} | {with_band['inside']} |",
    ]
    for feature in ("stepwise_share", "repeat_share", "leap_share", "pitch_class_entropy"):
        values = [
            statistics.median(
                quality.features(quality.parse_tune(r["text"]), r["meter"])[feature]
                for r in rows[name]
            )
            for name in ("melody", "band")
        ]
        lines.append(f"| median {feature.replace('_', ' ')} | {values[0]:.2f} | {values[1]:.2f} |")
    seconds = {
        name: statistics.median(r["seconds"] for r in rows[name]) for name in ("melody", "band")
    }
    lines += [
        f"| seconds per tune (median) | {seconds['melody']:.1f} | {seconds['band']:.1f} |",
        "",
    ]
    tallies, beats = chorales["tallies"], chorales["beats"]
    lines += [
        f"| Bach: {chorales['chorales']} chorales, {beats} beats | root and quality | root | "
        "root and quality where Bach's chord is a triad or seventh |",
        "| --- | --- | --- | --- |",
    ]
    for name, label in (
        ("tunesmith", "tunesmith `harmonise` (a chord a beat)"),
        ("baseline", "tonic/dominant best fit"),
    ):
        tally = tallies[name]
        lines.append(
            f"| {label} | {tally['all'] / beats:.0%} | {tally['root'] / beats:.0%} | "
            f"{tally['triad_hits'] / max(tally['triads'], 1):.0%} |"
        )
    return "\n".join(lines)


def main(seeds: int = 1, chorales: int = 40) -> str:
    return report(compose_rows(seeds), bach(chorales))


if __name__ == "__main__":
    arguments = [int(value) for value in sys.argv[1:3]]
    print(main(*arguments))
