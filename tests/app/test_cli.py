"""The tunesmith command: compose from the shell; errors are one line and exit status 2."""

from __future__ import annotations

import re
from pathlib import Path

import mido
import pytest

from cli_process import tunesmith


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--notes", "A H C#"], "unknown note name 'H'"),
        (["--meter", "7/0"], "received '7/0'"),
        (["--bars", "0"], "bars must be between 1 and 256"),
        (["--tempo", "-5"], "tempo must be between"),
        (["--key", "D", "--mode", "klingon"], "unknown mode 'klingon'"),
        (["--low", "A5", "--high", "A3"], "inverted"),
        (["--instrument", "kazooo"], "unknown instrument 'kazooo'"),
        (["--style", "blues"], "style: the blues style was removed: a blues needs its 12-bar form"),
        (["-o", "/no/such/folder/tune.mid"], "the folder /no/such/folder does not exist"),
        (["--bars", "abc"], "argument --bars: invalid int value: 'abc'"),
        (["--backend", "bogus"], "invalid choice: 'bogus' (choose from 'local', 'openai')"),
        (["--notes", "A B", "--bogus"], "unrecognized arguments: --bogus"),
        (["--audio", "tune.mp3"], "audio files must end in .wav, .flac, .ogg (received '.mp3')"),
        (["--audio", "t.wav", "--soundfont", "/no/such.sf2"], "soundfont /no/such.sf2 does not"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_status_2(args: list[str], message: str) -> None:
    result = tunesmith("compose", *args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("tunesmith: error: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.model
def test_compose_writes_midi_audio_and_text(tmp_path: Path) -> None:
    result = tunesmith(
        "compose",
        "--notes",
        "A B C# F# G",
        "--meter",
        "6/8",
        "--bars",
        "2",
        "--tempo",
        "112",
        "--instrument",
        "flute",
        "--seed",
        "7",
        "-o",
        "jig.mid",
        "--audio",
        "jig.wav",
        "--text",
        "jig.txt",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    written = (tmp_path / "jig.txt").read_text()  # the score: header and melody part
    assert written.startswith("title: Folk tune on A B C# F# G\nmeter: 6/8\n")
    assert result.stdout.strip() in written  # the melody's bars
    assert "2 bars of 6/8 on local" in result.stderr
    midi = mido.MidiFile(tmp_path / "jig.mid")
    assert any(m.type == "program_change" and m.program == 73 for m in midi.tracks[1])
    assert (tmp_path / "jig.wav").read_bytes()[:4] == b"RIFF"


def test_show_turns_notation_into_midi_abc_musicxml_and_audio(tmp_path: Path) -> None:
    (tmp_path / "tune.txt").write_text("A4:q B4:q | C#5:h |\n")
    result = tunesmith(
        "show",
        "tune.txt",
        "--meter",
        "2/4",
        "--instrument",
        "violin",
        "-o",
        "tune.mid",
        "--abc",
        "tune.abc",
        "--musicxml",
        "tune.musicxml",
        "--audio",
        "tune.wav",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    midi = mido.MidiFile(tmp_path / "tune.mid")
    assert [m.note for m in midi.tracks[1] if m.type == "note_on"] == [69, 71, 73]
    assert "A2 B2 | ^c4 |]" in (tmp_path / "tune.abc").read_text()
    assert b"<score-partwise" in (tmp_path / "tune.musicxml").read_bytes()
    assert (tmp_path / "tune.wav").stat().st_size > 44


def test_show_reports_a_notation_error_with_its_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "tune.txt").write_text("A4:q B4:q |\nC#5:x |\n")
    result = tunesmith("show", "tune.txt", "-o", "tune.mid", cwd=tmp_path)
    assert result.returncode == 2
    assert "line 2, column 1: unknown duration 'x'" in result.stderr
    assert not (tmp_path / "tune.mid").exists()


def test_render_turns_any_midi_file_into_audio(tmp_path: Path) -> None:
    midi = mido.MidiFile()
    midi.tracks.append(
        mido.MidiTrack(
            [
                mido.Message("note_on", note=60, velocity=90, time=0),
                mido.Message("note_off", note=60, velocity=0, time=480),
            ]
        )
    )
    midi.save(tmp_path / "c.mid")
    result = tunesmith("render", "c.mid", "--audio", "c.flac", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "c.flac").read_bytes()[:4] == b"fLaC"


def test_show_takes_the_header_from_the_score_and_writes_every_part(tmp_path: Path) -> None:
    (tmp_path / "band.txt").write_text(
        "title: Ōdori\nmeter: 6/8\nkey: E dorian\ntempo: q.=116\n\n"
        "part: Fiddle\nprogram: 40\n|: E4:e G4:e B4:e E5:q. :|\n\n"
        "part: Drums\nrole: drums\n|: kick:q. snare:q. :|\n"
    )
    result = tunesmith("show", "band.txt", "-o", "band.mid", "--musicxml", "band.mxl", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    midi = mido.MidiFile(tmp_path / "band.mid", charset="utf-8")
    assert [t.name for t in midi.tracks] == ["Ōdori", "Fiddle", "Drums"]
    assert [m.note for m in midi.tracks[2] if m.type == "note_on"] == [36, 38, 36, 38]  # repeated
    assert (tmp_path / "band.mxl").read_bytes()[:2] == b"PK"


def test_show_turns_any_readable_file_into_any_other(tmp_path: Path) -> None:
    from music21 import corpus

    chorale = corpus.getWork("bach/bwv66.6.mxl")
    result = tunesmith("show", str(chorale), "-o", "bach.mid", "--abc", "bach.abc", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(mido.MidiFile(tmp_path / "bach.mid").tracks) == 5  # conductor + four voices
    assert (tmp_path / "bach.abc").read_text().count("V:") == 4


def test_render_plays_every_part_of_a_musicxml_file(tmp_path: Path) -> None:
    from music21 import corpus

    result = tunesmith(
        "render", str(corpus.getWork("bach/bwv66.6.mxl")), "--audio", "bach.wav", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "bach.wav").stat().st_size > 44100 * 4 * 10  # over ten seconds


def test_evaluate_measures_the_melody_of_any_readable_file(tmp_path: Path) -> None:
    from music21 import corpus

    result = tunesmith("evaluate", str(corpus.getWork("bach/bwv66.6.mxl")), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "distance from" in result.stdout


@pytest.mark.parametrize("command", ["show", "render", "evaluate"])
def test_a_bad_file_is_one_line_naming_it(tmp_path: Path, command: str) -> None:
    (tmp_path / "fake.mid").write_text("not midi at all\n")
    extra = ["--audio", "x.wav"] if command == "render" else []
    result = tunesmith(command, "fake.mid", *extra, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "tunesmith: error: cannot read fake.mid: not a MIDI file: it does not start with "
        "'MThd' (it looks like text)\n"
    )


def test_render_of_a_missing_file_is_one_line(tmp_path: Path) -> None:
    result = tunesmith("render", "nope.mid", "--audio", "x.wav", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "tunesmith: error: cannot read nope.mid: No such file or directory\n"


def test_evaluate_prints_metrics_and_the_distance_from_the_corpus(tmp_path: Path) -> None:
    (tmp_path / "tune.txt").write_text("D4:e E4:e F#4:e G4:q A4:e | B4:q. A4:q. |\n")
    result = tunesmith("evaluate", "tune.txt", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "stepwise_share: 1.000" in result.stdout  # D E F# G A B A moves by step
    assert "distance from" in result.stdout


def test_soundfonts_lists_what_the_search_finds() -> None:
    result = tunesmith("soundfonts")
    assert "/usr/share/sounds/sf2/FluidR3_GM.sf2  (system)" in result.stdout


def test_interpret_shows_the_request_words_become_and_composes_nothing(tmp_path: Path) -> None:
    result = tunesmith("interpret", "a jig in 6/8 on the notes D E F# A B", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "notes: D E F# A B\n" in result.stdout
    assert "meter: 6/8\n" in result.stdout
    assert "'on the notes D E F# A B' -> notes=('D', 'E', 'F#', 'A', 'B')" in result.stdout
    assert not list(tmp_path.iterdir())


def test_interpret_prints_json_for_programs() -> None:
    import json

    result = tunesmith("interpret", "--json", "сумна колискова в ре мінорі")  # noqa: RUF001
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert (shown["request"]["key"], shown["request"]["mode"]) == ("D", "minor")
    assert shown["explanation"]["language"] == "uk"


def test_compose_in_words_that_contradict_is_one_line_and_exit_status_2() -> None:
    result = tunesmith("compose", "a waltz in 6/8")
    assert result.returncode == 2
    assert result.stderr == (
        "tunesmith: error: 'waltz' is in 3/4, but 'in 6/8' asks for 6/8: drop one of them, "
        "or give the meter as an option (meter=, --meter) to override the style\n"
    )


def test_compose_in_words_for_a_removed_style_is_one_line_saying_why_and_what_instead() -> None:
    result = tunesmith("compose", "a modal chant for choir")
    assert result.returncode == 2
    assert result.stderr.startswith(
        "tunesmith: error: style: the chant style was removed: a chant flows freely and "
        "stepwise, without a meter, and tunesmith's embedded model knows only Irish and "
        "Scottish folk dance tunes"
    )
    assert "; the styles are air, ballad, celtic, folk, " in result.stderr
    assert result.stderr.endswith(
        "'a slow air in D dorian' in words, or style='air', key='D', mode='dorian' "
        "(read from 'chant')\n"
    )
    assert result.stderr.count("\n") == 1


def test_soundfonts_fails_when_the_soundfont_named_in_the_environment_is_missing(
    tmp_path: Path,
) -> None:
    result = tunesmith("soundfonts", env={"TUNESMITH_SOUNDFONT": str(tmp_path / "gone.sf2")})
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"tunesmith: error: TUNESMITH_SOUNDFONT={tmp_path / 'gone.sf2'} does not exist; "
        "point it at a .sf2 or .sf3 file, or unset it\n"
    )


def test_the_help_reads_well() -> None:
    result = tunesmith("compose", "--help")
    assert "write the tune in tunesmith notation here" in " ".join(result.stdout.split())
    assert "the the" not in result.stdout


@pytest.mark.parametrize("command", ["show", "evaluate"])
def test_a_file_that_is_not_utf8_is_one_line_naming_the_byte(command: str, tmp_path: Path) -> None:
    (tmp_path / "tune.txt").write_bytes("A4:q B4:q | C#5:h | % Café".encode("latin-1"))
    result = tunesmith(command, "tune.txt", cwd=tmp_path)
    assert result.returncode == 2
    position = len("A4:q B4:q | C#5:h | % Caf")
    assert result.stderr == (
        "tunesmith: error: cannot read tune.txt: not UTF-8 text (byte 0xe9 at position "
        f"{position}); save it as UTF-8\n"
    )


def test_a_corrupt_soundfont_fails_before_anything_is_written(tmp_path: Path) -> None:
    (tmp_path / "bad.sf2").write_bytes(b"not a soundfont" * 100)
    (tmp_path / "tune.txt").write_text("A4:q B4:q C#5:h | C#5:w |\n")
    result = tunesmith(
        "show", "tune.txt", "-o", "tune.mid", "--audio", "t.wav", "--soundfont", "bad.sf2",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert re.search(r"cannot load the soundfont \S*bad.sf2: it is not a valid .sf2", result.stderr)
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "tune.mid").exists()
