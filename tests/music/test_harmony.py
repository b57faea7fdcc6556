"""Harmony: progressions over the bars, a chord tone on every strong beat, by grammar.

Most tests compose through :class:`band_checks.GrammarBound`, a server that writes a random
sentence of the grammar it gets: whatever a grammar-bound model writes, the melody fits its
chords in the MIDI file. Tests marked ``model`` run the embedded model.
"""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from band_checks import GrammarBound, assert_the_melody_fits_its_chords, chord_at, tracks
from conftest import JIG_NOTES
from grammar_walk import walk
from tunesmith import ChordError, ComposeRequest, RequestError, compose
from tunesmith.band.arrange import BASS_RANGE
from tunesmith.checks.repair import repair
from tunesmith.checks.validate import validate
from tunesmith.io.midi import DRUM_CHANNEL
from tunesmith.model.notation import parse_tune
from tunesmith.model.score import ChordSymbol, Tune
from tunesmith.music.harmony import held_too_long, read_marks, strong_beats
from tunesmith.music.progression import written_harmony
from tunesmith.music.rhythm import meter_of
from tunesmith.requests.presets import style_presets
from tunesmith.writing.plan_script import PlanScript
from tunesmith.writing.script import Writing

# -- strong beats ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meter", "beats"),
    [
        ("6/8", "0 3/2"),  # beats 1 and 4
        ("4/4", "0 2"),  # beats 1 and 3
        ("3/4", "0"),  # beat 1
        ("2/2", "0 2"),
        ("2/4", "0 1"),
        ("9/8", "0 3/2 3"),
        ("12/8", "0 3"),
        ("7/8", "0 1 2"),  # 2+2+3 eighths, as music21 groups them
    ],
)
def test_strong_beats_come_from_the_meter(meter: str, beats: str) -> None:
    assert strong_beats(meter_of(meter)) == tuple(Fraction(b) for b in beats.split())


# -- progressions --------------------------------------------------------------------------


def figures(request: ComposeRequest) -> list[str]:
    """The chords of each written bar, e.g. 'D G' for two in a bar."""
    harmony = written_harmony(request)
    assert harmony is not None
    assert harmony.bars is not None
    return [" ".join(chord.figure for _, chord in bar) for bar in harmony.bars]


def test_chords_between_bar_lines_share_their_bar_from_its_beats() -> None:
    request = ComposeRequest(key="D", style="jig", chords="D G | D A | D G | A D")
    harmony = written_harmony(request)
    assert harmony is not None
    assert harmony.bars is not None
    assert [(offset, chord.figure) for offset, chord in harmony.bars[1]] == [
        (Fraction(0), "D"),
        (Fraction(3, 2), "A"),
    ]
    assert figures(request) == ["D G", "D A", "D G", "A D"] * 4  # repeated over 16 bars


def test_roman_numerals_without_bar_lines_are_a_chord_a_bar_repeated_to_fill() -> None:
    request = ComposeRequest(key="A", mode="minor", meter="3/4", bars=16, chords="i iv V i")
    assert figures(request) == ["Am", "Dm", "E", "Am"] * 4


def test_a_progression_as_long_as_the_tune_as_heard_gives_each_written_bar_its_chords() -> None:
    a_part = ["D", "G", "D", "A", "D", "G", "A", "D"]
    b_part = ["G", "D", "G", "A", "G", "D", "A", "D"]
    request = ComposeRequest(key="D", style="jig", bars=32, chords=a_part * 2 + b_part * 2)
    assert figures(request) == a_part + b_part  # AABB: each part written once


def test_a_part_played_twice_needs_the_same_chords_both_times() -> None:
    chords = ["D"] * 8 + ["G"] * 7 + ["D"] + ["D"] * 16
    with pytest.raises(ChordError, match=r"bars 1 and 9 of the chords fall on the same bar"):
        ComposeRequest(key="D", style="jig", bars=32, chords=chords)


BAD_PROGRESSIONS = [
    ({"key": "D", "chords": "D Hm G D"}, "unknown chord 'Hm'", "Hm", 2),
    (
        {"key": "A", "mode": "minor", "chords": "i iv VIII i"},
        "unknown Roman numeral 'VIII'",
        "VIII",
        3,
    ),
    ({"key": "D", "chords": "D bVII D"}, "'bVII' in D major has the root C", "bVII", 2),
    ({"key": "D", "bars": 4, "chords": "D G A G D"}, "5 bars, more than the tune's 4", "", 5),
    (
        {"key": "D", "meter": "6/8", "chords": "D G A | D"},
        "3 chords, but a bar of 6/8 has 2",
        "D G A",
        1,
    ),
    (
        {"notes": ["A", "B", "C#"], "chords": "A Gm A"},
        r"Gm \(G Bb D\) has no note the tune",
        "Gm",
        2,
    ),
    (
        {"key": "D", "chords": "D A"},
        "the tune ends on its tonic D, but its last chord, A",
        "A",
        8,
    ),
]


