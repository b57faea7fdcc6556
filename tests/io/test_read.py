"""read_score: files no one here wrote, read into parts and a header; bad files, typed errors."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import mido
import pytest

from corpus_tunes import abc_of
from sequencer_files import two_tracks_with_drums
from tunesmith import ReadError, read_score
from tunesmith.checks.corpus import corpus_tune
from tunesmith.io.midi import midi_bytes, read_midi_notes, sounding_notes
from tunesmith.io.write import write_score
from tunesmith.model.notation import unparse
from tunesmith.model.score import Drum, Key, Score

CHORALE = "bach/bwv66.6.mxl"


def corpus_path(name: str) -> Path:
    from music21 import corpus

    return Path(corpus.getWork(name))


def music21_notes(part: object) -> list[tuple[tuple[int, ...], Fraction, Fraction]]:
    """(keys, onset, length) of each note and chord music21 reads in a part, as written."""
    return [
        (
            tuple(sorted(p.midi for p in n.pitches)),
            Fraction(n.offset).limit_denominator(96),
            Fraction(n.quarterLength).limit_denominator(96),
        )
        for n in part.flatten().notes  # type: ignore[attr-defined]
        if not n.duration.isGrace and "Harmony" not in n.classes
    ]


def tunesmith_notes(score: Score, index: int) -> list[tuple[tuple[int, ...], Fraction, Fraction]]:
    """(keys, onset, length) of each note and chord of a part, as written."""
    notes, now = [], Fraction(0)
    for event in score.parts[index].tune.events:
        if event.pitches:
            notes.append((tuple(sorted(p.midi for p in event.pitches)), now, event.duration))
        now += event.duration
    return notes


# -- real files ---------------------------------------------------------------------------


def test_a_bach_chorale_is_four_parts_with_music21s_notes_and_four_tracks_out(
    tmp_path: Path,
) -> None:
    from music21 import converter

    path = corpus_path(CHORALE)
    score = read_score(path)
    assert [p.name for p in score.parts] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert [p.role for p in score.parts] == ["melody", "counter", "counter", "bass"]
    assert [p.clef for p in score.parts] == ["treble", "treble", "treble", "bass"]
    assert (score.header.meter, score.header.key) == ("4/4", Key.parse("F# minor"))
    assert score.bar_lengths[0] == 1  # the pickup stays a pickup
    original = converter.parse(path)
    for index, part in enumerate(original.parts):
        assert tunesmith_notes(score, index) == music21_notes(part)
    midi = mido.MidiFile(file=io.BytesIO(midi_bytes(score)))
    assert [t.name for t in midi.tracks[1:]] == ["Soprano", "Alto", "Tenor", "Bass"]
    tracks = [sorted({m.channel for m in t if not m.is_meta}) for t in midi.tracks[1:]]
    assert tracks == [[0], [1], [2], [3]]
    assert sorted(read_midi_notes(midi_bytes(score))) == sorted(
        note for part in score.parts for note in sounding_notes(part.tune)
    )


def test_a_chorale_written_by_music21s_midi_writer_reads_into_its_four_parts(
    tmp_path: Path,
) -> None:
    from music21 import converter

    original = converter.parse(corpus_path(CHORALE))
    path = tmp_path / "chorale.mid"
    original.write("midi", fp=path)
    score = read_score(path)
    assert len(score.parts) == 4
    assert score.header.meter == "4/4"
    assert score.header.key is not None
    assert score.header.key.sharps == 3
    heard = sorted(read_midi_notes(path))
    assert sorted(n for part in score.parts for n in sounding_notes(part.tune)) == heard
    assert score.parts[0].role == "melody"


@pytest.mark.parametrize(
    "tune_id",
    [
        "oneills1850/0001-0050.abc#7",
        "ryansMammoth/AcaciaReel.abc#1",
        "essenFolksong/altdeu10.abc#1",
    ],
)
def test_folk_tunes_from_the_corpus_read_with_their_header_and_repeats(
    tune_id: str, tmp_path: Path
) -> None:
    path = tmp_path / "tune.abc"
    path.write_text(abc_of(tune_id), "utf-8")
    score = read_score(path)
    original = corpus_tune(tune_id)
    assert (
        score.header.meter
        == original.recurse().getElementsByClass("TimeSignature").first().ratioString
    )
    assert tunesmith_notes(score, 0) == music21_notes(
        original.parts[0] if original.parts else original
    )
    for suffix in (".musicxml", ".abc", ".txt"):
        copy = tmp_path / f"copy{suffix}"
        write_score(score, copy)
        assert read_score(copy) == score, suffix


TWO_TUNES = """X:1
T:First
M:6/8
L:1/8
K:D
V:1 name="Fiddle"
%%MIDI program 40
DFA dfa|afd AFD|]
V:2 name="Cello"
%%MIDI program 42
D,3 A,3|D,3 D,3|]

