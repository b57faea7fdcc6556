"""Real folk tunes from music21's corpus: expressible in tunesmith notation, exactly.

A fixed sample (src/tunesmith/data/corpus_sample.json, written by bench/make_corpus_sample.py) is
checked on every run; ten tunes are parsed live from ABC with music21; the whole corpus
runs in bench/corpus_roundtrip.py.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from tunesmith.checks.corpus import GAPS, corpus_tune, load_sample, tune_from_music21
from tunesmith.errors import NotationError, RequestError
from tunesmith.io.midi import midi_bytes, read_midi_notes, sounding_notes
from tunesmith.model.notation import parse_tune, unparse
from tunesmith.model.score import Header, Score, Tune

SAMPLE = load_sample()
EXPRESSIBLE = [record for record in SAMPLE if "text" in record]


def test_most_of_the_sample_is_expressible_and_every_gap_is_a_known_kind() -> None:
    gaps = [record["gap"] for record in SAMPLE if "gap" in record]
    print(f"{len(EXPRESSIBLE)} of {len(SAMPLE)} sample tunes expressible; gaps: {gaps}")
    assert len(EXPRESSIBLE) >= 0.9 * len(SAMPLE)
    assert all(gap.split(":")[0] in GAPS for gap in gaps)


@pytest.mark.parametrize("record", EXPRESSIBLE, ids=[r["id"] for r in EXPRESSIBLE])
def test_sample_tunes_round_trip_through_notation_and_midi(record: dict[str, Any]) -> None:
    tune = parse_tune(record["text"])
    assert unparse(tune) == record["text"]
    assert read_midi_notes(midi_bytes(Score.of_tune(tune, Header("4/4")))) == sounding_notes(tune)


# Parsed live from ABC (about 4 s in all): what each shows, or the gap it must report.
LIVE = {
    "essenFolksong/ballad60.abc#1": "ties and rests",
    "essenFolksong/han1.abc#5": "a Chinese folk song",
    "essenFolksong/dva0.abc#1": "empty",
    "oneills1850/0001-0050.abc#1": "ties, rests and grace notes",
    "oneills1850/0051-0100.abc#51": "triplets",
    "oneills1850/0201-0300.abc#201": "duration",
    "ryansMammoth/AcaciaReel.abc#1": "grace notes",
    "ryansMammoth/BelleOfTheStageLancashireClog.abc#1": "chords (double stops)",
    "ryansMammoth/42dHighlandRegimentStrathspey.abc#1": "a tie",
    "ryansMammoth/FlipMcGildersReel.abc#1": "triplets and rests",
}


@pytest.mark.parametrize(("tune_id", "shows"), LIVE.items(), ids=list(LIVE))
def test_live_corpus_tunes_keep_music21s_notes_or_name_their_gap(tune_id: str, shows: str) -> None:
    score = corpus_tune(tune_id)
    if shows in GAPS:
        with pytest.raises(NotationError, match=f"^{shows}: "):
            tune_from_music21(score)
        return
    tune = tune_from_music21(score)
    assert parse_tune(unparse(tune)) == tune
    theirs = [
        (
            tuple(p.midi for p in n.pitches),
            Fraction(n.quarterLength).limit_denominator(192),
            n.tie is not None and n.tie.type in {"start", "continue"},
        )
        for n in score.parts[0].flatten().notes
        if not n.duration.isGrace and "Harmony" not in n.classes
    ]
    ours = [(tuple(p.midi for p in e.pitches), e.duration, e.tie) for e in tune.notes]
    assert ours[:-1] == theirs[:-1]
    assert ours[-1][:2] == theirs[-1][:2]  # a tie out of the last written note is dropped


def test_a_corpus_tune_id_names_a_file_of_the_corpus() -> None:
    with pytest.raises(
        RequestError, match=r"tune_id must be COLLECTION/FILE\.abc#X.*/nope\.abc#1'"
    ):
        corpus_tune("oneills1850/nope.abc#1")


def test_a_chord_naming_a_pitch_twice_keeps_it_once_as_midi_does() -> None:
    tune = tune_from_music21(corpus_tune("ryansMammoth/MyLadysGoonHasGairsOntStrathspey.abc#1"))
    assert unparse(Tune((tune.bars[-1],))) == "[B4 D5 C5]:s |"
    assert read_midi_notes(midi_bytes(Score.of_tune(tune, Header("4/4")))) == sounding_notes(tune)
