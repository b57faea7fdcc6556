"""Reading MusicXML and ABC through music21: what each kind of measure, mark and part-list
entry becomes, from small files written for the purpose (see tests/io/test_read.py for whole
files from music21's corpus)."""

from __future__ import annotations

import zipfile
from fractions import Fraction
from pathlib import Path

import pytest

from tunesmith import ReadError, read_score
from tunesmith.io.abc import Voice
from tunesmith.io.music21_header import musicxml_facts
from tunesmith.model.header import Key
from tunesmith.model.notation import parse_tune
from tunesmith.model.score import ChordSymbol, Drum, Repeat, Score, Tune

# -- a small MusicXML writer: lengths are in divisions, two to the quarter note -------------

MAJOR = "<key><fifths>0</fifths><mode>major</mode></key>"


def time(meter: str) -> str:
    beats, beat_type = meter.split("/")
    return f"<time><beats>{beats}</beats><beat-type>{beat_type}</beat-type></time>"


def musicxml(
    *parts: list[str],
    meter: str | None = "4/4",
    key: str = MAJOR,
    divisions: int = 2,
    part_list: str | None = None,
) -> str:
    """A score-partwise document: each part a list of measure bodies."""
    names = "".join(
        f'<score-part id="P{i}"><part-name>P{i}</part-name></score-part>'
        for i in range(1, len(parts) + 1)
    )
    attributes = f"<attributes><divisions>{divisions}</divisions>{key}"
    attributes += (time(meter) if meter else "") + "</attributes>"
    body = ""
    for i, measures in enumerate(parts, start=1):
        body += f'<part id="P{i}">'
        for j, measure in enumerate(measures, start=1):
            body += f'<measure number="{j}">{attributes if j == 1 else ""}{measure}</measure>'
        body += "</part>"
    return (
        '<?xml version="1.0"?><score-partwise version="4.0">'
        f"<part-list>{part_list or names}</part-list>{body}</score-partwise>"
    )


def note(
    pitch: str,
    duration: int,
    kind: str,
    *,
    chord: bool = False,
    voice: int | None = None,
    alter: str | None = None,
    dot: bool = False,
    tuplet: str = "",
) -> str:
    """A pitched note such as ``note("C4", 2, "quarter")``; ``tuplet`` "5:4" for a quintuplet."""
    actual, _, normal = tuplet.partition(":")
    modification = (
        f"<time-modification><actual-notes>{actual}</actual-notes>"
        f"<normal-notes>{normal}</normal-notes></time-modification>"
    )
    step, octave = pitch[0], pitch[1:]
    return (
        f"<note>{'<chord/>' if chord else ''}<pitch><step>{step}</step>"
        f"{f'<alter>{alter}</alter>' if alter else ''}<octave>{octave}</octave></pitch>"
        f"<duration>{duration}</duration>{f'<voice>{voice}</voice>' if voice else ''}"
        f"<type>{kind}</type>{'<dot/>' if dot else ''}{modification if tuplet else ''}</note>"
    )


def rest(duration: int, kind: str, *, voice: int | None = None, hidden: bool = False) -> str:
    shown = ' print-object="no"' if hidden else ""
    return (
        f"<note{shown}><rest/><duration>{duration}</duration>"
        f"{f'<voice>{voice}</voice>' if voice else ''}<type>{kind}</type></note>"
    )


def hit(
    place: str,
    duration: int,
    kind: str,
    *,
    head: str = "",
    chord: bool = False,
    voice: int | None = None,
) -> str:
    """An unpitched note at a staff place such as ``hit("C5", 2, "quarter", head="x")``."""
    return (
        f"<note>{'<chord/>' if chord else ''}<unpitched><display-step>{place[0]}</display-step>"
        f"<display-octave>{place[1:]}</display-octave></unpitched><duration>{duration}</duration>"
        f"{f'<voice>{voice}</voice>' if voice else ''}<type>{kind}</type>"
        f"{f'<notehead>{head}</notehead>' if head else ''}</note>"
    )


def backup(duration: int) -> str:
    return f"<backup><duration>{duration}</duration></backup>"


def read(tmp_path: Path, text: str, name: str = "score.musicxml") -> Score:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return read_score(path)


def tune(text: str) -> Tune:
    return parse_tune(text)


def quarters(*lengths: int) -> tuple[Fraction, ...]:
    return tuple(Fraction(n) for n in lengths)


