"""Output files at their edges: what an option writes, where, and what is refused before any work.

Every refusal is one line and exit status 2, made before a note is composed or a file written.
The sections follow issue 20's items 6 to 10.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from cli_process import tunesmith as run_tunesmith
from scripted_server import ScriptedServer, answer
from tunesmith import ExportError, parse
from tunesmith.io.write import write_score

TUNE = "A4:q B4:q | C#5:h |\n"
SMALL = ["--notes", "A B C# F# G", "--meter", "6/8", "--bars", "2", "--low", "A4", "--high", "A5"]
GOOD = "A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. |"
UNWRITABLE = Path("/sys/kernel")  # sysfs takes no new files, even from root


def tunesmith(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_tunesmith(*args, cwd=cwd, timeout=120)


def show(tmp_path: Path, *outputs: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "tune.txt").write_text(TUNE)
    return tunesmith("show", "tune.txt", *outputs, cwd=tmp_path)


def compose(tmp_path: Path, *outputs: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """The CLI's compose against a scripted server; also how many times the model was asked."""
    with ScriptedServer(default=answer(GOOD)) as server:
        result = tunesmith(
            "compose",
            *SMALL,
            *("--backend", "openai", "--base-url", server.base_url, "--model", "scripted"),
            *outputs,
            cwd=tmp_path,
        )
    return result, len(server.requests)


