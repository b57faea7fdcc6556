"""The critic: learned from the corpus, it prefers real tunes to degenerate ones."""

from __future__ import annotations

from tunesmith.candidates import choose
from tunesmith.corpus import load_sample
from tunesmith.critic import Judgement, judge
from tunesmith.notation import parse_tune as parse
from tunesmith.segments import LaneResult

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
