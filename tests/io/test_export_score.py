"""Sheet music: MusicXML and ABC that music21 (and people) read back as the same score; SVG."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings

from strategies import scores
from tunesmith import ExportError
from tunesmith.io.abc import Facts, Voice, abc_text, voices
from tunesmith.io.midi import sounding_notes
from tunesmith.io.read import read_score
from tunesmith.io.score import musicxml_bytes, svg_pages
from tunesmith.io.write import write_score
from tunesmith.model.header import Header, Key
from tunesmith.model.notation import parse, parse_tune
from tunesmith.model.score import Bar, Score, Tune

JIG = Header("6/8", Key.parse("D"), tempo=112, title="Jig")
TUNE = parse_tune(
    "A4:e B4:e C#5:e F#5:q. | G5:e3 G#5:e3 A5:e3 G5:e A5:q. | [D4 F#4]:q E4:e~ E4:e r:q | "
    "Bb3:e C4:e D6:e A4:q. |\nA4:h. |"
)
SCORE = Score.of_tune(TUNE, JIG, name="Flute", program=73)
REEL = parse(
    """title: Reel
meter: 4/4
key: G major
tempo: q=110

part: Fiddle
role: melody
program: 40
|: G4:e A4:e B4:e G4:e D5:e B4:e G4:q |1 A4:e B4:e c5:e A4:e D5:h :|2 A4:e G4:e F#4:e A4:e G4:h |

part: Bass
role: bass
program: 32
|: G2:h D2:h |1 D2:h D2:h :|2 D2:h G2:h |

part: Drums
role: drums
|: kick:q closed-hat:q [kick snare]:q closed-hat:q |1 kick:w :|2 kick:q snare:q crash:h |

harmony:
|: G:w |1 D:w :|2 D:h G:h |""".replace("c5", "C5")
)


def notes_of(score: object) -> list[tuple[tuple[int, ...], Fraction]]:
    """(MIDI keys, length) per note, chord and rest, ties merged as music21 reads them."""
    return [
        (tuple(p.midi for p in element.pitches), Fraction(element.quarterLength))
        for element in score.stripTies().flatten().notesAndRests  # type: ignore[attr-defined]
        if "Harmony" not in element.classes
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


def reread(score: Score, suffix: str, tmp_path: Path) -> Score:
    path = tmp_path / f"score{suffix}"
    write_score(score, path)
    return read_score(path)


def same_but_roles(read: Score, written: Score) -> bool:
    """Files hold no roles (a reader assigns them by register), nor tunesmith's pitch set."""
    parts = tuple(replace(p, role=q.role) for p, q in zip(read.parts, written.parts, strict=True))
    header = replace(written.header, notes=None)
    return replace(read, parts=parts) == replace(written, header=header)


def same_sound(read: Score, written: Score) -> bool:
    """The same header, parts and repeats, and every part sounding the same notes."""
    if [(p.name, p.program, p.is_drum) for p in read.parts] != [
        (p.name.replace('"', "'"), p.program, p.is_drum)
        for p in written.parts  # ABC's quotes
    ]:
        return False
    heard = [sounding_notes(p.tune) for p in read.parts]
    if heard != [sounding_notes(p.tune) for p in written.parts]:
        return False
    header = replace(written.header, notes=None)
    return (read.header, read.repeats) == (header, written.repeats)


# -- ABC ----------------------------------------------------------------------------------


def test_abc_writes_a_header_and_key_relative_accidentals_beamed_in_beats() -> None:
    text = abc_text(SCORE)
    assert text.splitlines()[:9] == [
        "X:1",
        "T:Jig",
        "M:6/8",
        "L:1/8",
        "Q:3/8=112",
        "K:D",
        'V:1 name="Flute" clef=treble',
        "%%MIDI program 73",
        "ABc f3 | (3g^ga=g a3 | [DF]2 E- E z2 | _B,=Cd' A3 |",
    ]  # F# and C# come from the key, G# and C natural need theirs; eighths beam in beats


def test_abc_beams_a_reel_in_half_bars_and_names_the_mode() -> None:
    """Issue 10, item 18: every note was separated (no beams) and K: named the major key."""
    text = abc_text(parse("meter: 4/4\nkey: E dorian\nE4:e F#4:e G4:e A4:e B4:e A4:e G4:q |"))
    assert "K:Edor" in text
    assert "EFGA BA G2 |]" in text


@pytest.mark.parametrize(
    ("key", "field"),
    [("A minor", "Am"), ("D mixolydian", "Dmix"), ("F# minor", "F#m"), ("Bb major", "Bb")],
)
def test_abc_key_fields_name_the_mode(key: str, field: str) -> None:
    assert f"K:{field}\n" in abc_text(Score.of_tune(TUNE, Header("6/8", Key.parse(key))))


