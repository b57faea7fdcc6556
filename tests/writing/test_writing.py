"""A planned tune written bar by bar: the lane script's segments, without the model.

A random walk through each bar's grammar stands in for the model, so these tests run in
milliseconds and cover every branch of the plan: forced echoes, cadences, joins, registers.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from fractions import Fraction

import pytest

from corpus_tunes import seed_with_pickup
from grammar_walk import walk
from tunesmith import ComposeRequest, compose
from tunesmith.checks.validate import validate
from tunesmith.decoding.segments import Forced, Free
from tunesmith.model.score import ChordSymbol, Pitch, Tune
from tunesmith.music.harmony import chord_at, lane_of, misfits
from tunesmith.music.rhythm import Cell, corpus_rhythm, drawn_index, meter_of
from tunesmith.writing.plan_script import PlanScript
from tunesmith.writing.script import Writing


def write(writing: Writing, seed: int) -> tuple[str, list[Forced | Free]]:
    """What a lane writes when each free bar is a random sentence of its grammar."""
    rng, script, text, segments = random.Random(seed), PlanScript(writing), "", []
    while (segment := script.next_segment(text)) is not None:
        segments.append(segment)
        text += segment.text if isinstance(segment, Forced) else walk(segment.grammar, rng)
    return text, segments


@pytest.mark.parametrize("style", ["jig", "reel", "hornpipe", "polka", "slip jig", "waltz", "air"])
@pytest.mark.parametrize("seed", range(4))
def test_every_planned_tune_keeps_every_constraint_and_its_plan(style: str, seed: int) -> None:
    request = ComposeRequest(style=style, key="D", bars=32)
    writing = Writing.of(request)
    text, segments = write(writing, seed)
    written = writing.read(text)
    plan = writing.plan
    assert len(written.bars) == len(plan.bars)
    for index, bar in enumerate(plan.bars):
        if bar.source is not None:
            assert written.bars[index] == written.bars[bar.source]
            assert isinstance(segments[index], Forced)
        else:
            assert isinstance(segments[index], Free)
    assert validate(writing.played(written), request).ok


def test_a_bar_that_leads_into_a_repeated_bar_ends_within_reach_of_it() -> None:
    writing = Writing.of(ComposeRequest(style="jig", key="D", bars=16))
    leap = writing.request.constraints.max_leap
    for seed in range(10):
        written = writing.read(write(writing, seed)[0])
        for index, bar in enumerate(writing.plan.bars[:-1]):
            following = writing.plan.bars[index + 1]
            if bar.source is None and following.source is not None:
                last = written.bars[index].events[-1].pitches[0].midi
                first = written.bars[following.source].events[0].pitches[0].midi
                assert abs(first - last) <= leap


def test_the_b_part_opens_higher_than_the_a_part() -> None:
    """Best effort: a bar that must start near a low note, or lead into a low one, may not."""
    writing = Writing.of(ComposeRequest(style="reel", key="G", bars=16))
    higher = 0
    for seed in range(10):
        bars = writing.read(write(writing, seed)[0]).bars
        a = [e.pitches[0].midi for bar in bars[0:4] for e in bar.events if e.pitches]
        b = [e.pitches[0].midi for bar in bars[8:12] for e in bar.events if e.pitches]
        higher += sum(b) / len(b) > sum(a) / len(a) + 2
    assert higher >= 8


class High:
    """Stands in for a model that keeps to the top of the range (its two highest notes)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def choice(self, options: list[tuple[str, str]]) -> tuple[str, str]:
        def height(literal: str) -> int:
            note = re.search(r"([A-Ga-g])([',]*)", literal)
            if note is None:
                return -100
            octaves = note.group(2).count("'") - note.group(2).count(",")
            return "CDEFGABcdefgab".index(note.group(1)) + 7 * octaves

        top = sorted({height(literal) for literal, _ in options})[-2:]
        return self.rng.choice([option for option in options if height(option[0]) in top])