def refused(result: subprocess.CompletedProcess[str]) -> str:
    """The one line of a refusal, checked to be one."""
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("tunesmith: error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def written(tmp_path: Path) -> set[str]:
    return {path.name for path in tmp_path.iterdir()} - {"tune.txt", "pipe.mid", "link.mid"}


# -- 6. a device, a pipe or a folder is never replaced --------------------------------------


def test_a_score_is_never_written_over_a_named_pipe(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.mid"
    os.mkfifo(pipe)
    with pytest.raises(ExportError, match=r"pipe\.mid: it is a named pipe, not a regular file"):
        write_score(parse(TUNE), pipe)
    assert stat.S_ISFIFO(pipe.lstat().st_mode)
    assert written(tmp_path) == set()  # no temporary file left either


@pytest.mark.parametrize("target", ["pipe.mid", "link.mid"], ids=["pipe", "link to a pipe"])
def test_show_refuses_an_output_that_is_not_a_regular_file(tmp_path: Path, target: str) -> None:
    os.mkfifo(tmp_path / "pipe.mid")
    (tmp_path / "link.mid").symlink_to("pipe.mid")
    message = refused(show(tmp_path, "-o", target))
    assert f"{target}: it is a named pipe, not a regular file" in message
    assert stat.S_ISFIFO((tmp_path / "pipe.mid").lstat().st_mode)
    assert (tmp_path / "link.mid").is_symlink()


def test_show_refuses_a_folder_as_an_output(tmp_path: Path) -> None:
    (tmp_path / "folder.mid").mkdir()
    message = refused(show(tmp_path, "-o", "folder.mid"))
    assert "-o folder.mid: it is a folder, not a regular file" in message


# -- 7. two options, one file -------------------------------------------------------------


@pytest.mark.parametrize(
    "outputs",
    [
        ["-o", "same.mid", "--musicxml", "same.mid"],
        ["-o", "same.mid", "--text", "same.mid"],
        ["--abc", "same.abc", "--text", "folder/../same.abc"],
    ],
    ids=["-o and --musicxml", "-o and --text", "two spellings"],
)
def test_two_outputs_naming_one_file_are_refused_before_anything_is_written(
    tmp_path: Path, outputs: list[str]
) -> None:
    option, path, other, other_path = outputs
    message = refused(show(tmp_path, *outputs))
    assert f"{option} {path} and {other} {other_path} name the same file" in message
    assert written(tmp_path) == set()
    result, asked = compose(tmp_path, *outputs)
    assert "name the same file" in refused(result)
    assert asked == 0
    assert written(tmp_path) == set()


def test_o_and_the_option_its_suffix_names_cannot_both_be_given(tmp_path: Path) -> None:
    message = refused(show(tmp_path, "-o", "a.abc", "--abc", "b.abc"))
    assert "-o a.abc and --abc b.abc both ask for ABC; give one of them" in message
    assert written(tmp_path) == set()


# -- 8. every option takes only the suffixes of what it writes -----------------------------


@pytest.mark.parametrize(
    ("option", "path", "message"),
    [
        (
            "-o",
            "x.mp3",
            "-o x.mp3: its suffix names the format: .mid, .midi, .wav, .flac, .ogg, "
            ".musicxml, .xml, .mxl, .abc, .svg, .txt (received '.mp3')",
        ),
        ("-o", "x", "-o x: its suffix names the format: .mid, .midi, "),
        (
            "--musicxml",
            "x.pdf",
            "MusicXML files must end in .musicxml, .xml, .mxl (received '.pdf')",
        ),
        ("--abc", "x.mid", "--abc x.mid: ABC files must end in .abc (received '.mid')"),
        ("--svg", "x.png", "--svg x.png: SVG files must end in .svg (received '.png')"),
        ("--text", "x.wav", "notation files must end in .txt (received '.wav')"),
        ("--audio", "x", "audio files must end in .wav, .flac, .ogg (received 'no suffix')"),
    ],
)
def test_an_output_with_a_suffix_its_option_does_not_write_is_refused_before_composing(
    tmp_path: Path, option: str, path: str, message: str
) -> None:
    result, asked = compose(tmp_path, option, path)
    assert message in refused(result)
    assert asked == 0
    assert written(tmp_path) == set()


@pytest.mark.parametrize(
    ("path", "start"),
    [
        ("tune.musicxml", b"<?xml"),
        ("tune.abc", b"X:"),
        ("tune.wav", b"RIFF"),
        ("tune.mid", b"MThd"),
    ],
)
def test_o_writes_the_format_its_suffix_names(tmp_path: Path, path: str, start: bytes) -> None:
    result = show(tmp_path, "-o", path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / path).read_bytes().startswith(start)


# -- 9. every folder checked before composing ---------------------------------------------


@pytest.mark.skipif(not UNWRITABLE.is_dir(), reason="needs sysfs at /sys/kernel")
@pytest.mark.parametrize(
    ("option", "name"),
    [
        ("-o", "x.mid"),
        ("--audio", "x.wav"),
        ("--musicxml", "x.musicxml"),
        ("--abc", "x.abc"),
        ("--svg", "x.svg"),
        ("--text", "x.txt"),
    ],
)
def test_compose_refuses_a_folder_that_takes_no_files_before_asking_the_model(
    tmp_path: Path, option: str, name: str
) -> None:
    result, asked = compose(tmp_path, option, str(UNWRITABLE / name))
    assert f"{option} {UNWRITABLE / name}: " in refused(result)
    assert f"the folder {UNWRITABLE} is not writable" in result.stderr
    assert asked == 0


# -- 10. SVG: every page --------------------------------------------------------------------


def reel() -> str:
    """A reel of 16 written bars (32 played) with its band: more than one page of sheet music."""
    notes = ["G4", "A4", "B4", "C5", "D5", "E5", "F#5", "G5"]
    bars = [" ".join(f"{notes[(bar * 3 + i * 5) % 8]}:e" for i in range(8)) for bar in range(16)]

    def block(bars: list[str]) -> str:
        return f"|: {' | '.join(bars[:8])} :|: {' | '.join(bars[8:])} :|\n"

    parts = {
        "Fiddle\nrole: melody\nprogram: 40": bars,
        "Guitar\nrole: chords\nprogram: 24": ["[G3 B3 D4]:h [D3 F#3 A3]:h"] * 16,
        "Bass\nrole: bass\nprogram: 32": ["G2:q D3:q G2:q D3:q"] * 16,
        "Drums\nrole: drums": ["kick:q [snare closed-hat]:q kick:q [snare closed-hat]:q"] * 16,
    }
    blocks = "".join(f"part: {part}\n{block(bars)}\n" for part, bars in parts.items())
    return f"title: Reel\nmeter: 4/4\nkey: G major\n\n{blocks}harmony:\n{block(['G:h D:h'] * 16)}"


def bars_engraved(svg: str) -> int:
    return len(re.findall(r'class="measure"', svg))


def test_svg_writes_every_page_and_names_each_file(tmp_path: Path) -> None:
    (tmp_path / "reel.txt").write_text(reel())
    result = tunesmith("show", "reel.txt", "--svg", "reel.svg", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["wrote reel.svg", "wrote reel-2.svg"]
    pages = [(tmp_path / name).read_text() for name in ("reel.svg", "reel-2.svg")]
    assert all(page.lstrip().startswith("<svg") for page in pages)
    assert sum(map(bars_engraved, pages)) == 16


def test_save_score_writes_every_svg_page(tmp_path: Path) -> None:
    first = write_score(parse(reel()), tmp_path / "reel.svg")
    assert first == tmp_path / "reel.svg"
    pages = [(tmp_path / name).read_text() for name in ("reel.svg", "reel-2.svg")]
    assert sum(map(bars_engraved, pages)) == 16
