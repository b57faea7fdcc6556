"""What real client programs make of tunesmith's files: issue 20's items 11, 12, 13 and 21.

MuseScore 3 reads the MusicXML, abc2midi plays the ABC and abcm2ps engraves it, each run
here when it is installed (``apt-get install musescore3 abcmidi abcm2ps``); a Jupyter
notebook shows a composition's HTML.
"""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import mido
import pytest

from band_checks import GrammarBound, tracks
from tunesmith import ComposeRequest, compose
from tunesmith.band.arrange import accompany
from tunesmith.io.abc import abc_text
from tunesmith.io.midi import sounding_notes
from tunesmith.io.read import read_score
from tunesmith.io.score import DRUM_DISPLAY, musicxml_bytes
from tunesmith.io.write import write_score
from tunesmith.model.notation import parse
from tunesmith.model.score import Part, Pitch, Repeat, Score

BAND = parse(
    """title: Session
meter: 4/4
key: G major
tempo: q=110

part: Fiddle
role: melody
program: 40
|: G4:e A4:e B4:e G4:e D5:e B4:e G4:q | A4:e B4:e C5:e A4:e D5:h :|

part: Guitar
role: chords
program: 25
|: [G3 B3 D4]:h [G3 B3 D4]:h | [F#3 A3 D4]:h [F#3 A3 D4]:h :|

part: Bass
role: bass
program: 33
|: G2:h D2:h | D2:h A1:h :|

part: Drums
role: drums
|: kick:q closed-hat:q [kick snare]:q closed-hat:q | [kick crash]:q floor-tom:q snare:h :|

harmony:
|: G:w | D:w :|"""
)


AABB = parse(
    """meter: 2/2
key: G major
tempo: h=112

G4:h B4:h | D5:h G4:h | A4:h C5:h | B4:h G4:h |

harmony:
G:w | G:w | D:w | G:w |"""
)
REEL = parse(
    "meter: 2/2\nkey: G major\ntempo: h=112\n\n"
    + "G4:h B4:h | D5:h G4:h | A4:h C5:h | B4:h G4:h |\n" * 4
    + "\nharmony:\n"
    + "G:w | G:w | D:w | G:w |\n" * 4
)


def program(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install abcmidi abcm2ps musescore3)")
    return path


def run(*command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}  # MuseScore without a display
    return subprocess.run(
        command, capture_output=True, text=True, check=False, cwd=cwd, timeout=120, env=environment
    )


def notes_by_track(data: bytes) -> list[list[tuple[int, Fraction]]]:
    """(key, onset) of every note of each track with notes, in order."""
    return [sorted((key, onset) for key, onset, _, _ in track.notes) for track in tracks(data)]


def played(part: Part) -> list[tuple[int, Fraction]]:
    return sorted((key, onset) for key, onset, _ in sounding_notes(part.tune))


# -- 11. MusicXML in MuseScore ------------------------------------------------------------


def clefs(score: Score) -> list[tuple[str | None, ...]]:
    root = ET.fromstring(musicxml_bytes(score))
    return [
        (
            part.findtext(".//clef/sign"),
            part.findtext(".//clef/line"),
            part.findtext(".//clef/clef-octave-change"),
        )
        for part in root.iter("part")
    ]


def test_the_tempo_mark_stands_above_the_staff() -> None:
    root = ET.fromstring(musicxml_bytes(BAND))
    (direction,) = (d for d in root.iter("direction") if d.find(".//metronome") is not None)
    assert direction.get("placement") == "above"


def test_guitar_is_read_an_octave_up_in_treble_8vb_and_bass_guitar_in_bass_8vb() -> None:
    assert clefs(BAND) == [
        ("G", "2", None),  # the fiddle reads at pitch
        ("G", "2", "-1"),  # the guitar sounds an octave below its treble clef
        ("F", "4", "-1"),  # and so does the bass guitar below its bass clef
        ("percussion", None, None),
    ]