def chords(*symbols: tuple[int, int, str]) -> tuple[ChordSymbol, ...]:
    """Chord symbols from (onset, length, figure), times in quarter notes."""
    return tuple(ChordSymbol(Fraction(on), Fraction(length), f) for on, length, f in symbols)


def harmony(root: str, kind: str, text: str = "", *, bass: str = "", alter: int = 0) -> str:
    """A <harmony> element: ``kind`` its MusicXML kind, ``text`` the spelling the file shows."""
    shown = f' text="{text}"' if text else ""
    return (
        f"<harmony><root><root-step>{root}</root-step>"
        f"{f'<root-alter>{alter}</root-alter>' if alter else ''}</root>"
        f"<kind{shown}>{kind}</kind>"
        f"{f'<bass><bass-step>{bass}</bass-step></bass>' if bass else ''}</harmony>"
    )


HALF = note("C4", 4, "half")


CHORD = note("C4", 2, "quarter") + note("E4", 2, "quarter", chord=True)
HALF_CHORD = note("C4", 4, "half") + note("E4", 4, "half", chord=True)
WHOLE_C = note("C5", 8, "whole")


# -- measures read as written -------------------------------------------------------------


@pytest.mark.parametrize(
    ("meter", "measure", "written"),
    [
        ("12/8", CHORD + rest(8, "whole") + CHORD, "[C4 E4]:q r:w [C4 E4]:q |"),
        ("6/4", rest(8, "whole") + HALF_CHORD, "r:w [C4 E4]:h |"),
        ("6/4", HALF_CHORD + rest(8, "whole"), "[C4 E4]:h r:w |"),
    ],
    ids=["between-chords", "first", "last"],
)
def test_a_whole_rest_among_chords_keeps_its_written_length(
    tmp_path: Path, meter: str, measure: str, written: str
) -> None:
    # music21 stretches the rest over the whole bar and moves what follows it to the end
    score = read(tmp_path, musicxml([measure], meter=meter))
    assert score.parts[0].tune == tune(written)
    assert score.source is not None
    assert score.source.notes == ()  # read as written, not layered


def test_a_gap_the_file_skips_with_forward_is_a_rest_where_it_was(tmp_path: Path) -> None:
    measure = note("C5", 2, "quarter") + "<forward><duration>2</duration></forward>"
    score = read(tmp_path, musicxml([measure + note("D5", 4, "half")]))
    assert score.parts[0].tune == tune("C5:q r:q D5:h |")


# a measure music21's writer left empty: a hidden rest fills it to the meter
HIDDEN_BAR = '<note print-object="no"><rest/><duration>6</duration><type>half</type><dot/></note>'
DOTTED_HALF = note("C4", 6, "half", dot=True)


def test_a_measure_of_hidden_rests_alone_is_a_bar_of_rest_as_long_as_its_meter(
    tmp_path: Path,
) -> None:
    score = read(tmp_path, musicxml([DOTTED_HALF, HIDDEN_BAR, DOTTED_HALF], meter="3/4"))
    assert score.bar_lengths == quarters(3, 3, 3)
    assert score.parts[0].tune == tune("C4:h. | r:h. | C4:h. |")


def test_a_last_measure_of_hidden_rests_in_the_longer_part_lasts_its_meter(
    tmp_path: Path,
) -> None:
    parts = [DOTTED_HALF, DOTTED_HALF], [DOTTED_HALF, DOTTED_HALF, HIDDEN_BAR]
    score = read(tmp_path, musicxml(*parts, meter="3/4"))
    assert score.bar_lengths == quarters(3, 3, 3)
    assert score.parts[0].tune == tune("C4:h. | C4:h. | r:h. |")


def test_a_measure_of_hidden_rests_without_a_time_signature_lasts_four_quarter_notes(
    tmp_path: Path,
) -> None:
    score = read(tmp_path, musicxml([DOTTED_HALF, HIDDEN_BAR], meter=None))
    assert score.bar_lengths == quarters(3, 4)


def test_hidden_rests_padding_a_second_voice_leave_the_measure_short(tmp_path: Path) -> None:
    # music21's writer fills a short measure in mid-tune up to the meter with hidden rests
    short = (
        note("C5", 4, "half", voice=1)
        + backup(4)
        + note("E4", 2, "quarter", voice=2)
        + rest(2, "quarter", voice=2, hidden=True)
        + rest(2, "quarter", voice=2, hidden=True)
    )
    score = read(tmp_path, musicxml([WHOLE_C, short, WHOLE_C]))
    assert score.bar_lengths == quarters(4, 2, 4)
    assert score.parts[0].tune == tune("C5:w | [E4 C5]:q~ C5:q | C5:w |")


