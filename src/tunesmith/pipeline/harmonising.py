"""Chords and a band under the user's melody, returned as a :class:`Composition`.

::

    from tunesmith import harmonise
    c = harmonise("melody.mid", style="jig")       # chords that fit it, a bass and drums
    c.save_midi("band.mid")
    print(c.report)                                 # what was read and which chords

The chords and the band are tunesmith's rules (:mod:`tunesmith.band.harmonise`), no model;
the melody comes back note for note as the user wrote it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from tunesmith.band.harmonise import Rhythm, harmonise_score
from tunesmith.errors import RequestError
from tunesmith.pipeline.composition import Composition, ReworkReport
from tunesmith.pipeline.context import context_of, load_score, part_name
from tunesmith.requests.request import MAX_BARS

__all__ = ["harmonise"]


def harmonise(
    source: Any,
    *,
    style: str = "folk",
    parts: Sequence[str] = ("chords", "bass", "drums"),
    instruments: Mapping[str, str | int] | None = None,
    rhythm: Rhythm = "strong",
    keep_chords: bool = True,
) -> Composition:
    """Chords and a band under a melody: its score with a harmony lane and ``parts``.

    ``source`` is a MIDI, MusicXML, ABC or tunesmith notation file, a
    :class:`~tunesmith.Score` or a :class:`~tunesmith.Composition`. The chords are the
    key's triads (and the major dominant in a minor key) that best fit its melody, one a
    strong beat (``rhythm="beat"``: a beat, ``"bar"``: a bar); a score that has chord
    symbols keeps them unless ``keep_chords=False``. Parts of the roles in ``parts`` that
    the score had are played anew (``parts=()``: the chords alone). ``style`` picks the
    band's patterns and instruments; ``instruments`` changes them
    (``{"chords": "accordion"}``). The report says what was read from the file and which
    chords were chosen.

    Raises
    ------
    ReadError
        The file cannot be read.
    RequestError
        An unknown part, instrument or rhythm, or a score without a part of notes.
    """
    started = time.perf_counter()
    score, name = load_score(source)
    if not score.melody.tune.notes:
        raise RequestError(
            f"the melody of {name} has no notes: harmonise puts chords under a melody; "
            "give a score whose melody has pitches"
        )
    harmonised = harmonise_score(
        score,
        style=style,
        parts=parts,
        instruments=instruments,
        rhythm=rhythm,
        keep_chords=keep_chords,
    )
    index = score.parts.index(score.melody)
    context = context_of(score, name, index, min(score.bar_count, MAX_BARS), {})
    chords = " ".join(chord.figure for chord in harmonised.harmony)
    whose = "the score's own" if keep_chords and score.harmony else "chosen to fit the melody"
    report = ReworkReport(
        request=context.request,
        backend="tunesmith",
        model="harmonise (rules, no model)",
        constrained=False,
        attempts=(),
        violations=(),
        repairs=(),
        seconds=time.perf_counter() - started,
        operation="harmonise",
        source=name,
        part=part_name(score, index),
        context=context.inferred,
        locked=tuple(range(1, score.bar_count + 1)),
        written=(),
        notes=(
            f"chords ({whose}): {chords}",
            f"band: {', '.join(parts) or 'none'} in the {style} style",
        ),
    )
    return Composition(context.request, harmonised, report)
