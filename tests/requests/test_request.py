"""ComposeRequest: every field validated, every bad value a typed error that says how to fix it."""

from __future__ import annotations

import json
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pretty_midi
import pydantic
import pytest

from tunesmith import (
    ChordError,
    ComposeRequest,
    ConstraintError,
    NoteNameError,
    RequestError,
    RequestTypeError,
)
from tunesmith.requests.presets import style_preset, style_presets
from tunesmith.requests.request_errors import request_error


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
        request.bars = 3


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
        ({"tempo": 9.5}, RequestError, r"tempo must be between 10 and 400.*received 9.5"),
        ({"tempo": 400.5}, RequestError, r"tempo must be between 10 and 400.*received 400.5"),
        ({"tempo": 5000}, RequestError, r"received 5000"),
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


@pytest.fixture
def dorian_air(monkeypatch: pytest.MonkeyPatch) -> None:
    """The air as a style whose file brings its own scale, D dorian (no shipped style does)."""
    air = {**style_presets()["air"], "key": "D", "mode": "dorian"}
    monkeypatch.setattr(
        "tunesmith.requests.request.style_preset",
        lambda style: air if "air" in style else style_preset(style),
    )


@pytest.mark.usefixtures("dorian_air")
def test_a_preset_may_bring_its_own_scale_unless_the_user_gives_pitches() -> None:
    assert ComposeRequest(style="modal air").constraints.description == "D dorian"
    assert ComposeRequest(style="modal air", key="E").constraints.description == "E major"


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


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"notes": 42}, RequestTypeError, r"notes must be note names in order.*\(received 42\)"),
        ({"notes": {"A", "B"}}, RequestTypeError, r"a list such as \['A', 'B', 'C#'\]"),
        ({"bars": True}, RequestTypeError, r"bars must be a whole number \(received True\)"),
        ({"seed": True}, RequestTypeError, r"seed must be a whole number \(received True\)"),
        ({"key": 5}, RequestTypeError, r"key: input should be a valid string \(received 5\)"),
        ({"instrument": 7.5}, RequestTypeError, r"General MIDI name or program 0-127"),
        ({"seed": -1}, RequestError, r"seed must be between 0 and 2147483647 \(received -1\)"),
        ({"seed": 2**31}, RequestError, r"received 2147483648"),
    ],
)
def test_a_value_of_the_wrong_type_is_a_request_type_error(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        ComposeRequest(**options)


def test_a_wrong_type_is_both_a_request_error_and_a_type_error() -> None:
    with pytest.raises(TypeError):
        ComposeRequest(notes=42)
    with pytest.raises(RequestError):
        ComposeRequest(notes=42)


@pytest.mark.parametrize(
    ("low", "high", "message"),
    [
        ("A9", None, r"low: pitch A9 is outside .* C-1 to G9 \(MIDI 0-127; received MIDI 129\)"),
        (None, "G#9", r"high: pitch G#9 is outside .*received MIDI 128"),
        (None, "B##9", r"high: pitch B##9 is outside"),
        ("Cb-1", None, r"low: pitch Cb-1 is outside .*received MIDI -1"),
        ("C10", None, r"low: unknown pitch 'C10'.*an octave -1 to 9"),
    ],
)
def test_only_the_pitches_midi_holds_are_accepted(
    low: str | None, high: str | None, message: str
) -> None:
    with pytest.raises(NoteNameError, match=message):
        ComposeRequest(low=low, high=high)


def test_the_lowest_and_highest_midi_pitches_are_c_minus_1_and_g9() -> None:
    constraints = ComposeRequest(notes=["C", "G"], low="C-1", high="G9").constraints
    assert (str(constraints.low), constraints.low.midi) == ("C-1", 0)
    assert (str(constraints.high), constraints.high.midi) == ("G9", 127)
    assert str(ComposeRequest(low="Eb4").low) == "Eb4"  # "E-4" is octave -4: no pitch


@pytest.mark.parametrize(
    "validate",
    [
        ComposeRequest.model_validate,
        lambda data: ComposeRequest.model_validate_json(json.dumps(data)),
        lambda data: ComposeRequest.model_validate_strings(
            {name: str(value) for name, value in data.items()}
        ),
    ],
    ids=["model_validate", "model_validate_json", "model_validate_strings"],
)
def test_every_way_of_validating_raises_request_errors_and_resolves_the_constraints(
    validate: Callable[[dict[str, Any]], ComposeRequest],
) -> None:
    with pytest.raises(RequestError, match=r"meter must be N/D.*\(received '7/0'\)"):
        validate({"meter": "7/0"})
    with pytest.raises(RequestError, match=r"unknown option 'bar'"):
        validate({"bar": 8})
    with pytest.raises(ConstraintError, match=r"inverted: low=A5 is above high=A3"):
        validate({"low": "A5", "high": "A3"})
    assert validate({"meter": "6/8"}).constraints.bar_length == Fraction(3)


@pytest.mark.parametrize(
    "validate",
    [
        lambda **keywords: ComposeRequest.model_validate({"bars": 4}, **keywords),
        lambda **keywords: ComposeRequest.model_validate_json('{"bars": 4}', **keywords),
        lambda **keywords: ComposeRequest.model_validate_strings({"bars": "4"}, **keywords),
    ],
    ids=["model_validate", "model_validate_json", "model_validate_strings"],
)
def test_every_way_of_validating_hands_its_keywords_to_pydantic(
    validate: Callable[..., ComposeRequest],
) -> None:
    assert validate(strict=True, context={"from": "a test"}) == ComposeRequest(bars=4)
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'strictly'"):
        validate(strictly=True)  # refused as pydantic refuses it, not dropped unread


def test_invalid_json_is_a_request_error_keeping_pydantics_as_the_cause() -> None:
    with pytest.raises(RequestError, match=r"request: invalid JSON") as caught:
        ComposeRequest.model_validate_json("{bars: 4")
    assert isinstance(caught.value.__cause__, pydantic.ValidationError)


def test_model_copy_with_an_update_validates_and_resolves_the_new_constraints() -> None:
    request = ComposeRequest(notes=["A", "B", "C#", "F#", "G"], low="A4", high="A5")
    copy = request.model_copy(update={"notes": ("C",), "low": "C4", "high": "C5"})
    assert [str(p) for p in copy.constraints.pitches] == ["C4", "C5"]
    with pytest.raises(RequestError, match=r"bars must be between 1 and 256 \(received 0\)"):
        request.model_copy(update={"bars": 0})
    with pytest.raises(RequestError, match=r"unknown option 'bar'"):
        request.model_copy(update={"bar": 4})
    assert request.model_copy() == request


@pytest.mark.usefixtures("dorian_air")
def test_model_copy_applies_the_update_to_the_options_as_given() -> None:
    air = ComposeRequest(style="modal air")  # the preset brings D dorian
    assert air.model_copy(update={"notes": "C D E"}).constraints.description == (
        "only the notes C D E"
    )
    assert air.model_copy(update={"key": "E"}).constraints.description == "E major"
    jig = ComposeRequest(style="jig", meter="9/8", key="D")
    assert jig.model_copy(update={"style": "reel"}).meter == "9/8"  # given: kept
    assert ComposeRequest(style="jig", key="D").model_copy(update={"style": "reel"}).meter == (
        ComposeRequest(style="reel").meter
    )


@pytest.mark.parametrize(
    ("key", "mode"),
    [("G#", "major"), ("D#", "major"), ("A#", "major"), ("E#", "major"), ("B#", "major")],
)
def test_a_key_that_needs_more_than_seven_sharps_gets_no_key_signature(key: str, mode: str) -> None:
    constraints = ComposeRequest(key=key, mode=mode).constraints
    assert constraints.key_sharps is None
    assert str(constraints.pitch_classes[0]) == key


@pytest.mark.parametrize(
    ("key", "mode", "expected"),
    [
        ("Gb", "minor", "Gb Ab Bbb Cb Db Ebb Fb"),
        ("Db", "minor", "Db Eb Fb Gb Ab Bbb Cb"),
        ("Cb", "minor", "Cb Db Ebb Fb Gb Abb Bbb"),
        ("Fb", "major", "Fb Gb Ab Bbb Cb Db Eb"),
    ],
)
def test_keys_with_double_flats_resolve(key: str, mode: str, expected: str) -> None:
    constraints = ComposeRequest(key=key, mode=mode).constraints
    assert " ".join(map(str, constraints.pitch_classes)) == expected
    assert constraints.key_sharps is None


def test_instrument_names_are_pretty_midis_general_midi_table() -> None:
    for program in (0, 73, 84, 109, 127):
        name = pretty_midi.program_to_instrument_name(program)
        assert ComposeRequest(instrument=program).instrument == name
        assert ComposeRequest(instrument=name.upper()).constraints.program == program


@pytest.mark.parametrize("tempo", [10, 400])
def test_a_tempo_at_either_limit_is_accepted(tempo: int) -> None:
    assert ComposeRequest(tempo=tempo).tempo == tempo


# -- pydantic's errors as one RequestError, from the mutation survivors of request_errors ---


def test_an_error_of_the_whole_request_is_raised_as_it_was_with_its_attributes() -> None:
    with pytest.raises(ChordError, match=r"^the progression has 5 bars, more than") as caught:
        ComposeRequest(chords="D G | D A | D | G | A", bars=2)
    assert (caught.value.chord, caught.value.bar) == ("", 3)


def test_an_error_inside_a_list_names_the_item_by_its_path() -> None:
    with pytest.raises(RequestTypeError) as caught:
        ComposeRequest.model_validate({"notes": ["A", 5]})
    assert str(caught.value) == "notes.1: input should be a valid string (received 5)"


def test_every_error_is_in_the_one_message_separated_by_semicolons() -> None:
    with pytest.raises(RequestTypeError) as caught:
        ComposeRequest.model_validate({"bars": "x", "tempo": "y"})
    assert str(caught.value) == (
        "bars: input should be a valid integer (received 'x'); "
        "tempo: input should be a valid number (received 'y')"
    )


def test_pydantics_error_of_the_whole_request_names_the_request_and_no_value() -> None:
    with pytest.raises(RequestError) as caught:
        ComposeRequest.model_validate_json('{"bars": 8')
    assert (
        str(caught.value)
        == "request: invalid JSON: EOF while parsing an object at line 1 column 10"
    )


def test_a_plain_value_error_of_the_whole_request_reads_as_its_message() -> None:
    class Pair(pydantic.BaseModel):
        low: int
        high: int

        @pydantic.model_validator(mode="after")
        def _ordered(self) -> Pair:
            if self.low > self.high:
                raise ValueError("low must not be above high")
            return self

    with pytest.raises(pydantic.ValidationError) as caught:
        Pair(low=2, high=1)
    error = request_error(caught.value, ["low", "high"])
    assert (type(error), str(error)) == (RequestError, "low must not be above high")