def test_a_quarter_tone_is_a_read_error_naming_the_note_and_its_bar(tmp_path: Path) -> None:
    score = musicxml([WHOLE_C, note("C4", 8, "whole", alter="0.5")])
    with pytest.raises(ReadError, match=r"part 1, bar 2: microtone C~4$"):
        read(tmp_path, score)


# -- measures read as layered notes -------------------------------------------------------


def test_two_voices_in_a_measure_are_layered_into_chords_and_ties_without_graces(
    tmp_path: Path,
) -> None:
    grace = (
        "<note><grace/><pitch><step>B</step><octave>4</octave></pitch><type>eighth</type></note>"
    )
    measure = (
        harmony("C", "major")
        + rest(2, "quarter", voice=1)
        + note("C5", 2, "quarter", voice=1)
        + note("D5", 4, "half", voice=1)
        + backup(8)
        + note("E4", 4, "half", voice=2)
        + grace
        + note("G4", 4, "half", voice=2)
    )
    score = read(tmp_path, musicxml([measure]))
    assert score.parts[0].tune == tune("E4:q~ [E4 C5]:q [G4 D5]:h |")
    assert score.harmony == chords((0, 4, "C"))
    assert score.source is not None
    assert score.source.notes == ("measures read as layered notes (voices, tuplets): 1",)
    assert score.source.quantised == 0


def test_quintuplets_are_moved_to_the_nearest_lengths_tunesmith_writes(tmp_path: Path) -> None:
    five = "".join(note(f"{step}5", 1, "16th", tuplet="5:4") for step in "CDEFG")
    measure = five + note("A5", 5, "quarter") + note("B5", 10, "half")
    score = read(tmp_path, musicxml([measure], divisions=5))
    assert score.parts[0].tune == tune("C5:s3 D5:s E5:s3 F5:s G5:s3 A5:q B5:h |")
    assert score.source is not None
    assert (score.source.quantised, score.source.max_shift) == (8, Fraction(1, 30))
    assert score.source.notes == ("measures read as layered notes (voices, tuplets): 1",)


def test_a_chord_symbol_between_the_notes_of_two_voices_does_not_split_them(
    tmp_path: Path,
) -> None:
    measure = (
        harmony("C", "major")
        + note("C5", 8, "whole", voice=1)
        + backup(8)
        + note("E4", 8, "whole", voice=2)
        + backup(4)
        + harmony("G", "major")  # on beat 3, where no note starts
        + "<forward><duration>4</duration></forward>"
    )
    score = read(tmp_path, musicxml([measure]))
    assert score.parts[0].tune == tune("[E4 C5]:w |")
    assert score.harmony == chords((0, 2, "C"), (2, 2, "G"))


def test_a_measure_of_rests_in_two_voices_is_a_bar_of_rest(tmp_path: Path) -> None:
    rests = rest(8, "whole", voice=1) + backup(8) + rest(8, "whole", voice=2)
    score = read(tmp_path, musicxml([WHOLE_C, rests]))
    assert score.parts[0].tune == tune("C5:w | r:w |")


# -- drums --------------------------------------------------------------------------------

KIT = '<score-part id="P1"><part-name>Kit</part-name></score-part>'  # no MIDI drum channel


def test_unpitched_notes_are_the_drums_at_their_staff_places_and_heads(tmp_path: Path) -> None:
    measure = (
        hit("F4", 2, "quarter")
        + hit("C5", 2, "quarter")
        + hit("G5", 2, "quarter", head="x")
        + hit("B3", 2, "quarter")  # a place tunesmith's drum staff does not use
    )
    score = read(tmp_path, musicxml([measure], part_list=KIT))
    (kit,) = score.parts
    assert (kit.name, kit.role) == ("Kit", "drums")
    assert [e.drums for e in kit.bars[0].events] == [
        (Drum("kick"),),
        (Drum("snare"),),
        (Drum("closed-hat"),),
        (Drum.from_midi(59),),  # its display pitch, B3, as a General MIDI drum
    ]


def test_pitched_notes_in_a_drum_part_are_the_drums_of_their_keys_not_rests(
    tmp_path: Path,
) -> None:
    measure = note("C2", 4, "half") + note("D2", 2, "quarter") + note("F2", 2, "quarter", alter="1")
    on_channel_10 = (
        '<score-part id="P1"><part-name>Kit</part-name>'
        '<midi-instrument id="P1-I1"><midi-channel>10</midi-channel></midi-instrument>'
        "</score-part>"
    )
    (kit,) = read(tmp_path, musicxml([measure], part_list=on_channel_10)).parts
    assert kit.role == "drums"
    assert [e.drums for e in kit.bars[0].events] == [  # General MIDI keys 36, 38 and 42
        (Drum("kick"),),
        (Drum("snare"),),
        (Drum("closed-hat"),),
    ]


