"""harmonise(): chords that fit a melody someone else wrote, and a band behind it."""

from __future__ import annotations

import contextlib
import io
import re
from fractions import Fraction
from pathlib import Path

import pytest

from band_checks import tracks
from tunesmith import ReadError, RequestError, harmonise, read_score
from tunesmith.app.cli import main
from tunesmith.band.harmonise import best_fit
from tunesmith.io.write import write_score
from tunesmith.model.notation import parse, parse_tune
from tunesmith.model.score import Part, Score
from tunesmith.music.chords import Chord
from tunesmith.music.harmony import chord_tone_share
from tunesmith.music.rhythm import meter_of

ARPEGGIOS = parse(
    """meter: 4/4
key: D major

D4:q F#4:q A4:q F#4:q | G4:q B4:q D5:q B4:q | A4:q C#5:q E5:q C#5:q | D5:w |
"""
)


def test_the_best_fit_follows_the_notes_of_each_bar() -> None:
    chords = [Chord.parse(name) for name in ("D", "Em", "F#m", "G", "A", "Bm")]
    bars = best_fit(ARPEGGIOS.melody.tune, meter_of("4/4"), chords, tonic=chords[0])
    assert [[chord.figure for _, chord in bar] for bar in bars] == [["D"], ["G"], ["A"], ["D"]]


def test_a_chord_a_beat_changes_where_the_notes_do() -> None:
    tune = parse_tune("D4:q G4:q A4:q D4:q |")
    chords = [Chord.parse(name) for name in ("D", "G", "A")]
    (bar,) = best_fit(tune, meter_of("4/4"), chords, tonic=chords[0], rhythm="beat")
    assert [(offset, chord.figure) for offset, chord in bar] == [
        (Fraction(0), "D"),
        (Fraction(1), "G"),
        (Fraction(2), "A"),
        (Fraction(3), "D"),
    ]


def test_a_melody_gets_chords_and_a_band() -> None:
    score = harmonise(ARPEGGIOS, style="reel").score
    assert [c.figure for c in score.harmony] == ["D", "G", "A", "D"]
    assert [part.role for part in score.parts] == ["melody", "chords", "bass", "drums"]
    assert score.parts[0] == ARPEGGIOS.parts[0]  # the melody as it was


def test_a_corpus_folk_tune_is_harmonised_on_its_strong_beats() -> None:
    from music21 import corpus

    path = Path(corpus.getWork("essenFolksong/han1.abc"))
    score = read_score(path)
    score = Score(score.header, score.parts[:1])  # one melody, as written
    harmonised = harmonise(score, parts=()).score
    meter = meter_of(score.header.meter)
    share = chord_tone_share(score.melody.tune, harmonised.harmony, meter)
    assert share is not None
    assert share >= 0.9
    key = score.header.key
    assert key is not None
    assert harmonised.harmony[-1].figure.startswith(str(key.tonic))  # a cadence home


def test_chords_the_file_has_are_kept_and_its_band_is_played_anew() -> None:
    lead = parse("meter: 3/4\nkey: G major\n\nG4:h B4:q | D5:h. |\n\nharmony:\nG:h. | D:h. |\n")
    first = harmonise(lead, style="waltz")  # a Composition goes back in as it came out
    again = harmonise(first, style="waltz", parts=("bass",)).score
    assert [c.figure for c in again.harmony] == ["G", "D"]
    assert [part.role for part in again.parts] == ["melody", "chords", "drums", "bass"]
    fresh = harmonise(lead, keep_chords=False, parts=()).score  # its own choice: G throughout
    assert [c.figure for c in fresh.harmony] == ["G"]


def test_harmonise_returns_a_composition_whose_report_says_what_was_read_and_chosen() -> None:
    lead = parse(
        "meter: 3/4\nkey: G major\ntempo: q=90\n\nG4:h B4:q | D5:h. | B4:h A4:q | G4:h. |\n"
    )
    harmonised = harmonise(lead, parts=("bass",), style="waltz")
    assert harmonised.score.melody == lead.melody  # note for note as the user wrote it
    assert (harmonised.request.meter, harmonised.request.bars) == ("3/4", 4)
    report = harmonised.report
    assert report.overview.startswith(  # type: ignore[attr-defined]
        "harmonise the score, part #0: no bars written, bars 1-4 locked as the user wrote them"
    )
    chords = " ".join(chord.figure for chord in harmonised.score.harmony)
    assert f"chords (chosen to fit the melody): {chords}" in str(report)
    assert "band: bass in the waltz style" in str(report)
    assert harmonised.text == "G4:h B4:q | D5:h. | B4:h A4:q | G4:h. |"


def test_a_melody_without_notes_is_a_request_error_saying_so() -> None:
    with pytest.raises(RequestError, match="the melody of the score has no notes: harmonise"):
        harmonise(parse("meter: 3/4\n\nr:h. | r:h. |\n"))


def test_tunesmith_harmonise_writes_the_band_to_midi_and_sheet_music(tmp_path: Path) -> None:
    melody = tmp_path / "melody.mid"
    write_score(ARPEGGIOS, melody)
    out, sheet = tmp_path / "band.mid", tmp_path / "band.musicxml"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
        status = main(
            ["harmonise", str(melody), "-o", str(out), "--musicxml", str(sheet), "--style", "jig"]
        )
    assert status == 0
    assert stdout.getvalue().split() == ["D", "G", "A", "D"]
    assert [track.name for track in tracks(out.read_bytes())][1:] == [
        "Acoustic Guitar (steel)",
        "Acoustic Bass",
        "Drums",
    ]
    assert sheet.read_bytes().count(b"<harmony") == 4
    assert [part.role for part in read_score(sheet).parts] == ["melody", "chords", "bass", "drums"]


def test_a_missing_file_or_a_bad_rhythm_is_a_typed_error() -> None:
    with pytest.raises(ReadError, match=r"no-such\.mid"):
        harmonise("no-such.mid")
    with pytest.raises(RequestError, match="rhythm must be 'bar', 'strong' or 'beat'"):
        harmonise(ARPEGGIOS, rhythm="half")  # type: ignore[arg-type]


def test_a_melody_with_no_key_gets_music21s_estimate() -> None:
    header = ARPEGGIOS.header
    unkeyed = Score(type(header)(meter=header.meter), (Part(ARPEGGIOS.melody.bars),))
    assert harmonise(unkeyed, parts=()).score.harmony[0].figure == "D"


DOC = Path(__file__).parents[2] / "docs" / "harmony.md"
DOC_EXAMPLES = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def test_the_docs_harmonise_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # it writes waltz.mid
    exec(compile(DOC_EXAMPLES[1], str(DOC), "exec"), {})
    assert read_score(tmp_path / "waltz.mid").bar_count == 4


@pytest.mark.model
def test_the_docs_compose_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(DOC_EXAMPLES[0], str(DOC), "exec"), {})
    assert (tmp_path / "reel.mid").stat().st_size > 0
