"""ComposeRequest: every field validated, every bad value a typed error that says how to fix it."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from tunesmith import ComposeRequest, ConstraintError, NoteNameError, RequestError


def test_a_pitch_set_request_resolves_to_spelled_pitches_in_range_and_its_tonic() -> None:
    request = ComposeRequest(notes=["A", "B", "C#", "F#", "G"], meter="6/8", low="A4", high="A5")
    constraints = request.constraints
    assert [str(p) for p in constraints.pitches] == ["A4", "B4", "C#5", "F#5", "G5", "A5"]
    assert str(constraints.tonic) == "A"
    assert [str(p) for p in constraints.tonic_pitches] == ["A4", "A5"]
    assert constraints.bar_length == Fraction(3)
    assert constraints.beat_length == Fraction(3, 2)


def test_a_pitch_set_gets_the_key_signature_of_a_mode_on_its_tonic_that_holds_it() -> None:
    # A B C# F# G fits A mixolydian: the key signature of D major, two sharps
    assert ComposeRequest(notes="A B C# F# G").constraints.key_sharps == 2


@pytest.mark.parametrize(
    ("key", "mode", "expected", "sharps"),
    [
        ("D", "dorian", "D E F G A B C", 0),
        ("Bb", "major", "Bb C D Eb F G A", -2),
        ("E", "minor", "E F# G A B C D", 1),
        ("A", "harmonic minor", "A B C D E F G#", 0),  # A minor's, G# written out
        ("G", "mixolydian", "G A B C D E F", 0),
    ],
)
def test_key_and_mode_resolve_with_music21_scales(
    key: str, mode: str, expected: str, sharps: int | None
) -> None:
    constraints = ComposeRequest(key=key, mode=mode).constraints
    assert " ".join(map(str, constraints.pitch_classes)) == expected
    assert constraints.key_sharps == sharps


def test_without_pitches_the_tune_is_in_c_major() -> None:
    assert ComposeRequest().constraints.description == "C major"


def test_enharmonic_spellings_are_the_same_pitch_class() -> None:
    sharp = ComposeRequest(notes=["F#", "A"]).constraints.semitones
    flat = ComposeRequest(notes=["Gb", "A"]).constraints.semitones
    assert sharp == flat


@pytest.mark.parametrize(
    ("name", "program"),
    [
        ("flute", 73),
        ("Acoustic Grand Piano", 0),
        ("fiddle", 110),
        ("violin", 40),
        (73, 73),
        ("tin whistle", 78),
        ("guitar", 24),
    ],
)
def test_instruments_are_general_midi_names_aliases_or_program_numbers(
    name: str | int, program: int
) -> None:
    assert ComposeRequest(instrument=name).constraints.program == program


def test_a_request_is_frozen() -> None:
    request = ComposeRequest()
    with pytest.raises(ValueError, match="frozen"):
        request.bars = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"notes": ["A", "H"]}, NoteNameError, r"unknown note name 'H'.*letter A-G"),
        ({"notes": ["C#x5"]}, NoteNameError, r"unknown note name 'C#x5'"),
        ({"notes": []}, RequestError, r"at least one note"),
        ({"meter": "7/0"}, RequestError, r"D one of 1, 2, 4, 8, 16 \(received '7/0'\)"),
        ({"meter": "4/3"}, RequestError, r"received '4/3'"),
        ({"meter": "waltz"}, RequestError, r"meter must be N/D.*received 'waltz'"),
        ({"bars": 0}, RequestError, r"bars must be between 1 and 256 \(received 0\)"),
        ({"bars": -4}, RequestError, r"received -4"),
        ({"bars": 100000}, RequestError, r"received 100000"),
        ({"bars": "many"}, RequestError, r"bars: .*valid integer.*received 'many'"),
        ({"tempo": 0}, RequestError, r"tempo must be between 10 and 400.*received 0"),
        ({"tempo": -90}, RequestError, r"received -90"),
        ({"key": "Q"}, NoteNameError, r"key: unknown note name 'Q'"),
        ({"key": "D", "mode": "klingon"}, RequestError, r"unknown mode 'klingon'.*dorian"),
        ({"mode": "dorian"}, ConstraintError, r"mode='dorian' needs a key"),
        ({"notes": ["A"], "key": "D"}, ConstraintError, r"either notes= or key="),
        ({"low": "A5", "high": "A3"}, ConstraintError, r"inverted: low=A5 is above high=A3"),
        ({"low": "Z9"}, NoteNameError, r"unknown pitch 'Z9'"),
        ({"notes": ["C"], "low": "D4", "high": "B4"}, ConstraintError, r"D4-B4 contains none"),
        ({"notes": ["A", "D"], "low": "B4", "high": "C5"}, ConstraintError, r"contains none"),
        ({"notes": ["A", "D"], "low": "C4", "high": "G4"}, ConstraintError, r"no A, the tonic"),
        ({"instrument": "kazooo"}, RequestError, r"unknown instrument 'kazooo'.*program number"),
        ({"instrument": 128}, RequestError, r"between 0 and 127 \(received 128\)"),
        ({"bar": 8}, RequestError, r"unknown option 'bar'.*bars"),
    ],
)
def test_bad_values_raise_typed_errors_naming_the_field_and_what_is_allowed(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        ComposeRequest(**options)


def test_a_style_preset_fills_in_what_the_user_left_out() -> None:
    request = ComposeRequest(style="folk jig", notes=["A", "B", "C#", "F#", "G"])
    assert (request.meter, request.bars, request.tempo, request.instrument) == (
        "6/8",
        32,  # AABB with 8-bar parts, as a jig is played
        116,
        "Flute",
    )


def test_what_the_user_sets_wins_over_the_style_preset() -> None:
    request = ComposeRequest(style="reel", meter="2/2", bars=8, instrument="flute", key="G")
    assert (request.meter, request.bars, request.instrument) == ("2/2", 8, "Flute")
    assert request.constraints.description == "G major"


def test_the_longest_preset_name_in_the_style_text_wins() -> None:
    assert ComposeRequest(style="a slip jig for dancers").meter == "9/8"


def test_a_preset_may_bring_its_own_scale_unless_the_user_gives_pitches() -> None:
    assert ComposeRequest(style="modal chant").constraints.description == "D dorian"
    assert ComposeRequest(style="modal chant", key="E").constraints.description == "E major"


@pytest.mark.parametrize(
    ("instrument", "low", "high"),
    [
        ("tin whistle", "D5", "B6"),
        ("flute", "D4", "D6"),
        ("violin", "G3", "B5"),
        ("piano", "C4", "C6"),
    ],
)
def test_the_instrument_sets_the_default_range_so_the_tune_is_playable(
    instrument: str, low: str, high: str
) -> None:
    constraints = ComposeRequest(instrument=instrument).constraints
    assert (str(constraints.low), str(constraints.high)) == (low, high)
    assert str(ComposeRequest(instrument=instrument, low="A4").constraints.low) == "A4"


def test_a_form_must_share_the_bars_equally() -> None:
    with pytest.raises(ConstraintError, match=r"form 'AAB' has 3 parts.*multiple of 3"):
        ComposeRequest(form="AAB", bars=8)
    with pytest.raises(RequestError, match=r"form must be letters"):
        ComposeRequest(form="A-B", bars=8)


def test_a_half_cadence_ends_on_a_note_of_the_dominant_chord() -> None:
    constraints = ComposeRequest(key="D", low="D4", high="D5").constraints
    assert [str(p) for p in constraints.half_cadence_pitches] == ["E4", "A4", "C#5"]
    # in A B C# F# G the dominant chord E G# B has only B
    pitch_set = ComposeRequest(notes="A B C# F# G", low="A4", high="A5").constraints
    assert [str(p) for p in pitch_set.half_cadence_pitches] == ["B4"]