@pytest.mark.parametrize(
    ("options", "message", "chord", "bar"),
    BAD_PROGRESSIONS,
    ids=[m for _, m, _, _ in BAD_PROGRESSIONS],
)
def test_a_bad_progression_is_a_chord_error_naming_the_chord_and_bar(
    options: dict[str, Any], message: str, chord: str, bar: int
) -> None:
    with pytest.raises(ChordError, match=message) as caught:
        ComposeRequest(**options)
    assert (caught.value.chord, caught.value.bar) == (chord, bar)


def test_chords_impossible_with_the_pitch_set_name_the_allowed_notes() -> None:
    with pytest.raises(ChordError) as caught:
        ComposeRequest(notes=JIG_NOTES, meter="6/8", chords="A Fm")
    assert caught.value.allowed == "A B C# F# G"
    assert "choose another chord or allow one of its notes" in str(caught.value)


# -- the grammar ---------------------------------------------------------------------------


def strong_notes(tune: Tune, meter: str) -> list[tuple[int, Fraction, int]]:
    """(bar, strong beat, MIDI key of the note sounding there)."""
    found = []
    for index, bar in enumerate(tune.bars):
        onset = Fraction(0)
        for event in bar.events:
            for beat in strong_beats(meter_of(meter)):
                if onset <= beat < onset + event.duration and event.pitches:
                    found.append((index, beat, event.pitches[-1].midi))
            onset += event.duration
    return found


def styles_with(chords: str) -> list[ComposeRequest]:
    """One 16-bar request per style preset (its meter, notes and key) with ``chords``."""
    return [
        ComposeRequest(style=name, bars=16, chords=chords, seed=1)
        for name in sorted(style_presets())
    ]


@pytest.mark.parametrize("spelling", ["abc", "notation"])
@pytest.mark.parametrize("request_", styles_with("I IV V I"), ids=lambda r: r.style)
def test_every_sentence_puts_a_tone_of_the_given_chord_on_every_strong_beat(
    request_: ComposeRequest, spelling: str
) -> None:
    writing = Writing.of(request_, spelling)
    harmony = writing.harmony
    assert harmony is not None
    assert harmony.bars is not None
    for seed in range(3):
        written = writing.read(walk(writing.whole_grammar(), random.Random(seed)))
        for bar, beat, key in strong_notes(written, request_.meter):
            chord = [c for offset, c in harmony.bars[bar] if offset <= beat][-1]
            assert key % 12 in chord.semitones, (bar, beat, key, chord)
        assert validate(writing.played(written), request_).ok  # and every other constraint


@pytest.mark.parametrize("request_", styles_with("auto"), ids=lambda r: r.style)
def test_with_auto_chords_each_bar_opens_with_a_chord_of_the_key_its_notes_fit(
    request_: ComposeRequest,
) -> None:
    writing = Writing.of(request_, "abc")
    harmony = writing.harmony
    assert harmony is not None
    assert harmony.tonic is not None
    assert harmony.dominant is not None
    text = walk(writing.whole_grammar(), random.Random(0))
    marks = read_marks(text)
    written = writing.read(text)
    assert len(marks) == len(written.bars) == len(writing.plan.bars)
    for bar, _, key in strong_notes(written, request_.meter):
        chord = marks[bar]
        assert chord is not None
        assert key % 12 in chord.semitones
    allowed = {*harmony.vocabulary, harmony.tonic, harmony.dominant}
    assert all(mark in allowed for mark in marks)
    assert marks[0] == harmony.tonic  # the tune opens on the tonic
    for index, planned in enumerate(writing.plan.bars):  # cadences by construction
        if planned.source is None and planned.cadence == "full":
            assert marks[index] == harmony.tonic
        if planned.source is None and planned.cadence == "half":
            assert marks[index] == harmony.dominant


