"""Real tunes for the tests: one of music21's ABC corpus by its id, a seed by its drawn tune."""

from __future__ import annotations

import re

from music21 import corpus

from tunesmith.music.rhythm import corpus_rhythm, drawn_index


def abc_of(tune_id: str) -> str:
    """The text of one tune of music21's ABC corpus, by its id (``collection/file.abc#X``)."""
    location, _, number = tune_id.rpartition("#")
    collection, _, name = location.partition("/")
    (source,) = [p for p in corpus.getComposer(collection) if p.name == name]
    text: str = source.read_bytes().decode("latin-1")
    start = re.search(rf"^X:\s*{number}\b", text, re.MULTILINE)
    assert start is not None
    end = re.search(r"^X:", text[start.end() :], re.MULTILINE)
    return text[start.start() : start.end() + end.start() if end else len(text)]


def seed_with_pickup(style: str, has: bool = True) -> int:
    """The first seed whose drawn real tune of ``style`` has a pickup (or, ``has=False``, none)."""
    pickups = (corpus_rhythm(style) or {})["pickups"]
    return next(s for s in range(100) if bool(pickups[drawn_index(len(pickups), s)]) == has)
