"""Hypothesis strategies for tunesmith's data model."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import assume
from hypothesis import strategies as st

from tunesmith.errors import NotationError, ScoreError
from tunesmith.model.header import MODES
from tunesmith.model.score import (
    ACCIDENTALS,
    DURATIONS,
    STEPS,
    Bar,
    ChordSymbol,
    Event,
    Header,
    Key,
    Part,
    Pitch,
    PitchClass,
    Repeat,
    Role,
    Score,
    Tune,
    split_duration,
)

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


# -- scores -------------------------------------------------------------------------------

METERS = ("4/4", "3/4", "2/4", "6/8", "9/8", "12/8", "2/2", "5/8", "7/8", "3/8")
names = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp")), max_size=12
)


LENGTHS = sorted(set(DURATIONS.values()))


def reachable(length: Fraction) -> bool:
    """Whether tied notes of tunesmith notation can last ``length``."""
    try:
        split_duration(length)
    except NotationError:
        return False
    return True


@st.composite
def fill(draw: st.DrawFn, length: Fraction, drums: bool = False) -> Bar:
    """A bar of exactly ``length`` quarter notes: drawn events, the rest filled with rests."""
    events: list[Event] = []
    left = length
    while left and draw(st.booleans()):
        fitting = [d for d in LENGTHS if d == left or (d < left and reachable(left - d))]
        if not fitting:
            break
        duration = draw(st.sampled_from(fitting))
        if drums:
            kit = draw(st.lists(st.sampled_from(DRUMS), min_size=1, max_size=3, unique=True))
            event = (
                Event.hit(tuple(kit), duration) if draw(st.integers(0, 4)) else Event.rest(duration)
            )
        else:
            event = draw(events_of(duration))
        events.append(event)
        left -= duration
    events += [Event.rest(piece) for piece in (split_duration(left) if left else ())]
    return Bar(tuple(events))


DRUMS = ("kick", "snare", "closed-hat", "open-hat", "crash", "ride", "low-tom", "cowbell", "key-27")


def events_of(duration: Fraction) -> st.SearchStrategy[Event]:
    return events(st.just(duration))


def _key(tonic: str, mode: str) -> Key | None:
    try:
        return Key(PitchClass.parse(tonic), mode)
    except ScoreError:  # more than seven sharps or flats
        return None


KEYS = [
    key
    for tonic in ("C", "G", "D", "A", "F", "Bb", "Eb", "F#", "E")
    for mode in MODES
    if (key := _key(tonic, mode)) is not None
]


@st.composite
def headers(draw: st.DrawFn) -> Header:
    meter = draw(st.sampled_from(METERS))
    key = draw(st.none() | st.sampled_from(KEYS))
    notes = draw(
        st.none()
        | st.lists(
            st.sampled_from([PitchClass.parse(n) for n in ("A", "B", "C#", "F#", "G", "D")]),
            min_size=1,
            max_size=5,
            unique=True,
        ).map(tuple)
    )
    tempo = draw(st.integers(40, 240).map(float) | st.sampled_from([72.5, 116.25]))
    title = draw(names.map(lambda t: " ".join(t.split())))
    return Header(meter, key, tempo, title=title, notes=notes)


@st.composite
def scores(draw: st.DrawFn, *, max_bars: int = 6) -> Score:
    """Scores of one to four parts (a drum part among them), chords and repeats."""
    header = draw(headers())
    count = draw(st.integers(1, max_bars))
    lengths = [header.bar_length] * count
    if count > 1 and draw(st.booleans()):
        lengths[0] = draw(
            st.sampled_from(
                [d for d in (Fraction(1, 2), Fraction(1), Fraction(3, 2)) if d < header.bar_length]
            )
        )
    pitched: list[Role] = ["melody", "counter", "chords", "bass"]
    any_role: list[Role] = ["melody", "counter", "chords", "bass", "drums"]
    roles = [draw(st.sampled_from(pitched))]  # one pitched part
    roles += draw(st.lists(st.sampled_from(any_role), max_size=3))
    parts = tuple(
        Part(
            tuple(draw(fill(length, drums=role == "drums")) for length in lengths),
            name=draw(names.map(lambda t: " ".join(t.split()))),
            role=role,
            program=draw(st.integers(0, 127)),
        )
        for role in roles
    )
    assume(any(e.pitches or e.drums for part in parts for bar in part.bars for e in bar.events))
    score = Score(header, parts)
    harmony = []
    now = Fraction(0)
    for onset in sorted(
        set(draw(st.lists(st.sampled_from(range(int(score.duration * 2))), max_size=6)))
    ):
        at = Fraction(onset, 2)
        if at < now:
            continue
        length = Fraction(draw(st.integers(1, 8)), 2)
        length = min(length, score.duration - at)
        harmony.append(ChordSymbol(at, length, draw(st.sampled_from(FIGURES))))
        now = at + length
    repeats = []
    free = 0
    while free < count and draw(st.booleans()):
        start = draw(st.integers(free, count - 1))
        end = draw(st.integers(start + 1, count))
        ending = draw(st.integers(0, end - start - 1))
        repeats.append(Repeat(start, end, ending))
        free = min(end + ending, count)
    return Score(header, parts, tuple(harmony), tuple(repeats))


FIGURES = ("C", "Am", "G7", "F#m7", "Bbmaj7", "D/F#", "Esus4", "Bdim", "Ebm7b5", "C7b9", "Bb/D")
