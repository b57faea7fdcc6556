"""validate(): every hard constraint checked, violations as data with bar and beat."""

from __future__ import annotations

from fractions import Fraction

import pytest

from tunesmith import ComposeRequest
from tunesmith.checks.repair import repair
from tunesmith.checks.validate import validate
from tunesmith.model.notation import parse, parse_tune
from tunesmith.model.score import Bar, Tune

JIG = ComposeRequest(notes=["A", "B", "C#", "F#", "G"], meter="6/8", bars=2, low="A4", high="A5")


def kinds(text: str, request: ComposeRequest = JIG) -> list[tuple[str, int | None, float | None]]:
    return [(v.kind, v.bar, v.beat) for v in validate(parse_tune(text), request).violations]


def test_a_tune_that_keeps_every_constraint_has_no_violations() -> None:
    report = validate(parse_tune("A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. |"), JIG)
    assert report.ok
    assert str(report) == "no violations"


def test_a_note_outside_the_pitch_set_is_named_with_its_bar_and_beat() -> None:
    report = validate(parse_tune("A4:e B4:e C#5:e F#5:q. | G5:q. D5:e A5:q |"), JIG)
    (violation,) = report.violations
    assert (violation.kind, violation.bar, violation.beat, violation.found) == (
        "pitch",
        2,
        2.0,
        "D5",
    )
    assert str(violation) == "bar 2, beat 2: pitch D5 (expected one of A B C# F# G)"


def test_a_report_lists_each_violation_on_a_line_of_its_own() -> None:
    report = validate(parse_tune("A4:e B4:e D5:e F#5:q. | G5:q. D5:e A5:q |"), JIG)
    assert str(report) == (
        "bar 1, beat 1.667: pitch D5 (expected one of A B C# F# G)\n"
        "bar 2, beat 2: pitch D5 (expected one of A B C# F# G)"
    )


def test_enharmonic_spellings_of_allowed_notes_are_allowed() -> None:
    assert kinds("A4:e B4:e Db5:e Gb5:q. | G5:q. A5:q. |") == []


def test_notes_outside_the_range_are_violations() -> None:
    assert kinds("A3:e B4:e C#5:e F#5:q. | G5:q. A5:q. |") == [("range", 1, 1.0)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A4:q. B4:q. | A4:q. A5:q |", [("bar_length", 2, None)]),
        ("A4:q. B4:q. C#5:e | A4:h. |", [("bar_length", 1, None)]),
    ],
)
def test_bars_must_last_exactly_one_bar_of_the_meter(text: str, expected: list[object]) -> None:
    assert kinds(text) == expected


def test_a_pickup_before_the_first_bar_line_is_neither_a_short_bar_nor_counted() -> None:
    assert kinds("A4:e | B4:q. A4:q. | A4:q A4:e A4:q r:e |") == []
    three = JIG.model_copy(update={"bars": 3})
    assert validate(parse_tune("A4:e | B4:q. A4:q. | A4:h. | A4:h. |"), three).ok
    (violation,) = validate(parse_tune("A4:e | B4:q. A4:q. |" + " A4:h. |" * 3), three).violations
    assert str(violation) == "tune: bar count 4 bars and a pickup (expected 3 bars)"
    # as many bars as asked for: the short first one is a bar too short, not a pickup
    assert kinds("A4:e | B4:q. A4:q. |") == [("bar_length", 1, None)]
    assert kinds("r:e | B4:q. A4:q. | A4:q. A4:q. |")[0] == ("bar_length", 1, None)  # a rest
    assert kinds("A4:e | B4:q. A4:q. | A4:q. |") == [("bar_length", 3, None)]  # as written
    assert kinds("D5:e | B4:q. A4:q. | A4:q A4:e A4:q r:e |") == [("pitch", 1, 1)]
    empty_first = Tune((Bar(()), *parse_tune("B4:q. A4:q. | A4:h. |").bars))
    assert not empty_first.has_pickup(Fraction(3))  # an empty bar is no pickup
    opening = parse_tune("A4:e | B4:q. A4:q. |")
    assert opening.has_pickup(Fraction(3), bars=1)
    assert not opening.has_pickup(Fraction(3), bars=2)  # as many bars as asked: too short
    assert [v.kind for v in validate(empty_first, JIG).violations] == ["bar_length", "bar_count"]


def test_the_bar_count_must_match() -> None:
    assert kinds("A4:q. B4:q. | A4:h. | A4:h. |") == [("bar_count", None, None)]


def test_a_violation_of_the_whole_tune_is_placed_in_the_tune_not_a_bar() -> None:
    (violation,) = validate(parse_tune("A4:q. B4:q. | A4:h. | A4:h. |"), JIG).violations
    assert str(violation) == "tune: bar count 3 bars (expected 2 bars)"


def test_the_last_note_must_be_the_tonic_even_when_a_rest_follows() -> None:
    assert kinds("A4:q. B4:q. | A4:q B4:q r:e r:e |") == [("final", 2, 1.667)]


def test_a_tie_must_lead_into_the_same_pitch() -> None:
    assert kinds("A4:q. B4:q.~ | A4:h. |") == [("tie", 1, 2.0)]


def test_a_tune_of_rests_is_empty() -> None:
    assert kinds("r:h. | r:h. |") == [("empty", None, None)]


@pytest.mark.parametrize(
    ("meter", "bar"),
    [
        ("6/8", "A4:q. A4:q."),
        ("9/8", "A4:q. A4:q. A4:q."),
        ("12/8", "A4:h. A4:h."),
        ("7/8", "A4:q A4:q A4:q."),
        ("5/4", "A4:h. A4:h"),
        ("2/2", "A4:h A4:h"),
        ("3/4", "A4:h."),
    ],
)
def test_bar_lengths_follow_the_meter(meter: str, bar: str) -> None:
    request = ComposeRequest(notes=["A"], meter=meter, bars=1)
    assert validate(parse_tune(bar), request).ok
    assert not validate(parse_tune(bar + " A4:e"), request).ok


def test_a_score_is_judged_by_its_melody_as_played_over_its_own_chords() -> None:
    request = ComposeRequest(key="G", meter="3/4", bars=6, low="D4", high="G5")
    score = parse(
        "meter: 3/4\nkey: G major\n\npart: Flute\nrole: melody\nprogram: 73\n"
        "|: G4:h B4:q | C5:h. :| D5:h B4:q | G4:h. |\n\nharmony:\n|: G:h. | G:h. :| G:h. | G:h. |\n"
    )
    report = validate(score, request)
    played = score.expanded()
    assert report == validate(played.melody.tune, request, harmony=played.harmony)
    violations = [(v.kind, v.bar) for v in report.violations]
    assert violations == [("chord_tone", 2), ("chord_tone", 4)]  # C5 on G, played twice
    assert validate(score, request, harmony=()).violations == ()  # chords given win
    tune, repairs = repair(score, request)
    assert validate(tune, request, harmony=played.harmony).violations == ()
    assert len(tune.bars) == 6
    assert [r.bar for r in repairs] == [2, 4]