def test_the_model_keeps_one_of_its_chords_two_bars_at_most() -> None:
    writing = Writing.of(ComposeRequest(notes=JIG_NOTES, meter="6/8", bars=16, chords="auto"))
    script = PlanScript(writing)
    script.texts = ['"A" cBc A3', '"A" cBB A3']  # two bars on A
    assert not script.allows('"A')  # only A can follow: refused as it is written
    assert script.allows('"F#m" ')
    script.texts = ['"D" cBc A3', '"A" cBB A3']
    assert script.allows('"A" ')
    vocabulary = {"A", "Am"}  # while Am can still follow "A, the mark goes on
    assert not held_too_long(['"A" a', "r:q."], '"A', 2, {"A"})  # a bar with no mark
    assert not held_too_long(['"A" a', '"A" b'], '"A', 2, vocabulary)
    assert held_too_long(['"A" a', '"A" b'], '"A"', 2, vocabulary)


# -- validation and repair -----------------------------------------------------------------


def lane(text: str, bar: Fraction) -> tuple[ChordSymbol, ...]:
    """A lane of one chord a bar: 'D G' over bars of ``bar`` quarter notes."""
    return tuple(ChordSymbol(i * bar, bar, figure) for i, figure in enumerate(text.split()))


def test_a_strong_beat_off_its_chord_is_a_violation_with_bar_and_beat() -> None:
    request = ComposeRequest(key="D", meter="6/8", bars=2)
    tune = parse_tune("D4:e E4:e F#4:e E4:q. | A4:q. D4:q. |")  # E4 on beat 4 of bar 1
    report = validate(tune, request, harmony=lane("D D", Fraction(3)))
    assert [str(v) for v in report.violations] == [
        "bar 1, beat 2: chord tone E4 (expected a tone of D (D F# A))"
    ]


def test_repair_moves_a_strong_beats_note_to_the_nearest_tone_of_its_chord() -> None:
    request = ComposeRequest(key="D", meter="6/8", bars=2)
    chords = lane("D G", Fraction(3))
    tune = parse_tune("E4:e E4:e F#4:e E4:q. | A4:q. D4:q. |")
    repaired, repairs = repair(tune, request, harmony=chords)
    assert [str(r) for r in repairs] == [
        "bar 1: chord tone: E4:e -> D4:e",
        "bar 1: chord tone: E4:q. -> F#4:q.",  # D4 and F#4 are as near: the previous note wins
        "bar 2: chord tone: A4:q. -> G4:q.",
    ]
    assert validate(repaired, request, harmony=chords).ok


NINE_EIGHT = ComposeRequest(key="A", meter="9/8", bars=2)


def nine_eight_lane(*figures: str) -> tuple[ChordSymbol, ...]:
    """Chords on the three beats of a 9/8 bar, then one for the second bar."""
    at = [Fraction(0), Fraction(3, 2), Fraction(3), Fraction(9, 2)]
    lengths = [Fraction(3, 2)] * 3 + [Fraction(9, 2)]
    return tuple(map(ChordSymbol, at, lengths, figures))


def test_a_note_held_over_chords_that_share_a_tone_moves_to_it_whole_keeping_its_tie() -> None:
    lane = nine_eight_lane("A", "D", "Bm", "D")  # D and Bm share D and F#
    tune = parse_tune("A4:e E4:w~ | E4:h. A4:q. |")
    repaired, repairs = repair(tune, NINE_EIGHT, harmony=lane)
    assert [str(r) for r in repairs] == [
        "bar 1: chord tone: E4:w~ -> F#4:w~",  # F#4 nearer A4, the note before, than D4
        "bar 2: chord tone: E4:h. -> F#4:h.",
    ]
    assert validate(repaired, NINE_EIGHT, harmony=lane).ok


def test_a_note_begun_before_its_chords_keeps_its_pitch_until_the_first_of_them() -> None:
    lane = nine_eight_lane("A", "D", "E", "A")  # D and E share no tone
    tune = parse_tune("A4:e A4:w | A4:h. A4:q. |")  # A4 begins off the beat, before D
    repaired, repairs = repair(tune, NINE_EIGHT, harmony=lane)
    assert [str(r) for r in repairs] == ["bar 1: chord tone: A4:w -> A4:q A4:q. G#4:q."]
    assert not any(event.tie for event in repaired.bars[0].events)  # struck again at each cut
    assert validate(repaired, NINE_EIGHT, harmony=lane).ok