@pytest.mark.parametrize(
    "number", [24, 31, 32, 39], ids=["nylon", "harmonics", "acoustic-bass", "synth-bass-2"]
)
def test_every_general_midi_guitar_and_bass_takes_its_octave_clef(number: int) -> None:
    low = replace(BAND.parts[2], program=number)
    high = replace(BAND.parts[1], program=number)
    score = replace(BAND, parts=(BAND.parts[0], high, low))
    assert [clef[2] for clef in clefs(score)] == [None, "-1", "-1"]


@pytest.mark.parametrize("number", [72, 74, 78], ids=["piccolo", "recorder", "whistle"])
def test_piccolo_recorder_and_whistle_are_written_an_octave_down_in_treble_8va(
    number: int,
) -> None:
    whistle = replace(BAND.parts[0], program=number)
    score = replace(BAND, parts=(whistle, *BAND.parts[1:]))
    assert clefs(score)[0] == ("G", "2", "1")  # sounds an octave above the staff


def test_musicxml_writes_the_sounding_pitch_under_an_octave_clef() -> None:
    """MusicXML's pitch is what sounds; the clef's octave change moves it on the staff."""
    root = ET.fromstring(musicxml_bytes(BAND))
    bass = list(root.iter("part"))[2]
    first = bass.find(".//note/pitch")
    assert first is not None
    assert (first.findtext("step"), first.findtext("octave")) == ("G", "2")


def test_an_octave_clef_reads_back_at_the_pitch_written(tmp_path: Path) -> None:
    """music21 keeps the pitch of a note under a clef with clef-octave-change (it does not
    transpose it), and so does tunesmith's reader: the round trip gives the same score."""
    from music21 import converter

    read = converter.parse(musicxml_bytes(BAND), format="musicxml")
    guitar, bass = read.parts[1], read.parts[2]
    assert guitar.recurse().getElementsByClass("Clef").first().octaveChange == -1
    assert [p.midi for p in guitar.recurse().notes.first().pitches] == [55, 59, 62]
    assert bass.recurse().notes.first().pitch.midi == Pitch.parse("G2").midi
    path = tmp_path / "session.musicxml"
    write_score(BAND, path)
    again = read_score(path)
    assert [p.tune for p in again.parts] == [p.tune for p in BAND.parts]
    assert [p.program for p in again.parts] == [p.program for p in BAND.parts]


def test_musescore_plays_guitar_and_bass_at_the_pitch_they_sound(tmp_path: Path) -> None:
    mscore = program("mscore3")
    score = replace(BAND, parts=BAND.parts[:3], repeats=())
    (tmp_path / "band.musicxml").write_bytes(musicxml_bytes(score))
    result = run(mscore, "-o", "band.mid", "band.musicxml", cwd=tmp_path)
    assert (tmp_path / "band.mid").exists(), result.stderr
    heard = notes_by_track((tmp_path / "band.mid").read_bytes())
    assert heard == [played(part) for part in score.parts]


# -- 12. ABC in abc2midi and abcm2ps -------------------------------------------------------


def abc2midi_notes(text: str, tmp_path: Path) -> dict[int, list[tuple[int, Fraction]]]:
    """(key, onset) of the notes abc2midi plays on each channel."""
    (tmp_path / "band.abc").write_text(text)
    result = run(program("abc2midi"), "band.abc", "-o", "band.mid", cwd=tmp_path)
    assert (tmp_path / "band.mid").exists(), result.stdout + result.stderr
    midi = mido.MidiFile(tmp_path / "band.mid")
    heard: dict[int, list[tuple[int, Fraction]]] = {}
    for track in midi.tracks:
        now = 0
        for message in track:
            now += message.time
            if message.type == "note_on" and message.velocity > 0:
                # to the sixteenth (BAND's notes start on eighths): abc2midi starts a note a
                # tick late, and a chord's notes 10 ticks apart
                onset = Fraction(round(Fraction(4 * now, midi.ticks_per_beat)), 4)
                heard.setdefault(message.channel, []).append((message.note, onset))
    return {channel: sorted(notes) for channel, notes in heard.items()}