def test_a_hit_at_the_bottom_of_midis_range_is_key_0(tmp_path: Path) -> None:
    score = read(tmp_path, musicxml([hit("C-1", 8, "whole")], part_list=KIT))
    assert score.parts[0].bars[0].events[0].drums == (Drum.from_midi(0),)


def test_a_part_of_drum_chords_alone_is_a_drum_part(tmp_path: Path) -> None:
    both = hit("F4", 4, "half") + hit("C5", 4, "half", chord=True)
    score = read(tmp_path, musicxml([both + both], part_list=KIT))
    assert score.parts[0].role == "drums"
    assert [e.drums for e in score.parts[0].bars[0].events] == [
        (Drum("kick"), Drum("snare")),
        (Drum("kick"), Drum("snare")),
    ]


def test_two_drum_voices_in_a_measure_are_layered_into_one_line_of_hits(tmp_path: Path) -> None:
    hats = 4 * hit("G5", 2, "quarter", head="x", voice=1)
    feet = hit("F4", 4, "half", voice=2) + hit("C5", 4, "half", voice=2)
    measure = hats + backup(8) + feet
    score = read(tmp_path, musicxml([measure], part_list=KIT))
    assert [e.drums for e in score.parts[0].bars[0].events] == [
        (Drum("kick"), Drum("closed-hat")),
        (Drum("closed-hat"),),
        (Drum("snare"), Drum("closed-hat")),
        (Drum("closed-hat"),),
    ]


ABC_KIT = """X:1
T:Kit
M:2/4
L:1/8
K:C
V:1 name="Drums"
%%MIDI channel 10
(5C,,C,,D,,C,,C,, ^F,,2 | C,,2 D,,2 |]
"""  # one plain '|' only: music21 makes no measures of it


def test_an_abc_drum_voice_in_quintuplets_is_read_by_key_and_quantised(tmp_path: Path) -> None:
    score = read(tmp_path, ABC_KIT, "kit.abc")
    kick, snare, hat = Drum("kick"), Drum("snare"), Drum("closed-hat")
    assert [[e.drums for e in bar.events] for bar in score.parts[0].bars] == [
        [(kick,), (kick,), (snare,), (kick,), (kick,), (hat,)],
        [(kick,), (snare,)],
    ]
    assert score.source is not None
    assert score.source.quantised > 0
    assert score.source.notes == (
        "music21 read no bar lines in part 1 (in ABC it needs two plain '|'); its bars follow "
        "the meter",
        "measures read as layered notes (voices, tuplets): 1",
    )


# -- the header ---------------------------------------------------------------------------


def metronome(unit: str, per_minute: int) -> str:
    return (
        "<direction><direction-type><metronome>"
        f"<beat-unit>{unit}</beat-unit><per-minute>{per_minute}</per-minute>"
        "</metronome></direction-type></direction>"
    )


def test_what_the_file_does_not_say_is_estimated_and_listed(tmp_path: Path) -> None:
    three = note("C4", 2, "quarter") + note("E4", 2, "quarter") + note("G4", 2, "quarter")
    measures = [three, three, note("C5", 6, "half", dot=True)]
    score = read(tmp_path, musicxml(measures, meter=None, key=""))
    assert (score.header.meter, score.header.tempo) == ("3/4", 120)
    assert score.header.beat == 1
    assert score.header.key == Key.parse("C major")
    assert score.source is not None
    assert score.source.estimated == (
        "meter 3/4 (the file has no time signature)",
        "key C major (music21's key analysis; the file has no key signature)",
        "tempo 120 beats a minute (the file has none)",
    )


@pytest.mark.parametrize(
    ("last_two", "mode"),
    [(("G4", "E4"), "E minor"), (("E4", "G4"), "G major"), (("E4", "A4"), "A dorian")],
)
def test_a_key_signature_without_a_mode_takes_the_mode_that_ends_on_the_last_note(
    tmp_path: Path, last_two: tuple[str, str], mode: str
) -> None:
    one_sharp = "<key><fifths>1</fifths></key>"
    first, last = last_two
    measures = [note("B4", 8, "whole"), note(first, 8, "whole"), note(last, 8, "whole")]
    score = read(tmp_path, musicxml(measures, key=one_sharp))
    assert score.header.key == Key.parse(mode)
    assert score.source is not None
    assert score.source.estimated[0] == f"mode: {mode} (from the key signature and the final note)"


