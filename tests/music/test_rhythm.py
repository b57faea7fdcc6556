"""Meters from music21, rhythm cells and cadence bars, from a style's data or derived."""

from __future__ import annotations

from fractions import Fraction

import pytest

from tunesmith.errors import ConstraintError
from tunesmith.model.notes import duration_code
from tunesmith.music.rhythm import Cell, meter_of, rhythm_for, style_rhythm
from tunesmith.requests.presets import style_presets


@pytest.mark.parametrize(
    ("meter", "beat", "beats", "compound"),
    [
        ("6/8", Fraction(3, 2), 2, True),
        ("9/8", Fraction(3, 2), 3, True),
        ("12/16", Fraction(3, 4), 4, True),
        ("2/2", Fraction(2), 2, False),
        ("3/4", Fraction(1), 3, False),
        ("15/16", Fraction(3, 4), 5, True),
    ],
)
def test_a_meters_beat_is_music21s(meter: str, beat: Fraction, beats: int, compound: bool) -> None:
    facts = meter_of(meter)
    assert (facts.beat_length, len(facts.beats), facts.compound) == (beat, beats, compound)


@pytest.mark.parametrize(
    "meter",
    ["6/8", "2/2", "4/4", "3/4", "2/4", "9/8", "12/16", "15/16", "3/16", "9/16", "7/8", "5/4"],
)
def test_every_meter_gets_cells_that_fill_its_bars_and_a_cadence_on_a_long_note(
    meter: str,
) -> None:
    rhythm = rhythm_for(meter_of(meter))
    assert all(cell.length == rhythm.cell_length for cell in rhythm.cells)
    last = rhythm.cadence[-1]
    assert last is not None
    assert len(last.durations) == 1
    assert last.durations[0] >= rhythm.cell_length


def test_a_jig_is_built_from_the_cells_real_jigs_use() -> None:
    rhythm = style_rhythm(meter_of("6/8"), style_presets()["jig"])
    e, q = Fraction(1, 2), Fraction(1)
    assert {cell.durations for cell in rhythm.cells} == {
        (e, e, e),  # 69% of real jigs' beats (bench/make_rhythms.py)
        (q, e),  # 18%
    }  # not a quarter after an eighth, which real jigs hardly use; ornaments come with
    # the bar rhythms of real jigs (bar_rhythms = "corpus")
    assert rhythm.cadence == (None, Cell((Fraction(3, 2),), (False,)))  # without a seed


def test_a_style_of_its_own_cells_keeps_them() -> None:
    polka = style_presets()["polka"]
    rhythm = style_rhythm(meter_of("2/4"), polka)
    assert [" ".join(map(duration_code, cell.durations)) for cell in rhythm.cells] == polka["cells"]


def test_a_style_that_gives_no_long_notes_gets_none_a_polka_keeps_moving() -> None:
    polka = style_presets()["polka"]
    assert polka["long"] == []
    rhythm = rhythm_for(meter_of("2/4"), cell=polka["cell"], cells=polka["cells"], long=[])
    assert rhythm.long == ()
    assert rhythm_for(meter_of("2/4")).long != ()  # no style: the meter's default long notes


def test_a_hornpipe_ends_its_parts_on_three_crotchets() -> None:
    hornpipe = style_presets()["hornpipe"]
    rhythm = rhythm_for(meter_of("4/4"), cadence=hornpipe["cadence"], cell=hornpipe["cell"])
    assert [slot.durations if slot else None for slot in rhythm.cadence] == [(Fraction(1),)] * 4
    assert rhythm.cadence[-1] is not None
    assert rhythm.cadence[-1].rests == (True,)


def test_cells_that_do_not_fill_the_cell_length_are_refused() -> None:
    with pytest.raises(ConstraintError, match=r"every rhythm cell must last 3/2 quarter notes"):
        rhythm_for(meter_of("6/8"), cell="q.", cells=["e e"])
    with pytest.raises(ConstraintError, match="unknown duration 'x'"):
        Cell.parse("e x")
