"""Musical metrics: each one measures what its name says."""

from __future__ import annotations

import statistics

import pytest

from tunesmith.checks.metrics import COMPARED, distance, measure
from tunesmith.errors import RequestError
from tunesmith.model.notation import parse_tune

SCALE = parse_tune("C4:q D4:q E4:q F4:q | G4:q A4:q B4:q C5:q |")
DRONE = parse_tune("C4:q C4:q C4:q C4:q | C4:q C4:q C4:q C4:q |")


def test_a_rising_scale_moves_by_step_in_one_direction_and_ends_on_its_tonic() -> None:
    metrics = measure(SCALE, tonic_semitone=0)
    assert metrics.stepwise_share == 1.0
    assert metrics.contour_changes == 0.0
    assert metrics.pitch_range == 12
    assert metrics.ends_on_tonic
    assert metrics.interval_histogram == {1: 2, 2: 5}


def test_a_drone_has_no_pitch_variety_and_repeats_its_bars() -> None:
    metrics = measure(DRONE, tonic_semitone=0)
    assert metrics.pitch_class_entropy == 0.0
    assert metrics.repeat_share == 1.0
    assert metrics.bar_repetition == 0.5
    assert metrics.rhythm_entropy == 0.0


def test_eight_equally_long_pitch_classes_have_three_bits_of_entropy() -> None:
    assert measure(SCALE).pitch_class_entropy == pytest.approx(2.75, abs=0.01)  # C twice as long
    assert (
        measure(parse_tune("C4:q D4:q E4:q F4:q | G4:q A4:q B4:q C#5:q |")).pitch_class_entropy
        == 3.0
    )


def test_a_tied_note_is_one_melodic_note() -> None:
    assert measure(parse_tune("C4:h D4:h~ | D4:h E4:h |")).notes == 3


def test_distance_is_zero_for_the_reference_mean_and_grows_with_difference() -> None:
    reference = [measure(SCALE), measure(parse_tune("C4:q E4:q D4:q F4:q | E4:q G4:q F4:q C4:q |"))]
    mean = reference[0].model_copy(
        update={
            name: statistics.fmean(float(getattr(m, name)) for m in reference) for name in COMPARED
        }
    )
    assert distance(mean, reference) == 0.0
    assert 0.0 < distance(measure(SCALE), reference) < distance(measure(DRONE), reference)


def test_distance_needs_two_reference_tunes() -> None:
    with pytest.raises(
        RequestError, match=r"distance needs at least two reference tunes \(received 1\)"
    ):
        distance(measure(SCALE), [measure(SCALE)])


def test_the_reference_is_the_corpus_tunes_of_the_meter_or_all_of_them() -> None:
    from tunesmith.checks.corpus import load_sample
    from tunesmith.checks.metrics import reference_metrics

    expressible = [r for r in load_sample() if "text" in r]
    jigs = [r for r in expressible if r["meter"] == "6/8"]
    assert len(reference_metrics("6/8")) == len(jigs)
    assert len(reference_metrics(None)) == len(expressible)
    assert len(reference_metrics("11/16")) == len(expressible)  # too few of that meter
