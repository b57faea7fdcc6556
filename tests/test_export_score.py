"""Sheet music: MusicXML and ABC read back by music21 give the same notes; SVG has the bars."""

from __future__ import annotations

from fractions import Fraction

import pytest

from tunesmith.io.midi import MidiSettings
from tunesmith.io.score import abc_text, musicxml_bytes, svg_pages
from tunesmith.notation import parse
from tunesmith.score import Tune

JIG = MidiSettings(
    tempo_qpm=168,
    numerator=6,
    denominator=8,
    program=73,
    track_name="Jig",
    key_sharps=2,
    beat_length=Fraction(3, 2),
)
TUNE = parse(
    "A4:e B4:e C#5:e F#5:q. | G5:e3 G#5:e3 A5:e3 G5:e A5:q. | [D4 F#4]:q E4:e~ E4:e r:q | "
    "Bb3:e C4:e D6:e A4:q. |\nA4:h. |"
)


def notes_of(score: object) -> list[tuple[tuple[int, ...], Fraction]]:
    """(MIDI keys, length) per note, chord and rest, ties merged as music21 reads them."""
    return [
        (tuple(p.midi for p in element.pitches), Fraction(element.quarterLength))
        for element in score.stripTies().flatten().notesAndRests  # type: ignore[attr-defined]
    ]


def expected(tune: Tune) -> list[tuple[tuple[int, ...], Fraction]]:
    merged: list[tuple[tuple[int, ...], Fraction]] = []
    tied = False
    for event in tune.events:
        keys = tuple(p.midi for p in event.pitches)
        if tied:
            merged[-1] = (keys, merged[-1][1] + event.duration)
        else:
            merged.append((keys, event.duration))
        tied = event.tie
    return merged


def test_abc_writes_a_header_and_key_relative_accidentals() -> None:
    text = abc_text(TUNE, JIG)
    assert text.splitlines()[:6] == ["X:1", "T:Jig", "M:6/8", "L:1/8", "Q:3/8=112", "K:D"]
    assert "A B c f3 | (3g ^g a =g a3 |" in text  # F# and C# come from the key; G# needs ^


def test_abc_read_back_by_music21_has_the_same_notes() -> None:
    from music21 import converter

    assert notes_of(converter.parse(abc_text(TUNE, JIG), format="abc")) == expected(TUNE)


def test_musicxml_read_back_by_music21_has_the_same_notes_meter_key_and_title() -> None:
    from music21 import converter

    score = converter.parse(musicxml_bytes(TUNE, JIG), format="musicxml")
    assert notes_of(score) == expected(TUNE)
    assert score.recurse().getElementsByClass("TimeSignature").first().ratioString == "6/8"
    assert score.recurse().getElementsByClass("KeySignature").first().sharps == 2
    assert score.metadata.bestTitle == "Jig"


def test_svg_is_an_svg_document_with_one_measure_per_bar() -> None:
    pytest.importorskip("verovio")
    pages = svg_pages(TUNE, JIG)
    assert pages[0].lstrip().startswith(("<?xml", "<svg"))
    assert "</svg>" in pages[0]
    assert sum(page.count('class="measure') for page in pages) == len(TUNE.bars)
