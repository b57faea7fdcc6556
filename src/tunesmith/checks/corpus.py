"""Real folk tunes from music21's bundled corpus, as tunesmith tunes.

The corpus (Essen folksongs, O'Neill's 1850, Ryan's Mammoth Collection) is ABC that
music21 parses at a few tunes a second, so tests use a cached sample and the whole corpus
runs in a benchmark. Written measures are kept in order; repeats are not expanded, and a
pickup or a short last bar stays a short bar.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator
from fractions import Fraction
from importlib import resources
from typing import Any

from tunesmith.errors import NotationError, RequestError
from tunesmith.model.notes import DURATIONS, HIGHEST_MIDI, LOWEST_MIDI, Bar, Event, Pitch, Tune

__all__ = ["COLLECTIONS", "corpus_tune", "corpus_tunes", "load_sample", "tune_from_music21"]

COLLECTIONS = ("essenFolksong", "oneills1850", "ryansMammoth")
_LENGTHS = frozenset(DURATIONS.values())
GAPS = ("duration", "microtone", "octave", "voices", "empty")
"""The kinds of music tunesmith notation cannot express: a NotationError starts with one."""


def _pitch(music21_pitch: Any) -> Pitch:
    alter = music21_pitch.alter
    if alter != int(alter):
        raise NotationError(f"microtone: {music21_pitch.nameWithOctave} alters by {alter}")
    if not LOWEST_MIDI <= music21_pitch.midi <= HIGHEST_MIDI:
        raise NotationError(f"octave: {music21_pitch.nameWithOctave} is outside C-1 to G9")
    return Pitch(music21_pitch.step, int(alter), music21_pitch.octave)


def _event(element: Any) -> Event:
    length = Fraction(element.duration.quarterLength).limit_denominator(192)
    if length not in _LENGTHS:
        raise NotationError(f"duration: {length} quarter notes ({element.duration.fullName})")
    if element.isRest:
        return Event.rest(length)
    # a chord may name a pitch twice ([CcC] in ABC); it sounds once, as in MIDI
    pitches = tuple(dict.fromkeys(_pitch(p) for p in element.pitches))
    tie = element.tie is not None and element.tie.type in {"start", "continue"}
    return Event(pitches, length, tie)


def tune_from_music21(score: Any) -> Tune:
    """The first part of a music21 score as a :class:`Tune`, one bar per measure.

    Measures are kept as written, in order: repeats are not expanded, a pickup or short last
    bar stays short, and a tie out of the last note is dropped (it leads nowhere in the
    written order). Grace notes and chord symbols are dropped.

    Raises :class:`NotationError` whose message starts with one of :data:`GAPS` for music
    the notation cannot express.
    """
    parts = getattr(score, "parts", None)
    part = parts[0] if parts else score
    bars = []
    for measure in part.getElementsByClass("Measure"):
        if measure.voices:
            count = len(measure.voices)
            raise NotationError(f"voices: measure {measure.number} has {count} voices")
        events = tuple(
            _event(element)
            for element in measure.notesAndRests
            if not element.duration.isGrace and "Harmony" not in element.classes
        )
        if events:
            bars.append(Bar(events))
    if not bars:
        raise NotationError("empty: no measures with notes (unbarred or empty music)")
    last = bars[-1].events[-1]
    if last.tie:  # a tie into a repeat or a missing bar leads nowhere in the written order
        bars[-1] = Bar((*bars[-1].events[:-1], Event(last.pitches, last.duration)))
    return Tune(tuple(bars))


def corpus_tunes(
    collections: Iterable[str] = COLLECTIONS, *, limit: int | None = None
) -> Iterator[tuple[str, Any]]:
    """``(id, score)`` for the tunes of music21's corpus, e.g. ``"ryansMammoth/AcaciaReel.abc#1"``.

    The number after ``#`` is the tune's ``X:`` number in its ABC file (as in the sample's
    ids). A file holding several tunes (an Opus) yields each; ``limit`` stops after that many.
    """
    from music21 import corpus, stream  # noqa: PLC0415 - music21 takes seconds to import

    count = 0
    for collection in collections:
        for path in sorted(corpus.getComposer(collection)):
            if path.suffix != ".abc":
                continue
            parsed = corpus.parse(path)
            scores = parsed.scores if isinstance(parsed, stream.Opus) else [parsed]
            for position, score in enumerate(scores, 1):
                number = (score.metadata and score.metadata.number) or position
                yield f"{collection}/{path.name}#{number}", score
                count += 1
                if limit is not None and count >= limit:
                    return


def corpus_tune(tune_id: str) -> Any:
    """The music21 score of one corpus tune, by its id as :func:`corpus_tunes` gives it.

    Parses only that tune of its ABC file (a fraction of a second). Raises
    :class:`RequestError` for an id that names no tune of the corpus.
    """
    from music21 import corpus  # noqa: PLC0415 - music21 takes seconds to import
    from music21.abcFormat import ABCFileException  # noqa: PLC0415 - music21 is slow to import

    location, _, number = tune_id.rpartition("#")
    collection, _, name = location.partition("/")
    paths = [path for path in corpus.getComposer(collection) if path.name == name]
    if not paths or not number.isdigit():
        raise RequestError(
            "tune_id must be COLLECTION/FILE.abc#X with a file of music21's corpus, e.g. "
            f"'oneills1850/0001-0050.abc#7' (received {tune_id!r})"
        )
    try:
        return corpus.parse(paths[0], number=int(number))
    except ABCFileException as error:
        raise RequestError(
            f"tune_id: {name} has no tune X:{number} (received {tune_id!r})"
        ) from error


@functools.cache
def load_sample() -> tuple[dict[str, Any], ...]:
    """A fixed sample of 60 corpus tunes (``data/corpus_sample.json``, shipped with tunesmith).

    Each record has ``id``, ``title``, ``meter``, ``key`` and either ``text`` (the tune in
    tunesmith notation) or ``gap`` (why the notation cannot express it). Written by
    ``bench/make_corpus_sample.py``.
    """
    text = resources.files("tunesmith").joinpath("data", "corpus_sample.json").read_text("utf-8")
    return tuple(json.loads(text))