def test_a_b_part_after_an_a_part_at_the_top_of_the_range_keeps_an_octave_to_move_in() -> None:
    writing = Writing.of(ComposeRequest(style="reel", key="G", bars=16))
    part = writing.plan.part_bars
    for seed in range(5):
        rng, script, text, index = random.Random(seed), PlanScript(writing), "", 0
        while (segment := script.next_segment(text)) is not None:
            walker = High(seed) if index < part else rng
            text += segment.text if isinstance(segment, Forced) else walk(segment.grammar, walker)
            index += 1
        bars = writing.read(text).bars
        opening = {e.pitches[0].midi for bar in bars[part : part + part // 2] for e in bar.events}
        assert max(opening) - min(opening) >= 7, sorted(opening)


def written_by_a_high_model(writing: Writing, seed: int) -> list[list[int]]:
    """The MIDI keys of each written bar, written by a model that keeps to the top."""
    script, text = PlanScript(writing), ""
    while (segment := script.next_segment(text)) is not None:
        text += segment.text if isinstance(segment, Forced) else walk(segment.grammar, High(seed))
    return [[p.midi for e in bar.events for p in e.pitches] for bar in writing.read(text).bars]


@pytest.mark.parametrize("seed", range(3))
def test_the_first_of_two_parts_opens_in_the_lower_part_of_the_range(seed: int) -> None:
    # the whistle plays D5-B6; a slip jig in G should open around G5, not on ledger lines
    writing = Writing.of(ComposeRequest(style="slip jig", key="G", instrument="whistle", bars=16))
    keys = [p.midi for p in writing.pitches]  # D5 E5 F#5 G5 A5 B5 C6 D6 E6 F#6 G6 A6 B6
    bars = written_by_a_high_model(writing, seed)
    part = writing.plan.part_bars
    opening = [k for bar in bars[: part // 2] for k in bar]
    assert max(opening) <= keys[round(0.7 * len(keys)) - 1]  # E6, the ninth of thirteen
    assert max(k for bar in bars[part:] for k in bar) > max(opening)  # the B part climbs


def test_a_tune_of_one_part_may_use_the_whole_range() -> None:
    writing = Writing.of(ComposeRequest(key="D", meter="4/4", bars=8, low="D4", high="D6"))
    assert len(writing.plan.parts) == 1
    assert max(k for bar in written_by_a_high_model(writing, 0) for k in bar) >= 81  # A5+


def test_the_script_refuses_a_bar_the_plan_does_not_repeat() -> None:
    writing = Writing.of(ComposeRequest(key="D", meter="4/4", bars=8))
    script = PlanScript(writing)
    first = script.next_segment("")
    assert isinstance(first, Free)
    bar = "|:D2E2 F2G2|"
    second = script.next_segment(bar)
    assert isinstance(second, Free)
    assert not script.allows("D2E2 F2G2|")  # bar 2 repeating bar 1
    assert script.allows("D2E2 F2A2|")


@pytest.mark.parametrize(
    ("style", "spelling", "penalty"),
    [("jig", "abc", 4.5), ("reel", "abc", 3.0), ("waltz", "abc", 0.0), ("jig", "notation", 0.0)],
)
def test_dance_bars_are_sampled_with_abc_note_lengths_discouraged(
    style: str, spelling: str, penalty: float
) -> None:
    # in ABC a long note carries a digit; the model likes them more than the corpus's dances
    script = PlanScript(Writing.of(ComposeRequest(style=style, key="D", bars=16), spelling))
    segment = script.next_segment("")
    assert isinstance(segment, Free)
    assert segment.penalty == penalty
    assert segment.penalised == frozenset("0123456789")


@pytest.mark.parametrize(
    ("request_", "home"),
    [
        (ComposeRequest(style="reel", key="G"), "G4"),  # a fiddle: G3-B5, not on the G string
        (ComposeRequest(style="air", key="E", mode="dorian"), "E5"),  # a whistle: D5-B6
        (ComposeRequest(style="waltz", key="F"), "F4"),  # an accordion: G3-C6
        (ComposeRequest(style="jig", key="D"), "D5"),  # a flute: D4-D6
    ],
)
def test_a_tune_opens_near_its_home_tonic_in_the_instruments_middle(
    request_: ComposeRequest, home: str
) -> None:
    low, high = Writing.of(request_).opening()
    tonic = Pitch.parse(home).midi
    assert (low, high) == (tonic - 5, tonic + 9)  # from the fifth below to the sixth above


@pytest.mark.model
def test_a_composed_waltz_opens_in_its_phrase_window_not_at_the_bottom_of_the_range() -> None:
    composition = compose(style="waltz", key="F", bars=8, seed=1)
    low, high = Writing.of(composition.request).opening()
    first = [e.pitches[-1].midi for e in composition.tune.bars[0].events if e.pitches]
    assert all(low <= key <= high for key in first)  # C4 to D5 around F4, on G3-C6
    opening = [
        e.pitches[-1].midi for bar in composition.tune.bars[:4] for e in bar.events if e.pitches
    ]
    assert min(opening) >= low


# Implied harmony: a dance tune's strong beats take the chords its real tune's melody implies

DANCES = [
    {"style": "jig", "key": "D"},
    {"style": "reel", "key": "E", "mode": "minor"},
    {"style": "hornpipe", "key": "Bb"},
    {"style": "waltz", "key": "F"},
    {"style": "march", "key": "A", "mode": "dorian"},
    {"style": "slip jig", "key": "G"},
    {"style": "air", "key": "E", "mode": "minor"},  # a real folk song's rhythm and chords
]


def implied_lane(writing: Writing) -> tuple[ChordSymbol, ...]:
    """The chords of the written bars after a pickup (a pickup leads to the first chord)."""
    harmony = writing.harmony
    assert harmony is not None
    assert harmony.implied
    assert harmony.bars is not None
    length = meter_of(writing.request.meter).bar_length
    bars = harmony.bars[writing.plan.pickup :]
    return lane_of(bars, [length] * len(bars))


@pytest.mark.parametrize("options", DANCES, ids=[d["style"] for d in DANCES])
@pytest.mark.parametrize("seed", range(3))
def test_a_dance_tunes_strong_beats_are_tones_of_the_chords_its_real_tune_implies(
    options: dict[str, str], seed: int
) -> None:
    writing = Writing.of(ComposeRequest(bars=16, seed=seed, **options))
    text, _ = write(writing, seed)
    written = Tune(writing.read(text).bars[writing.plan.pickup :])
    assert misfits(written, implied_lane(writing), meter_of(writing.request.meter)) == []


@pytest.mark.parametrize("seed", range(3))
def test_a_reels_note_on_every_quarter_is_a_tone_of_its_implied_chord(seed: int) -> None:
    # real reels outline their chords (gdBg); with the half bar's two beats alone the model
    # stepped through them (GABc dBcA), leaping a fourth or fifth 8% of the time, real reels 13%
    writing = Writing.of(ComposeRequest(style="reel", key="G", bars=16, seed=seed))
    text, _ = write(writing, seed)
    written = Tune(writing.read(text).bars[writing.plan.pickup :])
    lane, start = implied_lane(writing), Fraction(0)
    for bar in written.bars:
        offset = Fraction(0)
        for event in bar.events:
            quarters = range(math.ceil(offset), math.ceil(offset + event.duration))
            for quarter in quarters if event.pitches else ():
                chord = chord_at(lane, start + quarter)
                assert chord is not None
                assert event.pitches[-1].midi % 12 in chord.semitones, (bar, quarter)
            offset += event.duration
        start += bar.duration


def test_the_chords_are_those_of_the_tune_whose_rhythm_is_drawn_in_the_requests_key() -> None:
    writing = Writing.of(ComposeRequest(style="jig", key="G", bars=16, seed=7))
    measured = corpus_rhythm("jig")
    assert measured is not None
    drawn = drawn_index(len(measured["bars"]), 7)
    first = int(writing.plan.pickup)  # the real tune's bars follow its pickup
    scale = ["G", "A", "B", "C", "D", "E", "F#"]
    assert writing.harmony is not None
    assert writing.harmony.bars is not None
    new_bars = [i for i, bar in enumerate(writing.plan.bars) if bar.source is None][first:]
    last = len(writing.plan.bars) - 1
    assert str(writing.harmony.bars[last][-1][1].root) == "G"  # a tune ends on its tonic chord
    for index in new_bars[:-1] if new_bars[-1] == last else new_bars:
        degrees = [degree for _, degree in measured["harmony"][drawn][index - first]]
        roots = [str(chord.root) for _, chord in writing.harmony.bars[index]]
        if 6 not in degrees:  # F# has no major or minor triad in G: the chord before holds
            assert roots[-len(degrees) :] == [scale[degree] for degree in degrees], index
    cadence_free = [i for i in new_bars if writing.plan.bars[i].cadence is None]
    assert writing.slots[cadence_free[0]] == tuple(
        Cell.parse(slot) for slot in measured["bars"][drawn][cadence_free[0] - first]
    )


@pytest.mark.parametrize("seed", range(6))
def test_a_copied_bar_keeps_its_source_and_the_last_chord_is_the_tonic(seed: int) -> None:
    writing = Writing.of(ComposeRequest(style="reel", key="G", bars=16, seed=seed))
    harmony = writing.harmony
    assert harmony is not None
    assert harmony.bars is not None
    for index, bar in enumerate(writing.plan.bars):
        if bar.source is not None:
            assert harmony.bars[index] == harmony.bars[bar.source]
    assert harmony.bars[harmony.last][-1][1].figure == "G"


@pytest.mark.parametrize("style", ["jig", "reel", "hornpipe", "slip jig", "waltz", "march", "air"])
def test_a_tune_opens_with_the_pickup_of_the_real_tune_whose_rhythm_it_draws(style: str) -> None:
    seed = seed_with_pickup(style)
    request = ComposeRequest(style=style, key="D", bars=32, seed=seed)
    writing = Writing.of(request)
    pickups = (corpus_rhythm(style) or {})["pickups"]
    pickup = Cell.parse(pickups[drawn_index(len(pickups), seed)])
    text, _segments = write(writing, seed)
    tune = writing.played(writing.read(text))
    opening = tune.bars[0]
    assert tuple(event.duration for event in opening.events) == pickup.durations
    assert opening.duration < meter_of(request.meter).bar_length
    assert len(tune.bars) == 33  # heard once, not counted among the bars
    assert validate(tune, request).ok
    assert text.startswith("|:")
    assert text.count("|:") == len(writing.plan.parts)  # inside the first part's repeat
    assert writing.layout(0) == ("|:", "|")  # and on the first part's line
    assert writing.spec(0).chords == ()  # it leads to the first chord, free of it
    pickup_grammar = PlanScript(writing).next_segment("")
    assert isinstance(pickup_grammar, Free)
    for draw in range(20):  # any pickup the grammar allows leads in by a fourth at most
        (bar,) = writing.spelling.read(walk(pickup_grammar.grammar, random.Random(draw)))
        notes = [event.pitches[-1].midi for event in bar.events if event.pitches]
        assert all(abs(b - a) <= 5 for a, b in itertools.pairwise(notes))


@pytest.mark.parametrize("spelling", ["abc", "notation"])
def test_a_servers_answer_keeps_the_pickup_in_the_opening_range_or_leaves_it_out(
    spelling: str,
) -> None:
    request = ComposeRequest(style="waltz", key="D", bars=32, seed=seed_with_pickup("waltz"))
    writing = Writing.of(request, spelling)
    low, high = writing.opening()
    for draw in range(10):
        written = writing.read(walk(writing.whole_grammar(), random.Random(draw)))
        pickup = [e.pitches[-1].midi for e in written.bars[0].events if e.pitches]
        assert all(low <= key <= high for key in pickup)
        assert validate(writing.played(written), request).ok
        without = Tune(written.bars[1:])  # a model without a grammar may leave it out
        heard = writing.played(without)
        assert validate(heard, request).ok  # played AABB all the same
        assert heard.bars[:8] == heard.bars[8:16] == without.bars[:8]


@pytest.mark.parametrize(
    "options",
    [{"chords": "D G | A D"}, {"form": "AB"}, {"style": "polka"}, {"bars": 2}],
    ids=["chords-given", "form-given", "no-real-polkas", "a-two-bar-sketch"],
)
def test_chords_or_a_form_of_the_users_count_bars_from_the_first_bar_line(
    options: dict[str, str],
) -> None:
    seed = seed_with_pickup("jig")
    request = ComposeRequest(**{"style": "jig", "key": "D", "bars": 16, "seed": seed, **options})
    assert not Writing.of(request).plan.pickup
    assert Writing.of(ComposeRequest(style="jig", key="D", bars=16, seed=seed)).plan.pickup
    assert not Writing.of(
        ComposeRequest(style="jig", key="D", bars=16, seed=seed_with_pickup("jig", has=False))
    ).plan.pickup


@pytest.mark.parametrize(
    ("options", "implied"),
    [
        ({"style": "jig", "key": "D", "chords": "D G | A D"}, False),  # the user's chords win
        ({"style": "jig", "notes": ["A", "B", "C#", "F#", "G"]}, None),  # notes the user chose
        ({"style": "air", "key": "E", "mode": "minor"}, True),  # a real song's chords
        ({"style": "polka", "key": "G"}, None),  # no real polkas to draw from
    ],
    ids=["chords-given", "gapped-notes", "air", "polka"],
)
def test_only_a_style_of_real_tunes_in_a_full_scale_without_chords_takes_implied_ones(
    options: dict[str, object], implied: bool | None
) -> None:
    harmony = Writing.of(ComposeRequest(bars=16, seed=1, **options)).harmony
    assert (None if harmony is None else harmony.implied) is implied
