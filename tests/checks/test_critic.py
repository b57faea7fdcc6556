"""The critic: learned from the corpus, it prefers real tunes to degenerate ones."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from tunesmith.backends.local import LocalBackend
from tunesmith.checks.corpus import load_sample
from tunesmith.checks.critic import Judgement, interval_loglik, judge, rhythm_key, rhythm_loglik
from tunesmith.checks.critic import _data as critic_data
from tunesmith.checks.critic import _distance as distance_from_corpus
from tunesmith.checks.metrics import COMPARED, TuneMetrics, measure
from tunesmith.decoding.segments import LaneResult
from tunesmith.errors import RequestError
from tunesmith.model.notation import parse_tune as parse
from tunesmith.model.score import Tune
from tunesmith.pipeline.candidates import (
    attempts,
    candidate,
    choose,
    drawn_seed,
    explain_choice,
    lane_count,
)
from tunesmith.pipeline.composition import Candidate

LOOP = "D4:e F#4:e A4:e D4:e F#4:e A4:e | " * 8
ZIGZAG = "D4:e D5:e D4:e D5:e D4:e D5:e | A4:e A5:e A4:e A5:e A4:e A5:e | " * 4


def test_real_jigs_score_higher_than_a_one_bar_loop_and_a_zigzag() -> None:
    jigs = [parse(r["text"]) for r in load_sample() if r.get("meter") == "6/8" and "text" in r]
    assert len(jigs) >= 3
    real = sorted(judge(tune, "6/8").score for tune in jigs)
    loop, zigzag = judge(parse(LOOP), "6/8"), judge(parse(ZIGZAG), "6/8")
    assert real[len(real) // 2] > loop.score
    assert real[len(real) // 2] > zigzag.score
    assert zigzag.intervals < min(judge(tune, "6/8").intervals for tune in jigs)


def test_a_meter_the_corpus_lacks_is_judged_against_the_closest_one() -> None:
    tune = parse("D4:e E4:e F#4:e G4:q A4:q | B4:q A4:q G4:e F#4:e E4:q |")
    assert judge(tune, "7/8").score == judge(tune, "7/8").score  # deterministic
    assert "distance" in str(judge(tune, "7/8"))


def _judgement(score: float) -> Judgement:
    """A judgement whose score is ``score`` (all of it from the distance to the corpus)."""
    metrics = judge(parse(LOOP), "6/8", 2).metrics
    return Judgement(0.0, 0.0, -score, 0.0, 0.0, metrics)


def test_the_critics_best_wins_among_the_candidates_that_keep_the_rules() -> None:
    judgements = [_judgement(score) for score in (-3.0, -1.0, -2.0, -0.5)]
    lanes = [LaneResult("", accepted_with_problems=n) for n in (0, 0, 0, 1)]
    # the fourth scores best but kept a bar that broke a rule
    assert choose(judgements, lanes) == (1, [0, 1, 2])


def test_with_every_candidate_breaking_rules_the_fewest_breaks_come_first() -> None:
    judgements = [_judgement(score) for score in (-0.1, -2.0, -1.0)]
    lanes = [LaneResult("", accepted_with_problems=n) for n in (3, 1, 1)]
    assert choose(judgements, lanes) == (2, [1, 2])


def _parts(intervals_z: float, rhythm_z: float, distance: float) -> Judgement:
    metrics = judge(parse(LOOP), "6/8", 2).metrics
    return Judgement(0.0, 0.0, distance, intervals_z, rhythm_z, metrics)


def test_the_edge_is_the_part_of_the_score_that_gained_most() -> None:
    # the score counts how far each part is from the corpus's mean either way: |z|
    other = _parts(2.0, -2.0, 1.0)
    assert _parts(-0.5, -2.0, 1.0).edge_over(other) == "its intervals"
    assert _parts(-3.0, 0.5, 1.0).edge_over(other) == "its rhythms"
    assert _parts(2.0, -3.0, 0.5).edge_over(other) == "its melodic metrics"
    assert _parts(1.5, 1.0, 1.0).edge_over(other) == "its rhythms"
    assert _parts(1.0, 1.5, 1.0).edge_over(_parts(-2.0, 2.0, 1.0)) == "its intervals"
    assert _parts(2.5, -2.5, 0.0).edge_over(other) == "its melodic metrics"  # despite losses


def test_the_report_says_why_the_winner_won_against_the_next_best() -> None:
    judgements = [
        _parts(1.0, 1.0, 1.0),  # 1: score -3.0
        _parts(0.5, 0.25, 0.25),  # 2: score -1.0, the winner
        _parts(1.0, 0.25, 0.25),  # 3: score -1.5, the next
        _parts(0.0, 0.0, 0.0),  # 4: best of all, but broke a rule
    ]
    assert explain_choice(judgements, 1, [0, 1, 2], stopped=2) == (
        "candidate 2, the most like the corpus's tunes (score -1.00); of 3 candidates the "
        "next scored -1.50, and its intervals made the difference; 1 more kept a bar that "
        "broke a musical rule; 2 more stopped when they fell behind the first to finish"
    )
    assert explain_choice(judgements[:1], 0, [0]) == (
        "candidate 1, the most like the corpus's tunes (score -3.00)"
    )


def test_of_two_candidates_that_keep_the_rules_the_report_names_the_other_as_the_next() -> None:
    judgements = [_parts(1.0, 0.25, 0.25), _parts(0.5, 0.25, 0.25)]  # scores -1.5 and -1.0
    assert explain_choice(judgements, 1, [0, 1]) == (
        "candidate 2, the most like the corpus's tunes (score -1.00); of 2 candidates the "
        "next scored -1.50, and its intervals made the difference"
    )


def test_the_report_records_each_candidates_judgement_and_costs_rounded_to_four_places() -> None:
    metrics = _parts(0, 0, 0).metrics
    judgement = Judgement(-1.234567, -2.345678, 0.456789, 0.111111, -0.222222, metrics)
    lane = LaneResult(
        "", tokens=120, forced_tokens=40, retries=3, refused_tokens=17, accepted_with_problems=2
    )
    assert candidate(4, judgement, lane) == Candidate(
        number=4,
        score=-0.7901,  # -(|0.111111| + |-0.222222| + 0.456789), to four places
        intervals=-1.2346,
        rhythm=-2.3457,
        distance=0.4568,
        tokens=120,
        redrawn_tokens=17,
        rewritten_bars=3,
        kept_breaking_rules=2,
    )


def test_interval_likelihood_is_add_one_smoothed_over_25_clipped_intervals() -> None:
    # D4 E4 F#4 D4 F#5: intervals +2 +2 -4 +16, the last clipped to an octave (+12)
    tune = parse("D4:q E4:q F#4:q D4:q | F#5:w |")
    bigrams = {"2": {"2": 3, "-4": 1}, "-4": {"12": 5, "0": 1}}
    expected = (math.log(4 / 29) + math.log(2 / 29) + math.log(6 / 31)) / 3
    assert interval_loglik(tune, bigrams) == pytest.approx(expected)
    assert interval_loglik(parse("D4:h E4:h |"), bigrams) == 0.0  # one interval: no pair


def test_rhythm_likelihood_is_add_one_smoothed_over_the_rhythms_seen() -> None:
    tune = parse("D4:q E4:q F#4:h | D4:w | E4:h E4:h |")
    rhythms = {"1 1 2": 6, "4": 2, "1/2 1/2 3": 1}  # 9 bars seen, 3 rhythms and one unseen
    expected = (math.log(7 / 13) + math.log(3 / 13) + math.log(1 / 13)) / 3
    assert rhythm_loglik(tune, rhythms) == pytest.approx(expected)
    assert rhythm_key([Fraction(1, 2), Fraction(3, 2)]) == "1/2 3/2"


JIG_TUNE = "D4:e F#4:e A4:e B4:q A4:e | F#4:e E4:e D4:e E4:q. | D4:e F#4:e A4:e d5:q B4:e | A4:h. |"


def test_a_judgement_puts_the_tunes_likelihoods_and_metrics_in_the_corpus_spread() -> None:
    tune = parse(JIG_TUNE.replace("d5", "D5"))
    data, intervals = critic_data()["meters"]["6/8"], critic_data()["intervals"]
    judgement = judge(tune, "6/8", tonic=2)
    assert judgement.metrics == measure(tune, 2)
    assert judgement.metrics != measure(tune, None)  # the tonic given is the one measured
    assert judgement.intervals == interval_loglik(tune, intervals)
    assert judgement.rhythm == rhythm_loglik(tune, data["rhythms"])
    mean, spread = data["intervals_spread"]
    assert judgement.interval_z == pytest.approx((judgement.intervals - mean) / spread)
    mean, spread = data["rhythm_spread"]
    assert judgement.rhythm_z == pytest.approx((judgement.rhythm - mean) / spread)
    metrics = judgement.metrics
    expected = [
        abs(float(getattr(metrics, name)) - data["metrics"][name][0])
        / (data["metrics"][name][1] or 1.0)
        for name in COMPARED
    ]
    assert judgement.distance == pytest.approx(sum(expected) / len(expected))


@pytest.mark.parametrize(
    ("meter", "closest"),
    [("12/8", "6/4"), ("11/8", "3/2"), ("2/8", "2/4"), ("3/16", "3/8"), ("6/8", "6/8")],
)
def test_a_meter_is_judged_by_the_nearest_bar_of_the_same_kind_of_beat(
    meter: str, closest: str
) -> None:
    tune = parse("D4:q E4:q | F#4:q G4:q | A4:h |")
    assert judge(tune, meter).rhythm_z == judge(tune, closest).rhythm_z


def test_three_notes_give_one_pair_of_intervals_to_judge() -> None:
    # D4 E4 F#4: intervals +2 +2, one pair; "2" then "2" was seen 3 times in a row of 4
    bigrams = {"2": {"2": 3, "-4": 1}}
    assert interval_loglik(parse("D4:q E4:q F#4:h |"), bigrams) == pytest.approx(math.log(4 / 29))


def test_an_interval_pair_the_corpus_never_saw_counts_once_among_its_row_and_25() -> None:
    # D4 E4 D4 E4: intervals +2 -2 +2; "2" then "-2" is missing from a row of 4, and
    # nothing ever followed "-2": a row of none
    bigrams = {"2": {"2": 3, "-4": 1}}
    expected = (math.log(1 / 29) + math.log(1 / 25)) / 2
    assert interval_loglik(parse("D4:q E4:q D4:q E4:q |"), bigrams) == pytest.approx(expected)


def test_a_tune_without_bars_has_no_intervals_or_rhythms_to_judge() -> None:
    empty = Tune(bars=())
    assert interval_loglik(empty, {"2": {"2": 3}}) == 0.0
    assert rhythm_loglik(empty, {"4": 2, "1 1 2": 6}) == 0.0


def test_the_distance_is_the_mean_of_the_metrics_deviations_from_the_corpus() -> None:
    metrics = TuneMetrics(
        notes=5,
        pitch_class_entropy=2.0,
        pitch_range=7,
        stepwise_share=1.0,
        repeat_share=0.0,
        mean_leap=1.75,
        contour_changes=0.25,
        rhythm_entropy=1.0,
        bar_repetition=0.5,
        ends_on_tonic=None,
        interval_histogram={2: 4},
    )
    spread = {
        "pitch_class_entropy": [2.0, 0.5],  # typical: 0
        "pitch_range": [4.0, 0.0],  # every corpus tune spans 4: 3 over, counted as 3
        "stepwise_share": [0.5, 0.25],  # 2 deviations above
        "repeat_share": [0.25, 0.125],  # 2 deviations below
        "mean_leap": [2.75, 2.0],  # half a deviation below
        "contour_changes": [0.25, 0.1],  # typical: 0
        "rhythm_entropy": [1.0, 0.0],  # every corpus tune agrees, and so does this one: 0
        "bar_repetition": [0.25, 0.5],  # half a deviation above
    }
    assert set(spread) == set(COMPARED)
    assert distance_from_corpus(metrics, spread) == pytest.approx((3 + 2 + 2 + 0.5 + 0.5) / 8)


# -- the lanes candidates are written in ---------------------------------------------------


def test_more_candidates_than_the_backend_has_lanes_is_a_request_error_naming_both() -> None:
    backend = LocalBackend()  # the model loads on first use, not here
    assert lane_count(backend, None) == backend.lanes
    assert lane_count(backend, 1) == 1
    with pytest.raises(
        RequestError,
        match=rf"candidates must be between 1 and {backend.lanes} for this backend "
        rf"\(received {backend.lanes + 1}\)",
    ):
        lane_count(backend, backend.lanes + 1)


def test_a_request_without_a_seed_draws_one_a_request_can_hold() -> None:
    assert (drawn_seed(7), drawn_seed(0)) == (7, 0)
    drawn = [drawn_seed(None) for _ in range(200)]
    assert all(0 <= seed < 2**31 for seed in drawn)  # ComposeRequest's seed range
    assert len(set(drawn)) > 190  # from the whole range, not a few values


def test_each_candidate_is_an_attempt_numbered_from_one_with_its_text_and_tokens() -> None:
    lanes = [LaneResult("A4:q |", tokens=5), LaneResult("B4:q |", tokens=7)]
    found = attempts(lanes, 1.5)
    assert [(a.number, a.text, a.completion_tokens) for a in found] == [
        (1, "A4:q |", 5),
        (2, "B4:q |", 7),
    ]
    assert all(
        (a.prompt_tokens, a.finish_reason, a.seconds, a.problems) == (0, "stop", 1.5, ())
        for a in found
    )
