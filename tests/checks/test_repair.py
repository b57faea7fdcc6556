"""repair(): whatever comes in, what goes out satisfies the request; each change is logged."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies import tunes
from tunesmith import ComposeRequest
from tunesmith.checks.repair import repair
from tunesmith.checks.validate import validate
from tunesmith.errors import NotationError
from tunesmith.model.durations import split_duration
from tunesmith.model.notation import parse_tune, unparse
from tunesmith.model.score import Bar, ChordSymbol, Tune

JIG = ComposeRequest(notes=["A", "B", "C#", "F#", "G"], meter="6/8", bars=2, low="A4", high="A5")


def repaired(text: str, request: ComposeRequest = JIG) -> tuple[str, list[str]]:
    tune, log = repair(parse_tune(text), request)
    assert validate(tune, request).ok
    return unparse(tune), [f"{change.kind}@{change.bar}" for change in log]


def test_a_valid_tune_is_left_exactly_as_it_is() -> None:
    text = "A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. |"
    assert repaired(text) == (text, [])


def test_a_wrong_note_snaps_to_the_nearest_allowed_pitch() -> None:
    # D5 is a semitone from C#5 and three from B4
    assert repaired("A4:e B4:e D5:e F#5:q. | G5:q. A5:q. |") == (
        "A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. |",
        ["pitch@1"],
    )


def test_between_two_equally_near_pitches_the_one_nearer_the_previous_note_wins() -> None:
    # A#4 is one semitone from both A4 and B4
    assert repaired("A4:e B4:e A#4:e F#5:q. | G5:q. A5:q. |")[0].startswith("A4:e B4:e B4:e")
    assert repaired("A4:e A4:e A#4:e F#5:q. | G5:q. A5:q. |")[0].startswith("A4:e A4:e A4:e")


def test_a_note_out_of_range_moves_by_octaves_when_its_pitch_class_is_allowed() -> None:
    assert repaired("A4:e B4:e C#4:e F#5:q. | G5:q. A5:q. |") == (
        "A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. |",
        ["octave@1"],
    )


def test_an_overfull_bar_is_trimmed_and_an_underfull_one_padded() -> None:
    assert repaired("A4:q. B4:q. C#5:q | G5:q. A5:q |") == (
        "A4:q. B4:q. | G5:q. A5:q. |",
        ["trim@1", "pad@2"],
    )


def test_missing_bars_repeat_the_tune_from_the_start_and_extra_bars_are_dropped() -> None:
    assert repaired("A4:h. |", JIG) == ("A4:h. | A4:h. |", ["add bars@2"])
    assert repaired("A4:h. | A5:h. | B4:h. |", JIG) == ("A4:h. | A5:h. |", ["drop bars@3"])
    five = JIG.model_copy(update={"bars": 5})
    assert repaired("B4:q. A4:q.~ | A4:q. C#5:q. |", five) == (
        "B4:q. A4:q.~ | A4:q. C#5:q. | B4:q. A4:q.~ | A4:q. C#5:q. |\nB4:q. A4:q. |",
        ["add bars@3"],  # from bar 1 again, and the last bar's tie let go
    )


def test_a_pickup_is_kept_and_extra_bars_after_it_are_dropped() -> None:
    assert repaired("C#5:e | A4:q. B4:q. | A4:q. A4:q. |") == (
        "C#5:e | A4:q. B4:q. | A4:q. A4:q. |",
        [],
    )
    assert repaired("C#5:e | A4:h. | A4:h. | B4:h. |") == (
        "C#5:e | A4:h. | A4:h. |",
        ["drop bars@4"],  # bars numbered as written: the pickup is bar 1
    )


def test_the_last_note_becomes_the_nearest_tonic() -> None:
    assert repaired("A4:q. B4:q. | G5:q. F#5:q. |") == ("A4:q. B4:q. | G5:q. A5:q. |", ["final@2"])


def test_a_tie_into_a_different_pitch_is_dropped() -> None:
    assert repaired("A4:q. B4:q.~ | A4:h. |") == ("A4:q. B4:q. | A4:h. |", ["tie@1"])


def test_a_tune_of_rests_becomes_the_tonic_held() -> None:
    assert repaired("r:h. | r:h. |") == ("A4:h. | A4:h. |", ["fill@None"])
    _, (fill,) = repair(parse_tune("r:h. | r:h. |"), JIG)
    assert str(fill) == "tune: fill: no notes -> 2 bars holding the tonic A4"


def test_a_note_across_the_barline_is_cut_at_it_and_not_tied_into_the_next_bar() -> None:
    # B4 would last to 7/2 quarter notes: cut to the 3/2 left, struck again in bar 2
    assert repaired("A4:q. B4:h | B4:q. A4:q. |") == (
        "A4:q. B4:q. | B4:q. A4:q. |",
        ["trim@1"],
    )


def test_an_underfull_bar_holds_its_last_note_to_the_barline() -> None:
    assert repaired("A4:q. B4:e | C#5:q. A4:q. |") == (
        "A4:q. B4:q. | C#5:q. A4:q. |",
        ["pad@1"],
    )


def test_a_bar_whose_gap_no_duration_fills_holds_its_first_note_untied() -> None:
    # a 32nd-note triplet and a half leave 11/12 of a quarter note: no duration is that long
    assert repaired("A4:t3 B4:h | A4:h. |") == ("A4:h. | A4:h. |", ["pad@1"])


def test_a_bar_of_rests_whose_gap_no_duration_fills_becomes_one_rest() -> None:
    assert repaired("r:t3 r:h | A4:h. |") == ("r:h. | A4:h. |", ["pad@1"])


def test_a_bar_ending_on_a_triplet_note_is_padded_with_a_rest() -> None:
    # the last note and the gap (a third and a half of a quarter) make no plain length
    assert repaired("A4:q. B4:e3 C#5:e3 A4:e3 | A4:q. A4:q. |") == (
        "A4:q. B4:e3 C#5:e3 A4:e3 r:e | A4:q. A4:q. |",
        ["pad@1"],
    )


def test_an_empty_bar_is_filled_with_a_rest() -> None:
    tune = parse_tune("A4:q. A4:q. | A4:q. A4:q. |")
    fixed, log = repair(Tune((Bar(()), tune.bars[1])), JIG)
    assert unparse(fixed) == "r:h. | A4:q. A4:q. |"
    assert [(change.kind, change.bar) for change in log] == [("pad", 1)]


def test_a_note_longer_than_any_duration_is_written_as_tied_pieces() -> None:
    five_four = ComposeRequest(notes=["A", "B"], meter="5/4", bars=2, low="A4", high="A5")
    assert repaired("r:w r:q | r:h. r:h |", five_four) == (
        "A4:w~ A4:q | A4:w~ A4:q |",
        ["fill@None"],
    )


def test_the_repeated_last_bar_lets_go_of_its_tie_and_keeps_all_its_notes() -> None:
    three = JIG.model_copy(update={"bars": 3})
    assert repaired("B4:e C#5:e F#5:e A4:q.~ | A4:q. A5:q. |", three) == (
        "B4:e C#5:e F#5:e A4:q.~ | A4:q. A5:q. | B4:e C#5:e F#5:e A4:q. |",
        ["add bars@3"],
    )


def test_a_note_cut_at_chords_without_a_common_tone_takes_the_tone_nearer_the_note_before() -> None:
    request = ComposeRequest(key="A", meter="9/8", bars=2)
    at, lengths = [Fraction(n, 2) for n in (0, 3, 6, 9)], [Fraction(3, 2)] * 3 + [Fraction(9, 2)]
    lane = tuple(map(ChordSymbol, at, lengths, ["A", "D", "E", "A"]))  # D and E share no tone
    # F#4 is a D tone; under E it moves to E4 or G#4, as near as each other
    for before, tone in [("A4", "G#4"), ("E4", "E4")]:
        tune, _ = repair(parse_tune(f"{before}:e F#4:w | A4:h. A4:q. |"), request, harmony=lane)
        assert validate(tune, request, harmony=lane).ok
        assert unparse(tune) == f"{before}:e F#4:q F#4:q. {tone}:q. | A4:h. A4:q. |"


def test_split_duration_writes_any_length_as_the_fewest_tied_durations_triplets_last() -> None:
    assert split_duration(Fraction(11, 4)) == (Fraction(2), Fraction(3, 4))  # not 8/3 + 1/12
    assert split_duration(Fraction(21, 8)) == (Fraction(7, 4), Fraction(7, 8))  # double dots
    assert split_duration(Fraction(4, 3)) == (Fraction(4, 3),)  # only a triplet reaches it
    assert split_duration(Fraction(5, 12)) == (Fraction(1, 3), Fraction(1, 12))


def test_a_length_no_durations_add_up_to_is_a_notation_error() -> None:
    with pytest.raises(NotationError, match=r"1/5 quarter notes cannot be written"):
        split_duration(Fraction(1, 5))


def test_an_allowed_note_in_another_spelling_is_left_as_written() -> None:
    # Gb is F#: valid for a request on F#, so repair keeps the spelling and logs nothing
    request = ComposeRequest(notes=["F#", "B", "C#"], meter="2/4", bars=2, low="F#4", high="F#5")
    assert repaired("Gb4:q Gb4:q | Gb4:q F#4:q |", request) == ("Gb4:q Gb4:q | Gb4:q F#4:q |", [])
    assert repaired("Gb5:q Gb4:q | Gb3:q F#4:q |", request) == (
        "Gb5:q Gb4:q | F#4:q F#4:q |",  # only the note out of range moves (and is respelled)
        ["octave@2"],
    )


requests = st.builds(
    ComposeRequest,
    notes=st.lists(
        st.sampled_from(["C", "D", "Eb", "E", "F#", "G", "A", "Bb", "B"]),
        min_size=1,
        max_size=7,
        unique=True,
    ),
    meter=st.sampled_from(["2/4", "3/4", "4/4", "6/8", "9/8", "12/8", "7/8", "5/4", "2/2", "3/8"]),
    bars=st.integers(1, 12),
    low=st.just("C3"),
    high=st.sampled_from(["C5", "G5", "C6"]),
)


@settings(max_examples=100, deadline=None)
@given(tunes, requests)
def test_any_tune_repaired_for_any_request_satisfies_it_and_repair_is_idempotent(
    tune: Tune, request: ComposeRequest
) -> None:
    fixed, _ = repair(tune, request)
    assert validate(fixed, request).ok, validate(fixed, request)
    assert repair(fixed, request) == (fixed, [])
    assert parse_tune(unparse(fixed)) == fixed


def test_repair_returns_the_tune_and_the_changes_by_name() -> None:
    request = ComposeRequest(notes=["A", "B", "C#", "F#", "G"], meter="3/4", bars=1)
    repaired = repair(parse_tune("D5:h. |"), request)
    tune, repairs = repaired  # unpacks as the pair it always was
    assert (repaired.tune, repaired.repairs) == (tune, repairs)
    assert [change.kind for change in repaired.repairs][:1] == ["pitch"]