def test_a_double_stop_is_judged_and_repaired_by_its_top_note_the_melody() -> None:
    request = ComposeRequest(key="D", meter="6/8", bars=2)
    chords = lane("D D", Fraction(3))
    on_top = parse_tune("[E4 F#4]:q. [G4 A4]:q. | [C#4 D4]:h. |")  # tops D chord tones
    assert validate(on_top, request, harmony=chords).ok
    assert repair(on_top, request, harmony=chords)[1] == []
    under = parse_tune("[D4 E4]:q. [F#4 G4]:q. | [A4 B4]:h. |")  # bottoms D chord tones
    report = validate(under, request, harmony=chords)
    assert [(v.bar, v.beat, v.found) for v in report.violations if v.kind == "chord_tone"] == [
        (1, 1.0, "E4"),
        (1, 2.0, "G4"),
        (2, 1.0, "B4"),
        (2, 2.0, "B4"),
    ]
    repaired, repairs = repair(under, request, harmony=chords)
    assert [str(r) for r in repairs] == [
        "bar 1: chord tone: [D4 E4]:q. -> [D4 D4]:q.",
        "bar 1: chord tone: [F#4 G4]:q. -> [F#4 F#4]:q.",
        "bar 2: chord tone: [A4 B4]:h. -> [A4 A4]:h.",
        "bar 2: final: [A4 A4]:h. -> [A4 D5]:h.",
    ]
    assert validate(repaired, request, harmony=chords).ok


def test_a_note_held_over_chords_that_share_no_tone_is_cut_at_the_strong_beat() -> None:
    request = ComposeRequest(key="D", meter="6/8", bars=2)
    chords = (
        ChordSymbol(Fraction(0), Fraction(3, 2), "D"),
        ChordSymbol(Fraction(3, 2), Fraction(3, 2), "Em"),
        ChordSymbol(Fraction(3), Fraction(3), "D"),
    )
    tune = parse_tune("D4:h. | D4:h. |")
    repaired, _ = repair(tune, request, harmony=chords)
    assert [str(p) for e in repaired.bars[0].events for p in e.pitches] == ["D4", "E4"]
    assert validate(repaired, request, harmony=chords).ok


@settings(max_examples=40, deadline=None)
@given(
    keys=st.lists(st.integers(60, 84), min_size=12, max_size=12),
    chords=st.lists(
        st.sampled_from(["D", "G", "A", "Bm", "Em", "F#m", "A7", "D/F#"]), min_size=4, max_size=4
    ),
)
def test_whatever_the_notes_repair_puts_every_strong_beat_on_a_chord_tone(
    keys: list[int], chords: list[str]
) -> None:
    request = ComposeRequest(key="D", meter="6/8", bars=4)
    text = " | ".join(
        " ".join(f"{_name(k)}:e" for k in keys[i * 3 : i * 3 + 3]) + " r:q." for i in range(4)
    )
    chords[-1] = "D"
    repaired, _ = repair(
        parse_tune(text + " |"), request, harmony=lane(" ".join(chords), Fraction(3))
    )
    assert validate(repaired, request, harmony=lane(" ".join(chords), Fraction(3))).ok


def _name(key: int) -> str:
    names = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
    return f"{names[key % 12]}{key // 12 - 1}"


# -- composing: every progression form, every meter, to the MIDI file ------------------------

FORMS = [
    {"key": "D", "style": "jig", "chords": "D G | D A | D G | A D"},
    {"key": "A", "mode": "minor", "meter": "3/4", "bars": 16, "chords": "i iv V i"},
    {"notes": JIG_NOTES, "meter": "6/8", "bars": 16, "chords": "auto"},
    {"key": "G", "style": "reel", "chords": ["G", "C D", "G Em", "D G"]},
    {"key": "D", "meter": "4/4", "bars": 4, "chords": "D Bm/F# | G A7 | Em7 A | D"},
]


@pytest.mark.parametrize("options", FORMS, ids=lambda o: str(o["chords"]))
def test_every_progression_form_reaches_the_midi_file_with_the_melody_on_chord_tones(
    options: dict[str, Any],
) -> None:
    composition = compose(**options, seed=2, backend=GrammarBound(seed=2))
    assert_the_melody_fits_its_chords(composition)
    assert composition.report.chord_tones == 1.0  # as written, before any repair
    assert composition.report.repairs == ()
    assert composition.score.harmony, "the chords are in the score"


@pytest.mark.parametrize("style", sorted(style_presets()))
def test_every_style_meter_composes_with_chords_through_to_the_midi_file(style: str) -> None:
    composition = compose(style=style, bars=16, chords="auto", seed=3, backend=GrammarBound(seed=3))
    assert_the_melody_fits_its_chords(composition)
    assert len(tracks(composition.to_midi_bytes())) == 1  # a lead sheet: the chords as symbols


