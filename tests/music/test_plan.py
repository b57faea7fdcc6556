"""Plans: parts as long as tradition has them, phrases that answer, cadences in their place."""

from __future__ import annotations

import pytest

from tunesmith.errors import ConstraintError
from tunesmith.music.plan import PlannedBar, corpus_forms, plan_for
from tunesmith.music.rhythm import corpus_rhythm, drawn_index
from tunesmith.requests.presets import style_presets

JIG = style_presets()["jig"]


def test_sixteen_bars_of_a_jig_are_its_a_and_b_parts_once_each() -> None:
    plan = plan_for(16, style=JIG)
    assert (plan.form, plan.part_bars, len(plan.bars)) == ("AB", 8, 16)
    assert plan.played() == list(range(16))


def test_thirty_two_bars_of_a_jig_are_aabb_written_once_and_played_twice() -> None:
    plan = plan_for(32, style=JIG)
    assert (plan.form, len(plan.bars)) == ("AABB", 16)
    assert plan.played() == [*range(8), *range(8), *range(8, 16), *range(8, 16)]
    assert plan.repeated_parts() == {0, 1}


def test_a_pickup_is_written_first_and_heard_once_before_the_parts() -> None:
    plain = plan_for(32, style=JIG)
    plan = plain.with_pickup()
    assert plan.pickup
    assert plan.bars[0] == PlannedBar(0, 0, None, None)
    assert plan.played() == [0, *range(1, 9), *range(1, 9), *range(9, 17), *range(9, 17)]
    assert [bar.source for bar in plan.bars[1:]] == [
        None if bar.source is None else bar.source + 1 for bar in plain.bars
    ]
    assert plan.copying_only(lambda index, source: False).pickup
    assert plan.with_pickup() == plan


def test_bars_five_and_six_echo_bars_one_and_two_and_parts_share_their_ending() -> None:
    plan = plan_for(16, style=JIG)
    sources = [bar.source for bar in plan.bars]
    assert sources[4:6] == [0, 1]  # A: a b c d a b e f
    assert sources[12:14] == [8, 9]  # B echoes its own opening
    assert sources[14:16] == [6, 7]  # and ends as A ends
    assert plan.new_bars == 10


def test_each_part_has_an_open_middle_and_a_closed_end() -> None:
    plan = plan_for(16, style=JIG)
    cadences = {index + 1: bar.cadence for index, bar in enumerate(plan.bars) if bar.cadence}
    assert cadences == {4: "half", 8: "full", 12: "half"}  # bar 16 repeats bar 8's close


def test_a_request_form_shares_the_bars_equally() -> None:
    plan = plan_for(24, form="ABA", style=JIG)
    assert (plan.parts, plan.part_bars, plan.played()[16:]) == ("AB", 8, list(range(8)))
    with pytest.raises(ConstraintError, match=r"form 'ABA' has 3 parts.*multiple of 3"):
        plan_for(16, form="ABA")


def test_bars_that_do_not_fill_the_styles_parts_make_one_part() -> None:
    plan = plan_for(12, style=JIG)
    assert (plan.form, plan.part_bars) == ("A", 12)
    assert [bar.source for bar in plan.bars] == [None] * 12


@pytest.mark.parametrize("name", sorted(style_presets()))
def test_every_style_plan_repeats_only_bars_already_written(name: str) -> None:
    style = style_presets()[name]
    plan = plan_for(int(style["bars"]), style=style)
    for index, bar in enumerate(plan.bars):
        assert bar.source is None or bar.source < index
        if bar.number == plan.part_bars:  # every part closes: its last bar or what it repeats
            closing = bar if bar.source is None else plan.bars[bar.source]
            assert closing.cadence == "full"


def test_a_seeded_dance_repeats_bars_as_a_real_tune_of_its_meter_does() -> None:
    patterns = [tuple(pattern) for pattern in corpus_forms()["6/8"]]
    drawn = [
        tuple(bar.source for bar in plan_for(16, style=JIG, seed=seed).bars) for seed in range(40)
    ]
    assert all(sources in patterns for sources in drawn)
    assert len(set(drawn)) >= 20  # no one template: the seed picks among the corpus's forms


def test_a_seeded_dance_repeats_the_bars_that_the_real_tune_whose_rhythm_it_draws_repeats() -> None:
    repeats = (corpus_rhythm("jig") or {})["repeats"]
    checked = 0
    for seed in range(20):
        own = repeats[drawn_index(len(repeats), seed)]
        if own is not None:  # else a pattern of another real jig
            assert [bar.source for bar in plan_for(16, style=JIG, seed=seed).bars] == own
            checked += 1
    assert checked >= 10


def test_a_drawn_plan_is_the_same_for_the_same_seed_and_keeps_its_cadences() -> None:
    plan = plan_for(16, style=JIG, seed=11)
    assert plan == plan_for(16, style=JIG, seed=11)
    for index, bar in enumerate(plan.bars):
        if bar.source is None and bar.number in {4, 8}:
            assert bar.cadence == ("half" if bar.number == 4 else "full"), index
        if bar.source is not None:
            assert bar.source < index
            assert bar.cadence is None


def test_the_corpus_forms_end_each_part_on_a_new_cadence_or_the_first_parts() -> None:
    for meter, patterns in corpus_forms().items():
        assert len(patterns) >= 30, meter
        assert all(pattern[7] is None and pattern[15] in {None, 7} for pattern in patterns)


def test_repeated_bars_in_drawn_jigs_are_as_common_as_in_the_corpus() -> None:
    repeated = [
        sum(bar.source is not None for bar in plan_for(16, style=JIG, seed=seed).bars) / 16
        for seed in range(200)
    ]
    corpus = [sum(s is not None for s in pattern) / 16 for pattern in corpus_forms()["6/8"]]
    assert abs(sum(repeated) / 200 - sum(corpus) / len(corpus)) < 0.05


def test_without_a_seed_or_outside_the_dances_the_style_keeps_its_phrase_plan() -> None:
    assert plan_for(16, style=JIG) == plan_for(16, style={**JIG, "repeats": None}, seed=3)
    # twelve bars of a jig are one part of 12: no real tune's 8-bar pattern fits it
    assert plan_for(12, style=JIG, seed=3) == plan_for(12, style=JIG)


def test_a_plan_can_write_a_copy_as_a_new_bar_with_its_cadence() -> None:
    plan = plan_for(16, style=JIG)  # bars 5-6 copy 1-2, 15-16 copy 7-8
    kept = plan.copying_only(lambda index, source: index != 15)
    assert kept.bars[15] == PlannedBar(1, 8, None, "full")  # B's end, written anew, closes
    assert [bar.source for bar in kept.bars[:15]] == [bar.source for bar in plan.bars[:15]]