def test_a_score_of_drums_alone_takes_the_major_key_of_a_signature_without_a_mode(
    tmp_path: Path,
) -> None:
    two_sharps = "<key><fifths>2</fifths></key>"  # no mode, and no melody to end on a tonic
    score = read(tmp_path, musicxml([hit("F4", 8, "whole")], key=two_sharps, part_list=KIT))
    assert score.parts[0].role == "drums"
    assert score.header.key == Key.parse("D major")
    assert score.source is not None
    assert "mode: D major (from the key signature and the final note)" in score.source.estimated


def test_a_metronome_mark_in_another_beat_than_the_meters_keeps_its_own_beat(
    tmp_path: Path,
) -> None:
    dotted = note("C5", 3, "quarter", dot=True)
    score = read(tmp_path, musicxml([metronome("quarter", 90) + dotted + dotted], meter="6/8"))
    assert score.header.tempo == 90
    assert score.header.beat == 1
    assert score.source is not None
    assert not any("tempo" in line for line in score.source.estimated)


@pytest.mark.parametrize(
    ("meter", "bar", "tempo", "beat"),
    [
        ("4/4", note("C5", 8, "whole"), 80.0, Fraction(1)),  # 80 quarter notes a minute
        ("6/8", note("C5", 6, "half", dot=True), 53.33, Fraction(3, 2)),  # 80 / 1.5, rounded
    ],
    ids=["4/4", "6/8"],
)
def test_a_metronome_mark_in_breves_is_turned_into_the_meters_beat(
    tmp_path: Path, meter: str, bar: str, tempo: float, beat: Fraction
) -> None:
    score = read(tmp_path, musicxml([metronome("breve", 10) + bar], meter=meter))
    assert score.header.tempo == tempo  # from ten breves (8 quarter notes each) a minute
    assert score.header.beat == beat


def test_an_abc_title_is_its_first_title_field_with_escapes_undone(tmp_path: Path) -> None:
    abc = "X:1\nT:50\\% off\nT:Second title\nM:2/4\nL:1/8\nK:G\nGABc|d4|\n"
    assert read(tmp_path, abc, "tune.abc").header.title == "50% off"  # music21 reads "50\\"


# -- chord symbols and repeats ------------------------------------------------------------


def test_chord_symbols_are_spelt_as_the_file_shows_them_with_flats_and_bass(
    tmp_path: Path,
) -> None:
    measures = [
        harmony("C", "dominant", "7", bass="E") + HALF + harmony("F", "major") + HALF,
        harmony("B", "major-seventh", "maj7", alter=-1) + HALF + harmony("D", "minor", "m") + HALF,
    ]
    score = read(tmp_path, musicxml(measures))
    assert score.harmony == chords((0, 2, "C7/E"), (2, 2, "F"), (4, 2, "Bbmaj7"), (6, 2, "Dm"))
    assert score.source is not None
    assert score.source.notes == ()


def test_a_chord_symbol_followed_by_another_on_the_same_beat_gives_way_to_it(
    tmp_path: Path,
) -> None:
    measure = harmony("C", "major") + harmony("G", "major") + HALF + harmony("F", "major") + HALF
    score = read(tmp_path, musicxml([measure]))
    assert score.harmony == chords((0, 2, "G"), (2, 2, "F"))
    assert score.source is not None
    assert score.source.notes == ()  # nothing was dropped that the file meant to sound


def test_chord_symbols_tunesmith_cannot_name_are_dropped_and_named_in_the_notes(
    tmp_path: Path,
) -> None:
    measure = harmony("C", "dominant", "7 alt") + HALF + harmony("D", "dominant", "7 sus") + HALF
    score = read(tmp_path, musicxml([measure, harmony("G", "major") + note("G4", 8, "whole")]))
    assert score.harmony == chords((4, 4, "G"))
    assert score.source is not None
    assert score.source.notes == (
        "chord symbols tunesmith cannot name were dropped: C7 alt, D7 sus",
    )


def repeat_mark(direction: str, location: str) -> str:
    return f'<barline location="{location}"><repeat direction="{direction}"/></barline>'


def ending(number: str, kind: str, location: str) -> str:
    return f'<barline location="{location}"><ending number="{number}" type="{kind}"/></barline>'


