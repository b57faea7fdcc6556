"""The adapter's training data: real tunes written as the decoding loop writes them, losslessly."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tunesmith.checks.corpus import load_sample
from tunesmith.errors import NotationError
from tunesmith.model.notation import parse_tune
from tunesmith.music.rhythm import meter_of
from tunesmith.writing.spelling import AbcSpelling

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "train"))
import prepare


def _records() -> list[dict[str, object]]:
    """The shipped corpus sample as ``bench/corpus_cache.py`` records (tonic 0-11, mode)."""
    from music21 import key

    records = []
    for tune in load_sample():
        if "text" not in tune or tune["meter"] is None:
            continue
        tonic, mode = tune["key"].split()
        found = key.Key(tonic, mode)
        collection = tune["id"].split("/")[0]
        records.append(
            {**tune, "tonic": found.tonic.pitchClass, "mode": found.mode, "collection": collection}
        )
    return records


RECORDS = _records()


@pytest.mark.parametrize("record", RECORDS, ids=[str(r["id"]) for r in RECORDS])
def test_a_corpus_tune_in_the_training_spelling_reads_back_note_for_note(
    record: dict[str, object],
) -> None:
    try:
        example = prepare.example_of(record, {})
    except NotationError as error:
        pytest.skip(f"the ABC spelling cannot write it: {error}")
    _, sharps = prepare.key_of(int(record["tonic"]), str(record["mode"]))  # type: ignore[call-overload]
    tune = parse_tune(str(record["text"]))
    pitches = sorted({p for e in tune.events for p in e.pitches}, key=lambda p: p.midi)
    spelling = AbcSpelling.for_pitches(meter_of(str(record["meter"])), sharps, pitches)
    assert spelling.read(example.body) == list(tune.bars)
    assert example.text(3).startswith(f"X:3\nT:{example.title}\nR:")


def test_parts_end_after_eight_bars_time_and_a_pickup_is_not_counted() -> None:
    pickup = "A4:e | " + " | ".join(["D5:q. F#5:q."] * 16) + " |"
    record = {
        "id": "t#1",
        "collection": "oneills1850",
        "title": "T",
        "meter": "6/8",
        "tonic": 2,
        "mode": "major",
        "text": pickup,
    }
    body = prepare.example_of(record, {}).body
    assert body == (
        "|:A|d3 f3|d3 f3|d3 f3|d3 f3|\nd3 f3|d3 f3|d3 f3|d3 f3:|\n"  # the pickup not counted
        "|:d3 f3|d3 f3|d3 f3|d3 f3|\nd3 f3|d3 f3|d3 f3|d3 f3:|\n"
    )


def test_tune_families_share_a_title_or_an_opening_and_are_held_out_whole() -> None:
    a = {
        "id": "a",
        "title": "The Boys of Malin",
        "text": "D5:e E5:e F#5:e G5:q.",
        "meter": "6/8",
        "tonic": 2,
    }
    b = {**a, "id": "b", "title": "BOYS OF MALIN REEL"}  # same title, articles and dance dropped
    c = {
        **a,
        "id": "c",
        "title": "Another",
        "text": "G5:e A5:e B5:e C6:q.",
        "tonic": 7,
    }  # same opening
    d = {**a, "id": "d", "title": "Other", "text": "D5:q. D5:q."}
    names = prepare.families([a, b, c, d])
    assert names[0] == names[1] == names[2] != names[3]
    assert prepare.held_out(names[0]) == prepare.held_out(names[2])


def test_the_rhythm_field_is_the_files_else_the_titles_dance_else_the_meters() -> None:
    record = {
        "id": "x#1",
        "collection": "oneills1850",
        "title": "The Blackbird Hornpipe",
        "meter": "4/4",
    }
    assert prepare.rhythm_of(record, {"x#1": "set dance"}) == "set dance"
    assert prepare.rhythm_of(record, {}) == "hornpipe"
    assert prepare.rhythm_of({**record, "title": "Untitled"}, {}) == "reel"
    assert prepare.rhythm_of({**record, "collection": "essenFolksong"}, {"x#1": "Liebeslied"}) == (
        "song"
    )
