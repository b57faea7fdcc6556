"""Chords: lead-sheet symbols and Roman numerals read with music21; the chords of a key."""

from __future__ import annotations

import pytest

from tunesmith import ChordError
from tunesmith.model.header import Key
from tunesmith.model.score import PitchClass
from tunesmith.music.chords import Chord, key_chords, parse_chord

SYMBOLS = [
    ("D", "D F# A", "D", "major"),
    ("Am", "A C E", "A", "minor"),
    ("F#m7", "F# A C# E", "F#", "minor"),
    ("Bbmaj7", "Bb D F A", "Bb", "major"),
    ("E7", "E G# B D", "E", "major"),
    ("Dsus4", "D G A", "D", "other"),
    ("Bdim", "B D F", "B", "diminished"),
    ("C+", "C E G#", "C", "augmented"),
    ("D/F#", "D F# A", "F#", "major"),
]


@pytest.mark.parametrize(
    ("figure", "tones", "bass", "quality"), SYMBOLS, ids=[s[0] for s in SYMBOLS]
)
def test_a_chord_symbol_is_read_with_music21(
    figure: str, tones: str, bass: str, quality: str
) -> None:
    chord = Chord.parse(figure)
    assert chord.figure == figure
    assert " ".join(map(str, chord.tones)) == tones
    assert str(chord.bass) == bass
    assert chord.quality == quality


NUMERALS = [
    ("A minor", "i", "Am"),
    ("A minor", "iv", "Dm"),
    ("A minor", "V", "E"),  # the minor key's major dominant
    ("A minor", "V7", "E7"),
    ("A minor", "viio", "G#dim"),  # on the raised leading tone
    ("A minor", "V6", "E/G#"),  # first inversion: a slash chord
    ("D major", "ii", "Em"),
    ("D major", "vi", "Bm"),
    ("E dorian", "IV", "A"),
    ("A mixolydian", "v", "Em"),
]


@pytest.mark.parametrize(
    ("key", "numeral", "figure"), NUMERALS, ids=[f"{k}-{n}" for k, n, _ in NUMERALS]
)
def test_a_roman_numeral_is_a_chord_of_the_key(key: str, numeral: str, figure: str) -> None:
    assert parse_chord(numeral, Key.parse(key)).figure == figure


def test_an_unknown_symbol_names_it_and_shows_what_a_symbol_looks_like() -> None:
    with pytest.raises(ChordError, match=r"unknown chord 'H7': use a lead-sheet symbol") as caught:
        parse_chord("H7", Key.parse("D"))
    assert caught.value.chord == "H7"


def test_an_unknown_numeral_is_a_chord_error() -> None:
    with pytest.raises(ChordError, match=r"unknown Roman numeral 'VIII': use I to VII"):
        parse_chord("VIII", Key.parse("D"))


def test_a_numeral_whose_root_is_outside_the_key_says_which_note_and_how_to_write_it() -> None:
    with pytest.raises(
        ChordError,
        match=r"'bVII' in D major has the root C, which is not a note of D major "
        r"\(D E F# G A B C#\); .* symbol such as 'C'",
    ):
        parse_chord("bVII", Key.parse("D"))


def test_the_chords_of_a_key_are_its_triads_on_allowed_roots() -> None:
    key = Key.parse("D")
    vocabulary, tonic, dominant = key_chords(key.scale, key)
    assert [chord.figure for chord in vocabulary] == ["D", "Em", "F#m", "G", "A", "Bm"]
    assert (tonic.figure, dominant.figure) == ("D", "A")


def test_a_gapped_pitch_set_keeps_only_chords_inside_it_and_its_tonic_and_dominant() -> None:
    notes = [PitchClass.parse(name) for name in ["A", "B", "C#", "F#", "G"]]
    vocabulary, tonic, dominant = key_chords(notes, Key.parse("A mixolydian"))
    assert [chord.figure for chord in vocabulary] == ["A", "F#m", "Em"]  # F#m: all inside
    assert (tonic.figure, dominant.figure) == ("A", "Em")  # the key's, E and all
