"""Hypothesis strategies for tunesmith's data model."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import strategies as st

from tunesmith.score import ACCIDENTALS, DURATIONS, STEPS, Bar, Event, Pitch, Tune

pitches = st.builds(
    Pitch,
    step=st.sampled_from(STEPS),
    alter=st.sampled_from(sorted(ACCIDENTALS.values())),
    octave=st.integers(1, 8),
)
durations = st.sampled_from(sorted(set(DURATIONS.values())))


@st.composite
def events(draw: st.DrawFn, duration: st.SearchStrategy[Fraction] = durations) -> Event:
    """A rest, a note or a chord; notes and chords may be tied."""
    kind = draw(st.sampled_from(["note", "note", "note", "rest", "chord"]))
    length = draw(duration)
    if kind == "rest":
        return Event.rest(length)
    count = 1 if kind == "note" else draw(st.integers(2, 4))
    chord = tuple(
        draw(st.lists(pitches, min_size=count, max_size=count, unique_by=lambda p: p.midi))
    )
    return Event(chord, length, draw(st.booleans()))


bars = st.builds(Bar, st.lists(events(), min_size=1, max_size=8).map(tuple))
tunes = st.builds(Tune, st.lists(bars, min_size=1, max_size=12).map(tuple))