def test_abc2midi_plays_only_the_written_parts_and_no_chords_of_its_own(tmp_path: Path) -> None:
    heard = abc2midi_notes(abc_text(BAND), tmp_path)
    expanded = BAND.expanded()
    assert len(heard) == len(BAND.parts)  # no channel for abc2midi's own accompaniment
    assert heard[9] == played(expanded.parts[3])  # the drums on channel 10, as written
    pitched = [notes for channel, notes in sorted(heard.items()) if channel != 9]
    assert pitched == [played(part) for part in expanded.parts[:3]]


def test_a_melody_alone_still_gets_abc2midis_chords() -> None:
    """Without a band, the chord symbols are abc2midi's to play (``%%MIDI gchord``)."""
    lead = replace(BAND, parts=BAND.parts[:1], repeats=())
    assert "gchordoff" not in abc_text(lead)
    assert "%%MIDI gchordoff" in abc_text(BAND)


def engrave(text: str, tmp_path: Path) -> tuple[str, str]:
    """abcm2ps's SVG of the ABC, bar numbers on every bar, and what it said on stderr."""
    (tmp_path / "band.abc").write_text(text)
    result = run(program("abcm2ps"), "-g", "-j1", "-O", "band", "band.abc", cwd=tmp_path)
    pages = sorted(tmp_path.glob("band*.svg"))
    return "".join(page.read_text() for page in pages), result.stderr


def test_abcm2ps_engraves_every_bar_of_a_band_with_drums_without_an_error(tmp_path: Path) -> None:
    """A reel's band in G: the floor tom is F natural (``=F,,``), which abcm2ps took for a
    note head it has no symbol for, and stopped engraving after four bars."""
    score = accompany(replace(REEL, repeats=(Repeat(0, 8), Repeat(8, 16))), style="reel")
    svg, errors = engrave(abc_text(score), tmp_path)
    complaints = [
        line
        for line in (errors + svg).splitlines()
        if re.search(r"not defined|error|warning", line, re.IGNORECASE)
    ]
    assert complaints == []
    numbers = {int(n) for n in re.findall(r'<text x="[\d.]+" y="[\d.]+">(\d+)</text>', svg)}
    last = score.bar_count - sum(r.ending for r in score.repeats)  # a 2nd ending is numbered
    assert numbers >= set(range(2, last + 1))  # as its first: every bar numbered, to the last
    drums = score.parts[-1]
    crosses = [
        drum
        for bar in drums.bars
        for event in bar.events
        for drum in event.drums
        if DRUM_DISPLAY()[drum.midi][1] == "x"
    ]
    assert svg.count('xlink:href="#pshhd"') == len(crosses)  # every hat and cymbal, to the end


def test_abcm2ps_prints_each_drum_on_the_staff_where_the_musicxml_puts_it() -> None:
    text = abc_text(BAND)
    voice = text[text.index('name="Drums"') :]
    assert "%%voicemap drums" in voice
    maps = dict(re.findall(r"^%%map drums (\S+) print=(\S+)", text, re.MULTILINE))
    written = {
        drum.midi for bar in BAND.parts[3].bars for event in bar.events for drum in event.drums
    }
    printed = set()
    for place in maps.values():
        octave = 5 + place.count("'") if place[0].islower() else 4 - place.count(",")
        printed.add(Pitch(place[0].upper(), 0, octave))
    assert printed == {Pitch.parse(DRUM_DISPLAY()[key][0]) for key in written}
    staff = range(Pitch.parse("D4").midi, Pitch.parse("B5").midi + 1)
    assert all(place.midi in staff for place in printed)  # on the staff or a line off it