@pytest.mark.parametrize("number", ["1", "1, 2", "2, 1"])
def test_an_ending_played_the_first_time_is_a_first_ending_whatever_else_it_is(
    tmp_path: Path, number: str
) -> None:
    measures = [
        WHOLE_C,
        repeat_mark("forward", "left") + WHOLE_C,
        ending(number, "start", "left")
        + WHOLE_C
        + ending(number, "stop", "right")
        + repeat_mark("backward", "right"),
        ending("3", "start", "left") + WHOLE_C + ending("3", "discontinue", "right"),
    ]
    score = read(tmp_path, musicxml(measures))
    assert score.repeats == (Repeat(1, 3, 1),)


def test_a_second_ending_alone_is_no_first_ending(tmp_path: Path) -> None:
    measures = [
        repeat_mark("forward", "left") + WHOLE_C,
        ending("2", "start", "left")
        + WHOLE_C
        + ending("2", "stop", "right")
        + repeat_mark("backward", "right"),
    ]
    assert read(tmp_path, musicxml(measures)).repeats == (Repeat(0, 2, 0),)


def test_a_repeat_that_is_all_first_ending_is_played_once_and_the_reader_says_so(
    tmp_path: Path,
) -> None:
    measures = [
        repeat_mark("forward", "left") + ending("1", "start", "left") + WHOLE_C,
        WHOLE_C + ending("1", "stop", "right") + repeat_mark("backward", "right"),
        WHOLE_C,
    ]
    score = read(tmp_path, musicxml(measures))
    assert score.repeats == ()
    assert score.source is not None
    assert score.source.notes == ("a repeat ending at bar 2 could not be read; it is played once",)


# -- the part list ------------------------------------------------------------------------


def score_part(name: str, instrument: str) -> str:
    return (
        f'<score-part id="P1"><part-name>{name}</part-name>'
        f'<midi-instrument id="P1-I1">{instrument}</midi-instrument></score-part>'
    )


@pytest.mark.parametrize(
    ("instrument", "voice"),
    [
        ("<midi-channel>1</midi-channel><midi-program>74</midi-program>", Voice("Lead", 73)),
        ("<midi-program>200</midi-program>", Voice("Lead", 127)),
        ("<midi-program>0</midi-program>", Voice("Lead", 0)),
        ("<midi-program>x</midi-program>", Voice("Lead", 0)),
        ("<midi-channel> 10 </midi-channel>", Voice("Lead", 0, drums=True)),
        ("<midi-unpitched>37</midi-unpitched>", Voice("Lead", 0, drums=True)),
        ("<midi-channel>11</midi-channel>", Voice("Lead", 0)),
    ],
    ids=["program", "past-127", "zero", "not-a-number", "channel-10", "unpitched", "channel-11"],
)
def test_the_part_list_gives_each_parts_general_midi_program_and_drum_flag(
    instrument: str, voice: Voice
) -> None:
    facts = musicxml_facts(musicxml([WHOLE_C], part_list=score_part("Lead", instrument)))
    assert facts.voices == (voice,)
    assert facts.key is None


def test_a_key_of_mode_none_is_no_key_signature() -> None:
    keyless = "<key><fifths>0</fifths><mode>none</mode></key>"
    assert musicxml_facts(musicxml([WHOLE_C], key=keyless)).key == "none"
    assert musicxml_facts(musicxml([WHOLE_C])).key is None


def write_mxl(path: Path, inner: str, document: str) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container><rootfiles>'
            f'<rootfile full-path="{inner}"/></rootfiles></container>',
        )
        archive.writestr(inner, document)
    return path


@pytest.mark.parametrize("inner", ["score.xml", "score.musicxml"])
def test_an_mxl_archive_reads_its_part_list_from_the_score_inside(
    tmp_path: Path, inner: str
) -> None:
    instrument = "<midi-channel>1</midi-channel><midi-program>74</midi-program>"
    document = musicxml([WHOLE_C], part_list=score_part("Lead", instrument))
    score = read_score(write_mxl(tmp_path / "tune.mxl", inner, document))
    assert [(p.name, p.program) for p in score.parts] == [("Lead", 73)]


def test_an_mxl_archive_without_a_musicxml_score_is_a_read_error(tmp_path: Path) -> None:
    path = write_mxl(tmp_path / "tune.mxl", "score.txt", musicxml([WHOLE_C]))
    with pytest.raises(ReadError, match="music21 cannot read it as musicxml"):
        read_score(path)