def test_a_newline_in_a_title_cannot_inject_abc_header_lines() -> None:
    """A title with "\\nK:C#\\nX:2" wrote two header lines (issue 10, item 18): a header
    holds one line, and titles from requests and files are cleaned to one."""
    from tunesmith.pipeline.composition import header_for
    from tunesmith.requests.request import ComposeRequest

    header = header_for(ComposeRequest(title="Reel\nK:C#\nX:2", meter="6/8"))
    text = abc_text(Score.of_tune(TUNE, header))
    assert "T:Reel K:C# X:2\n" in text
    assert [line for line in text.splitlines() if line.startswith(("X:", "K:"))] == ["X:1", "K:C"]


def test_abc_has_voices_repeats_endings_and_chord_symbols_above_the_melody() -> None:
    text = abc_text(REEL)
    assert '|: "G"GABG dB G2 |1 "D"ABcA d4 :|2 "D"AGFA "G"G4 |]' in text
    assert 'V:2 name="Bass" clef=bass\n%%MIDI program 32\n' in text
    assert 'V:3 name="Drums" clef=perc\n%%MIDI channel 10\n' in text


def test_abc_read_back_by_music21_has_the_same_notes() -> None:
    from music21 import converter

    assert notes_of(converter.parse(abc_text(SCORE), format="abc")) == expected(TUNE)


def test_abc_reads_back_as_the_same_score(tmp_path: Path) -> None:
    assert same_but_roles(reread(REEL, ".abc", tmp_path), REEL)


# -- MusicXML -----------------------------------------------------------------------------


def test_musicxml_read_back_by_music21_has_the_same_notes_meter_key_and_title() -> None:
    from music21 import converter

    score = converter.parse(musicxml_bytes(SCORE), format="musicxml")
    assert notes_of(score) == expected(TUNE)
    assert score.recurse().getElementsByClass("TimeSignature").first().ratioString == "6/8"
    assert score.recurse().getElementsByClass("KeySignature").first().sharps == 2
    assert score.metadata.bestTitle == "Jig"


def test_musicxml_names_the_clef_and_the_minor_mode() -> None:
    """No <clef> put the key signature below the staff in verovio; low parts need the bass
    clef; a minor key had no <mode> (issue 10, items 16 and 18)."""
    low = parse("key: A minor\npart: Cello\nprogram: 42\nA2:h E3:h |\npart: Flute\nA4:w |")
    root = ET.fromstring(musicxml_bytes(low))
    clefs = [part.find(".//clef/sign").text for part in root.iter("part")]  # type: ignore[union-attr]
    assert clefs == ["F", "G"]
    assert {mode.text for mode in root.iter("mode")} == {"minor"}


def test_control_characters_never_reach_the_musicxml() -> None:
    from tunesmith.pipeline.composition import header_for
    from tunesmith.requests.request import ComposeRequest

    header = header_for(ComposeRequest(title="Jig\x00\x07 in\x1b D"))
    root = ET.fromstring(musicxml_bytes(Score.of_tune(TUNE, header)))  # well-formed XML
    assert root.findtext(".//work-title") == "Jig in D"  # the title kept, its controls dropped
    assert root.findtext(".//movement-title") == "Jig in D"


def test_musicxml_has_one_staff_per_part_drums_on_a_percussion_staff() -> None:
    root = ET.fromstring(musicxml_bytes(REEL))
    assert [p.text for p in root.iter("part-name")] == ["Fiddle", "Bass", "Drums"]
    drums = list(root.iter("part"))[2]
    assert drums.find(".//clef/sign").text == "percussion"  # type: ignore[union-attr]
    assert drums.find(".//unpitched") is not None
    assert [h.find("root/root-step").text for h in root.iter("harmony")][:2] == ["G", "D"]  # type: ignore[union-attr]


def test_musicxml_reads_back_as_the_same_score(tmp_path: Path) -> None:
    assert same_but_roles(reread(REEL, ".musicxml", tmp_path), REEL)
    assert same_but_roles(reread(REEL, ".mxl", tmp_path), REEL)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(score=scores(max_bars=4))