def test_drums_alone_are_still_a_drum_voice_on_channel_10(tmp_path: Path) -> None:
    """A lone unnamed part at program 0 is written without a V: line, unless it is drums."""
    drums = parse("part: \nrole: drums\nkick:q snare:q kick:q snare:q |\n")
    text = abc_text(drums)
    assert 'V:1 name="" clef=perc\n%%MIDI channel 10\n' in text
    assert abc2midi_notes(text, tmp_path) == {9: played(drums.parts[0])}


def test_abc_with_printed_drums_reads_back_as_the_same_score(tmp_path: Path) -> None:
    path = tmp_path / "band.abc"
    write_score(BAND, path)
    again = read_score(path)
    assert [p.tune for p in again.parts] == [p.tune for p in BAND.parts]
    assert [p.is_drum for p in again.parts] == [False, False, False, True]


# -- 13. The band's ending -----------------------------------------------------------------


def crashes(part: Part) -> list[int]:
    return [
        number
        for number, bar in enumerate(part.bars, 1)
        if any(drum.name == "crash" for event in bar.events for drum in event.drums)
    ]


def held(part: Part) -> list[int]:
    """The bars whose chord is struck once and held to the bar's end."""
    return [
        number
        for number, bar in enumerate(part.bars, 1)
        if len(bar.events) == 1 and bar.events[0].pitches
    ]


def test_a_repeated_reels_band_plays_its_ending_only_in_the_last_bar_as_played() -> None:
    lead = replace(AABB, repeats=(Repeat(0, 2), Repeat(2, 4)))  # AABB: 4 bars played as 8
    band = accompany(lead, style="reel")
    heard = band.expanded()
    assert heard.bar_count == 8
    assert [p.tune for p in heard.parts[:1]] == [lead.expanded().parts[0].tune]
    chords, bass, drums = heard.parts[1:]
    assert crashes(drums) == [8]
    assert held(chords) == [8]
    assert held(bass) == [8]


def test_a_32_bar_reel_with_a_band_crashes_once_in_bar_32() -> None:
    request = ComposeRequest(style="reel", key="G", band=True)
    heard = compose(request, backend=GrammarBound(seed=4)).score.expanded()
    assert heard.bar_count == 32
    assert crashes(heard.parts[-1]) == [32]  # not also in bar 24, the first B's end


def test_the_last_repeat_gets_a_second_ending_for_the_bands_ending() -> None:
    band = accompany(replace(AABB, repeats=(Repeat(0, 2), Repeat(2, 4))), style="reel")
    assert band.repeats == (Repeat(0, 2), Repeat(2, 4, ending=1))
    assert band.bar_count == 5
    assert band.melody.bars[4] == band.melody.bars[3]  # the melody plays the same both times
    assert [c.figure for c in band.harmony if c.onset >= 16] == ["G"]
    assert "|1" in abc_text(band)
    assert ":|2" in abc_text(band)


def test_a_score_played_as_written_keeps_its_bars_and_its_ending() -> None:
    band = accompany(AABB, style="reel")
    assert (band.bar_count, band.repeats) == (4, ())
    assert crashes(band.parts[-1]) == [4]


# -- 21. Jupyter ---------------------------------------------------------------------------


def test_a_notebook_plays_a_jig_from_compressed_audio_in_a_small_page() -> None:
    composition = compose(style="jig", bars=16, backend=GrammarBound(seed=3))
    html = composition._repr_html_()
    match = re.search(r'<audio controls src="data:audio/ogg;base64,([^"]+)"', html)
    assert match is not None
    ogg = base64.b64decode(match.group(1))
    assert ogg.startswith(b"OggS")
    import soundfile

    with soundfile.SoundFile(io.BytesIO(ogg)) as sound:
        assert sound.subtype == "VORBIS"
        # the whole tune, give or take Vorbis's last block (padded or trimmed)
        assert abs(sound.frames - len(composition.to_audio())) < sound.samplerate // 10
    assert len(html.encode()) < 1_000_000  # was 4.1 MB with a WAV inline