X:2
T:Second
M:3/4
L:1/8
K:G
V:1 name="Flute"
%%MIDI program 73
G2 B2 d2|g6|]
V:3 name="Drums"
%%MIDI channel 10
C2 C2 C2|C6|]
"""


def test_an_abc_file_of_two_tunes_reads_as_its_first_tune_voices_and_all(tmp_path: Path) -> None:
    path = tmp_path / "book.abc"
    path.write_text(TWO_TUNES, "utf-8")
    score = read_score(path)
    assert (score.header.title, score.header.meter, score.header.key) == (
        "First",
        "6/8",
        Key.parse("D major"),
    )
    assert [(p.name, p.program, p.role) for p in score.parts] == [
        ("Fiddle", 40, "melody"),
        ("Cello", 42, "bass"),
    ]
    assert [len(part.tune.bars) for part in score.parts] == [2, 2]
    assert score.source is not None
    assert "the file holds 2 tunes; read the first" in score.source.notes


def test_a_two_track_mido_file_with_drums_reads_into_a_melody_and_a_drum_part(
    tmp_path: Path,
) -> None:
    score = read_score(two_tracks_with_drums(tmp_path))
    assert (score.header.meter, score.header.tempo) == ("3/4", 100)
    lead_part, kit_part = score.parts
    assert (lead_part.name, lead_part.role, lead_part.program) == ("Lead", "melody", 71)
    assert (kit_part.name, kit_part.role) == ("Kit", "drums")
    assert [e.drums for e in kit_part.bars[0].events] == [
        (Drum("kick"),),
        (Drum("closed-hat"),),
        (Drum("snare"),),
    ]
    assert "key" in " ".join(score.source.estimated)  # type: ignore[union-attr]
    assert "A4:q B4:e C#5:e D5:q |" in unparse(score)


def test_a_performance_is_quantised_and_the_reader_says_how_much(tmp_path: Path) -> None:
    midi = mido.MidiFile(type=0, ticks_per_beat=480)
    track = mido.MidiTrack([mido.MetaMessage("time_signature", numerator=2, denominator=4)])
    for key, start, end in ((60, 7, 236), (62, 250, 470), (64, 482, 960)):  # a human's eighths
        track += [
            mido.Message("note_on", note=key, velocity=80, time=start - sum(m.time for m in track)),
        ]
        track += [mido.Message("note_off", note=key, velocity=0, time=end - start)]
    midi.tracks.append(track)
    midi.save(tmp_path / "played.mid")
    score = read_score(tmp_path / "played.mid")
    assert str(score.melody.tune.bars[0].events[0].duration) == "1/2"
    assert score.source is not None
    assert score.source.quantised == 5
    assert score.source.max_shift == Fraction(1, 48)  # 10 ticks
    assert "quantised 5 note starts/ends" in str(score.source)


# -- bad files ----------------------------------------------------------------------------


def midi_without_notes() -> bytes:
    midi = mido.MidiFile()
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500000)]))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


BAD_FILES = [
    ("missing.mid", None, "No such file or directory"),
    ("empty.mid", b"", "the file is empty"),
    (
        "truncated.mid",
        b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\x01\x00\x00\x90",
        "corrupt or truncated MIDI file",
    ),
    ("silent.mid", midi_without_notes(), "the file has no notes"),
    (
        "text.mid",
        b"A4:q B4:q C5:h |\n",
        r"not a MIDI file: it does not start with 'MThd' \(it looks like text\)",
    ),
    ("midi.txt", b"MThd\x00\x00\x00\x06", "it is a MIDI file; give it a .mid suffix"),
    (
        "broken.musicxml",
        b"<score-partwise><part id='P1'><measure><note>",
        "music21 cannot read it as musicxml",
    ),
    (
        "latin1.txt",
        "A4:q B4:q | Ç".encode("latin-1"),
        r"not UTF-8 text \(byte 0xc7 at position 12\)",
    ),
    (
        "notation.txt",
        b"A4:q B4:x |",
        r"not tunesmith notation: line 1, column 6: unknown duration 'x'",
    ),
    ("rests.abc", b"X:1\nM:4/4\nL:1/8\nK:C\nz8 | z8 | z8 |]\n", "the file has no notes"),
]


@pytest.mark.parametrize(
    ("name", "data", "message"), BAD_FILES, ids=[name for name, _, _ in BAD_FILES]
)
def test_a_bad_file_is_a_read_error_naming_it_and_what_is_wrong(
    tmp_path: Path, name: str, data: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if data is not None:
        path.write_bytes(data)
    with pytest.raises(ReadError, match=message) as caught:
        read_score(path)
    assert caught.value.path == str(path)
    assert str(caught.value).startswith(f"cannot read {path}: ")


def test_a_200_mb_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.mid"
    with huge.open("wb") as file:
        file.truncate(200 * 2**20)  # sparse: no disk is spent
    with pytest.raises(
        ReadError, match="the file is 200 MiB; tunesmith reads scores of up to 32 MiB"
    ):
        read_score(huge)


def test_a_folder_is_a_read_error(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="it is a folder"):
        read_score(tmp_path)
