"""Real folk tunes from music21's corpus: expressible in tunesmith notation, exactly.

A fixed sample (src/tunesmith/data/corpus_sample.json, written by bench/make_corpus_sample.py) is
checked on every run; a few tunes are parsed live from ABC with music21; the whole corpus
runs in bench/corpus_roundtrip.py.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from tunesmith.corpus import GAPS, corpus_tunes, load_sample, tune_from_music21
from tunesmith.export.midi import MidiSettings, midi_bytes, read_midi_notes, sounding_notes
from tunesmith.notation import format, parse

SAMPLE = load_sample()
EXPRESSIBLE = [record for record in SAMPLE if "text" in record]
SETTINGS = MidiSettings(tempo_qpm=120, numerator=4, denominator=4, program=0, track_name="t")


def test_most_of_the_sample_is_expressible_and_every_gap_is_a_known_kind() -> None:
    gaps = [record["gap"] for record in SAMPLE if "gap" in record]
    print(f"{len(EXPRESSIBLE)} of {len(SAMPLE)} sample tunes expressible; gaps: {gaps}")
    assert len(EXPRESSIBLE) >= 0.9 * len(SAMPLE)
    assert all(gap.split(":")[0] in GAPS for gap in gaps)


@pytest.mark.parametrize("record", EXPRESSIBLE, ids=[r["id"] for r in EXPRESSIBLE])
def test_sample_tunes_round_trip_through_notation_and_midi(record: dict[str, Any]) -> None:
    tune = parse(record["text"])
    assert format(tune) == record["text"]
    assert read_midi_notes(midi_bytes(tune, SETTINGS)) == sounding_notes(tune)


LIVE = list(corpus_tunes(["ryansMammoth"], limit=6))


@pytest.mark.parametrize(("tune_id", "score"), LIVE, ids=[tune_id for tune_id, _ in LIVE])
def test_live_corpus_tunes_keep_music21s_pitches_and_durations(tune_id: str, score: Any) -> None:
    tune = tune_from_music21(score)
    assert parse(format(tune)) == tune
    theirs = [
        (tuple(p.midi for p in n.pitches), Fraction(n.quarterLength).limit_denominator(192))
        for n in score.parts[0].flatten().notes
        if not n.duration.isGrace and "Harmony" not in n.classes
    ]
    ours = [(tuple(p.midi for p in e.pitches), e.duration) for e in tune.notes]
    assert ours == theirs