def test_every_score_reads_back_from_musicxml_as_written(
    score: Score, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert same_but_roles(reread(score, ".musicxml", tmp_path_factory.mktemp("xml")), score)


def music21_reads_its_abc(score: Score) -> Score:
    """The score without what music21's ABC reader drops: chord symbols hung on rests or
    after tuplet marks, and ties out of chords (ABC hangs a chord symbol on a note, so a
    note a chord changes under is split and tied). Real tunes check chord symbols above."""
    parts = tuple(
        replace(part, bars=tuple(
            Bar(tuple(replace(e, tie=e.tie and not e.is_chord) for e in bar.events))
            for bar in part.bars
        ))
        for part in score.parts
    )  # fmt: skip
    return replace(score, parts=parts, harmony=())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(score=scores(max_bars=4).map(music21_reads_its_abc))
def test_every_score_reads_back_from_abc_sounding_the_same(
    score: Score, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """music21 reads the bars of an ABC voice only where it has two plain bar lines."""
    voices = re.split(r"^V:.*$", abc_text(score), flags=re.MULTILINE)
    assume(all(body.count(" | ") >= 2 for body in voices[1:] or voices))
    assert same_sound(reread(score, ".abc", tmp_path_factory.mktemp("abc")), score)


# -- files and SVG ------------------------------------------------------------------------


def test_svg_is_an_svg_document_with_one_measure_per_bar() -> None:
    pytest.importorskip("verovio")
    pages = svg_pages(SCORE)
    assert pages[0].lstrip().startswith(("<?xml", "<svg"))
    assert "</svg>" in pages[0]
    assert sum(page.count('class="measure') for page in pages) == len(TUNE.bars)


def test_svg_engraves_every_staff() -> None:
    pytest.importorskip("verovio")
    (page,) = svg_pages(REEL)
    assert page.count('class="staff') == 3 * REEL.bar_count


def test_the_suffix_picks_the_format_and_an_unknown_one_is_an_export_error(tmp_path: Path) -> None:
    assert write_score(SCORE, tmp_path / "jig.txt").read_text().startswith("title: Jig\n")
    assert write_score(SCORE, tmp_path / "jig.MID").read_bytes().startswith(b"MThd")
    assert write_score(SCORE, tmp_path / "jig.abc").read_text().startswith("X:1\n")
    assert b"<score-partwise" in write_score(SCORE, tmp_path / "jig.xml").read_bytes()
    suffixes = ".mid, .midi, .wav, .flac, .ogg, .musicxml, .xml, .mxl, .abc, .svg, .txt"
    with pytest.raises(ExportError, match=rf"one of {suffixes} \(received '.pdf'\)"):
        write_score(SCORE, tmp_path / "jig.pdf")
    assert not (tmp_path / "jig.pdf").exists()


# -- ABC, from mutation survivors ---------------------------------------------------------


def abc_body(score: Score) -> list[str]:
    """The ABC text's lines after the K: field."""
    lines = abc_text(score).splitlines()
    return lines[[line[:2] for line in lines].index("K:") + 1 :]


def test_abc_writes_short_notes_as_fractions_of_the_eighth() -> None:
    text = abc_text(
        parse("meter: 4/4\nkey: C major\nA4:s B4:s C5:t D5:t E5:s. F5:t G5:e A5:q B5:h |")
    )
    assert text.splitlines()[-1] == "A/B/c/4d/4e3/4f/4g a2 b4 |]"


def test_abc_of_one_plain_part_has_no_title_no_voice_and_no_gchordoff() -> None:
    text = abc_text(parse("meter: 3/4\nkey: D major\nA4:q B4:q C#5:q |"))
    assert text == "X:1\nM:3/4\nL:1/8\nQ:1/4=120\nK:D\nA2 B2 c2 |]\n"


def test_abc_escapes_a_percent_sign_in_the_title() -> None:
    text = abc_text(parse("title: 50% off\nmeter: 4/4\nkey: C major\nA4:w |"))
    assert text.splitlines()[1] == "T:50\\% off"


@pytest.mark.parametrize("role", ["chords", "bass"])
def test_abc_turns_abc2midis_chords_off_just_before_the_key_for_a_chords_or_bass_part(
    role: str,
) -> None:
    score = parse(f"meter: 4/4\nkey: C major\npart: Keys\nrole: {role}\n[C3 E3 G3]:w |")
    assert abc_text(score).splitlines()[:8] == [
        "X:1",
        "M:4/4",
        "L:1/8",
        "Q:1/4=120",
        "%%MIDI gchordoff",
        "K:C",
        'V:1 name="Keys" clef=bass',
        "%%MIDI program 0",
    ]


def test_abc_names_the_voice_of_a_lone_part_with_a_name_at_program_0() -> None:
    score = parse("meter: 4/4\nkey: C major\npart: Flute\nA4:w |")
    assert "gchordoff" not in abc_text(score)
    assert abc_body(score) == [
        'V:1 name="Flute" clef=treble',
        "%%MIDI program 0",
        "A8 |]",
    ]


def test_abc_of_a_drum_part_maps_each_drum_to_its_staff_place_and_head() -> None:
    drums = parse("part: \nrole: drums\nkick:q closed-hat:q snare:q closed-hat:q |\n")
    assert abc_text(drums).splitlines()[4:] == [
        "K:none",
        'V:1 name="" clef=perc',
        "%%MIDI channel 10",
        "%%MIDI program 0",
        "%%voicemap drums",
        "%%pos stem up",
        "%%map drums C,, print=F",
        "%%map drums ^F,, print=g heads=pshhd",
        "%%map drums D,, print=c",
        "C,,2 ^F,,2 D,,2 ^F,,2 |]",
    ]


def test_abc_writes_every_accidental_in_locrian_for_music21() -> None:
    text = abc_text(parse("meter: 4/4\nkey: B locrian\nB4:q F5:q F5:q C5:q |"))
    assert "K:Bloc\n=B2 =f2 =f2 =c2 |]\n" in text


def test_abc_natural_holds_to_the_end_of_the_bar() -> None:
    text = abc_text(parse("meter: 4/4\nkey: C major\nF#4:q F4:q F4:q F4:q | F4:w |"))
    assert text.splitlines()[-1] == "^F2 =F2 F2 F2 | F8 |]"


def test_abc_ties_a_note_a_chord_changes_under_and_writes_no_chord_where_the_harmony_rests() -> (
    None
):
    score = parse("meter: 4/4\nkey: C major\nA4:h B4:h | C5:w |\nharmony:\nAm:q r:h. | C:h r:h |")
    assert abc_body(score) == ['"Am"A2- "N.C."A2 B4 | "C"c4- "N.C."c4 |]']


def test_abc_splits_a_note_at_a_chord_change_but_not_at_the_chords_around_it() -> None:
    score = parse("meter: 4/4\nkey: C major\nA4:h B4:h |\nharmony:\nAm:q r:q G:h |")
    assert abc_body(score) == ['"Am"A2- "N.C."A2 "G"B4 |]']


def test_abc_splits_a_later_note_of_the_bar_where_its_chord_changes() -> None:
    score = parse("meter: 4/4\nkey: C major\nA4:q B4:q C5:h | D5:w |\nharmony:\nC:h. G:q | G:w |")
    assert abc_body(score) == ['"C"A2 B2 c2- "G"c2 | "G"d8 |]']


def test_abc_splits_a_rest_at_a_chord_change_without_a_tie() -> None:
    score = parse("meter: 4/4\nkey: C major\nA4:h r:h |\nharmony:\nC:h. G:q |")
    assert abc_body(score) == ['"C"A4 z2 "G"z2 |]']


def test_abc_writes_a_chord_no_note_length_reaches_at_the_start_of_the_note() -> None:
    score = parse("meter: 3/8\nkey: C major\nA4:e3 B4:e3 C5:e3 D5:e |\nharmony:\nC:s. G:s. D:e. |")
    assert abc_body(score) == ['(3"C"A"G"Bc/4-"D"c/d |]']


# -- reading an ABC file's voices, key and title


def test_abc_voices_reads_names_programs_and_drums_of_every_voice() -> None:
    text = (
        "X:1\nT:Reel\nM:4/4\nK:G\n"
        'V:1 name="Fiddle" clef=treble\n%%MIDI program 40\nGABc|\n'
        "  V:2 nm=Bass\n%%MIDI program 200\nG,,4|\n"
        "[V:3 name=Kit]\n%%MIDI channel 10\nC,,4|\n"
        "V:1\nGABc|\n"
    )
    assert voices(text) == Facts(
        (Voice("Fiddle", 40), Voice("Bass", 127), Voice("Kit", 0, drums=True)), "G", "Reel"
    )


def test_abc_voices_keeps_midi_directives_before_the_first_voice_as_a_voice_of_their_own() -> None:
    text = "X:1\nK:C\n%%MIDI program 40\nV:XXXX\n%%MIDI program 41\nV:\nC4|\n"
    assert voices(text).voices == (Voice(program=40), Voice(program=41))


def test_abc_voices_reads_the_first_key_and_title_up_to_a_comment() -> None:
    text = "X:1\nT:50\\% off % a comment\nT:Second title\nK:Edor % modal\nEFGA|\nK:D\nDEFG|\n"
    facts = voices(text)
    assert (facts.title, facts.key) == ("50% off", "Edor")


def test_abc_voices_finds_no_key_and_no_title_where_the_tune_has_none() -> None:
    assert voices("X:1\nM:4/4\nCDEF|\n") == Facts()