@pytest.mark.parametrize("style", sorted(style_presets()))
def test_every_style_meter_has_its_band_in_the_midi_file(style: str) -> None:
    composition = compose(style=style, bars=16, band=True, seed=4, backend=GrammarBound(seed=4))
    assert_the_melody_fits_its_chords(composition)
    melody, chords, bass, drums = tracks(composition.to_midi_bytes())  # one track per part
    assert drums.channel == DRUM_CHANNEL
    assert DRUM_CHANNEL not in {melody.channel, chords.channel, bass.channel}
    assert all(BASS_RANGE[0] <= key <= BASS_RANGE[1] for key, _, _, _ in bass.notes)
    played = composition.score.expanded()
    for key, onset, _, _ in chords.notes:  # the chords part plays the chord sounding there
        assert key % 12 in chord_at(played.harmony, onset).semitones


def test_a_server_without_a_grammar_gets_its_chord_tones_repaired() -> None:
    wrong = "E4:e F#4:e G4:e A4:q. | B4:q. A4:q. | G4:e F#4:e E4:e D4:q. | E4:q. D4:q. |"
    server = GrammarBound(answer=wrong, supports_grammar=False)
    composition = compose(
        key="D", meter="6/8", bars=4, chords="D G | D A | D G | A D", max_attempts=1, backend=server
    )
    assert {v.kind for v in composition.report.violations} == {"chord_tone"}
    assert {r.kind for r in composition.report.repairs} == {"chord tone"}
    assert composition.report.chord_tones == 0.5
    assert_the_melody_fits_its_chords(composition)
    assert "50% of strong beats on a chord tone as written" in str(composition.report)


def test_auto_chords_from_a_server_that_wrote_no_marks_are_the_best_fit_ending_on_the_tonic() -> (
    None
):
    answer = "D4:e F#4:e A4:e G4:q. | B4:q. G4:q. | A4:e C#5:e E5:e A4:q. | F#4:q. D4:q. |"
    server = GrammarBound(answer=answer, supports_grammar=False)
    composition = compose(
        key="D", meter="6/8", bars=4, chords="auto", max_attempts=1, backend=server
    )
    assert [c.figure for c in composition.score.harmony] == ["D", "G", "A", "D"]
    assert_the_melody_fits_its_chords(composition)


def test_the_chords_stand_in_musicxml_and_abc() -> None:
    composition = compose(
        key="D", style="jig", bars=16, chords="D G | A D", seed=1, backend=GrammarBound(seed=1)
    )
    assert composition.to_musicxml().count(b"<harmony") >= 16
    assert '"D"' in composition.to_abc()
    assert '"A"' in composition.to_abc()


def test_chords_is_a_request_option_that_the_report_names() -> None:
    request = ComposeRequest(key="D", chords=" D  G |  A D ")
    assert request.chords == "D G | A D"
    with pytest.raises(ChordError, match="no chords given"):
        ComposeRequest(key="D", chords=" | ")
    with pytest.raises(RequestError, match="unknown option 'chord'"):
        ComposeRequest(key="D", chord="D")


# -- the embedded model ----------------------------------------------------------------------


@pytest.mark.model
def test_the_embedded_model_writes_a_jig_over_given_chords_on_chord_tones() -> None:
    composition = compose(key="D", style="jig", bars=16, chords="D G | D A | D G | A D", seed=7)
    assert_the_melody_fits_its_chords(composition)
    assert composition.report.chord_tones == 1.0  # by grammar: nothing to repair
    assert composition.report.violations == ()
    assert [c.figure for c in composition.score.harmony][:4] == ["D", "G", "D", "A"]


@pytest.mark.model
def test_the_embedded_model_writes_its_own_chords_on_the_guides_five_notes() -> None:
    composition = compose(notes=JIG_NOTES, meter="6/8", bars=16, chords="auto", seed=7)
    assert_the_melody_fits_its_chords(composition)
    chosen = composition.report.attempts[composition.report.chosen - 1].text  # type: ignore[operator]
    assert chosen.startswith('|:"A" ')  # the model's ABC opens on the tonic chord's mark
    figures = [c.figure for c in composition.score.harmony]
    assert figures[-1] == "A"
    assert set(figures) <= {"A", "F#m", "Em"}
