"""continue_score, infill and vary: the user's bars come back as they are, the new ones join them.

Real files: music21's corpus folk tunes (cut after bar 8 by music21 and written by its
MIDI writer, or whole as ABC) and a two-track MIDI file with drums built with mido.
Tests marked ``model`` run the embedded model; the others put a random walk through the
same grammars in its place (:mod:`grammar_walk`), so every sentence a model could write
passes through the pipeline in milliseconds.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import mido
import pytest

from cli_process import tunesmith
from corpus_tunes import abc_of
from grammar_walk import WalkingBackend
from midi_checks import midi_notes
from sequencer_files import two_tracks_with_drums
from tunesmith import (
    Bar,
    Composition,
    LocalBackend,
    ReadError,
    RequestError,
    RequestTypeError,
    Score,
    continue_score,
    infill,
    read_score,
    vary,
)
from tunesmith.backends import Completion, Prompt
from tunesmith.checks.corpus import corpus_tune
from tunesmith.io.write import write_score
from tunesmith.model.notation import parse_tune
from tunesmith.pipeline.composition import ReworkReport
from tunesmith.requests.theory import MAX_LEAP
from tunesmith.writing.rules import bar_key

TUNES = [
    "oneills1850/0001-0050.abc#7",  # a jig with a pickup and grace notes
    "ryansMammoth/AcaciaReel.abc#1",  # a reel in 2/4 with triplets
    "essenFolksong/altdeu10.abc#1",  # a song in 4/2 with accidentals
]
"""Folk tunes read from their ABC."""
CUT_TUNES = {
    "jig": "oneills1850/0001-0050.abc#8",
    "march in 4/4": "oneills1850/0001-0050.abc#3",
    "air in 3/4": "oneills1850/0001-0050.abc#12",
    "song in 4/2": "essenFolksong/altdeu10.abc#1",
}
"""Folk tunes cut after bar 8 by music21 and written by its MIDI writer (without grace notes,
which it writes as a note that never ends)."""


def cut_by_music21(tune_id: str, folder: Path) -> Path:
    """The tune's first 8 bars (and its pickup), written by music21's MIDI writer."""
    path = folder / "first_half.mid"
    corpus_tune(tune_id).measures(0, 8).write("midi", fp=path)
    return path


def abc_file(tune_id: str, folder: Path) -> Path:
    path = folder / "tune.abc"
    path.write_text(abc_of(tune_id), "utf-8")
    return path


def pitched(bar: Bar) -> list[int]:
    return [e.pitches[-1].midi for e in bar.events if e.pitches]


def keys(bars: tuple[Bar, ...]) -> list[int]:
    return [key for bar in bars for key in pitched(bar)]


def direction(step: int) -> int:
    return (step > 0) - (step < 0)


def rework_report(composition: Composition) -> ReworkReport:
    """The report of a continuation, infill or variation, with what was locked and written."""
    assert isinstance(composition.report, ReworkReport)
    return composition.report


def melody_bars(composition: Composition) -> tuple[Bar, ...]:
    return composition.score.melody.bars


@pytest.fixture
def walker() -> WalkingBackend:
    return WalkingBackend()


# -- continuation --------------------------------------------------------------------------


@pytest.mark.parametrize("tune_id", CUT_TUNES.values(), ids=CUT_TUNES.keys())
def test_a_corpus_tune_cut_after_bar_8_is_continued_and_its_midi_notes_come_back_exactly(
    tune_id: str, tmp_path: Path, walker: WalkingBackend
) -> None:
    source = cut_by_music21(tune_id, tmp_path)
    given = read_score(source)
    continued = continue_score(source, bars=8, backend=walker, seed=1)
    _, before = midi_notes(source.read_bytes())
    _, after = midi_notes(continued.to_midi_bytes())
    end = given.duration
    assert [note for note in after if note[1] < end] == before
    assert continued.score.bar_count == given.bar_count + 8
    assert continued.score.header == given.header  # meter, key, tempo and title kept
    new = melody_bars(continued)[given.bar_count :]
    assert {key % 12 for key in keys(new)} <= {key % 12 for key in keys(given.melody.bars)}
    bar_length = given.header.bar_length
    assert all(bar.duration == bar_length for bar in new)
    assert keys(new)[-1] % 12 == continued.request.constraints.tonic.semitone
    assert abs(keys(new)[0] - keys(given.melody.bars)[-1]) <= MAX_LEAP
    assert rework_report(continued).written == tuple(
        range(given.bar_count + 1, given.bar_count + 9)
    )


def test_the_prompt_holds_the_users_bars_before_the_first_new_one(
    tmp_path: Path, walker: WalkingBackend
) -> None:
    source = abc_file(TUNES[0], tmp_path)
    continue_score(source, bars=4, backend=walker, seed=1)
    [(prefix, suffix)] = walker.prompts
    assert "T:The Little Fair Child" in suffix
    assert suffix.endswith("|dcA GEA|\nD3 D2|")  # the tune's last bars, in the model's ABC
    assert "X:" in prefix  # the tune book of real tunes before it


def test_when_the_context_is_short_the_prompt_keeps_the_latest_bars_and_says_so(
    tmp_path: Path,
) -> None:
    class SmallContext(WalkingBackend):
        n_ctx = 0

    backend = SmallContext()
    source = abc_file(TUNES[0], tmp_path)
    prefix, whole = _prompt_size(source)
    backend.n_ctx = prefix + whole - 1  # the whole tune does not fit beside the new bars
    continued = continue_score(source, bars=2, backend=backend, candidates=1, seed=1)
    [(_, suffix)] = backend.prompts
    assert suffix.endswith("|dcA GEA|\nD3 D2|")  # the latest bars are there
    assert len(suffix) < whole  # the first ones are not
    assert any(
        note.startswith("the prompt holds the last") for note in rework_report(continued).notes
    )


def _prompt_size(source: Path) -> tuple[int, int]:
    walker = WalkingBackend()
    continue_score(source, bars=1, backend=walker, candidates=1, seed=1)
    [(prefix, suffix)] = walker.prompts
    return len(prefix), len(suffix)


def test_a_midi_file_with_a_melody_and_drums_is_continued_on_the_melody(
    tmp_path: Path, walker: WalkingBackend
) -> None:
    path = two_tracks_with_drums(tmp_path)
    continued = continue_score(path, bars=4, backend=walker, seed=3)
    lead, kit = continued.score.parts
    assert (lead.name, kit.name, kit.role) == ("Lead", "Kit", "drums")
    assert len(lead.bars) == len(kit.bars) == 8
    assert all(all(e.is_rest for e in bar.events) for bar in kit.bars[4:])
    assert lead.bars[:4] == read_score(path).parts[0].bars
    _, before = midi_notes(path.read_bytes())
    _, after = midi_notes(continued.to_midi_bytes())
    assert [(k, onset) for k, onset, _ in after if onset < 12] == [(k, on) for k, on, _ in before]
    drums = mido.MidiFile(file=__import__("io").BytesIO(continued.to_midi_bytes()))
    hits = [
        m.note for m in mido.merge_tracks(drums.tracks) if m.type == "note_on" and m.channel == 9
    ]
    assert hits == [36, 42, 38] * 4
    assert "part 'Lead' (melody), the melody, of 2" in rework_report(continued).context


# -- infill ---------------------------------------------------------------------------------


@pytest.mark.parametrize("tune_id", TUNES, ids=["jig", "reel", "song"])
def test_infill_rewrites_bars_5_to_8_and_joins_them_within_a_leap_at_both_ends(
    tune_id: str, tmp_path: Path, walker: WalkingBackend
) -> None:
    source = abc_file(tune_id, tmp_path)
    given = read_score(source).melody.bars
    filled = infill(source, at="5-8", backend=walker, seed=2)
    bars = melody_bars(filled)
    assert bars[:4] == given[:4]
    assert bars[8:] == given[8:]
    assert bars[4:8] != given[4:8]
    assert abs(pitched(bars[4])[0] - keys(given[:4])[-1]) <= MAX_LEAP
    assert abs(pitched(given[8])[0] - pitched(bars[7])[-1]) <= MAX_LEAP
    report = rework_report(filled)
    assert (report.written, report.locked[:4]) == ((5, 6, 7, 8), (1, 2, 3, 4))


@pytest.mark.parametrize("suffix", [".musicxml", ".abc", ".txt"])
def test_the_users_bars_come_back_unchanged_in_every_format(
    suffix: str, tmp_path: Path, walker: WalkingBackend
) -> None:
    source = abc_file(TUNES[1], tmp_path)
    given = read_score(source)
    filled = infill(source, at="3-4", backend=walker, seed=5)
    copy = write_score(filled.score, tmp_path / f"filled{suffix}")
    back = read_score(copy).melody.bars
    locked = [index - 1 for index in rework_report(filled).locked]
    assert [back[i] for i in locked] == [given.melody.bars[i] for i in locked]


def test_the_users_bars_are_never_repaired_and_their_breaks_are_reported(
    tmp_path: Path, walker: WalkingBackend
) -> None:
    source = abc_file(TUNES[0], tmp_path)
    given = read_score(source).melody.bars
    # the tune uses C# (bars 1, 3, 7...); these notes leave it out
    filled = infill(source, at="5-6", notes=["D", "E", "F#", "G", "A", "B"], backend=walker)
    bars = melody_bars(filled)
    assert [bars[i] for i in range(len(given)) if i not in {4, 5}] == [
        given[i] for i in range(len(given)) if i not in {4, 5}
    ]
    assert all(key % 12 != 1 for key in keys(bars[4:6]))  # no C# in the new bars
    breaks = [str(v) for v in rework_report(filled).user_violations]
    assert breaks
    assert all("pitch C#" in line for line in breaks)
    shown = "your bars: bar 2, beat 2.333: pitch C#5 (expected one of D E F# G A B) (left as"
    assert shown in rework_report(filled).overview  # as docs/continue.md shows it
    assert filled.report.repairs == ()


# -- variation ------------------------------------------------------------------------------


def test_a_variation_keeping_the_rhythm_has_each_bars_durations_and_new_pitches(
    tmp_path: Path, walker: WalkingBackend
) -> None:
    source = abc_file(TUNES[0], tmp_path)
    given = read_score(source).melody.bars
    varied = vary(source, at="2-9", keep="rhythm", backend=walker, seed=4)
    bars = melody_bars(varied)
    for index in range(1, 9):
        assert [e.duration for e in bars[index].events] == [e.duration for e in given[index].events]
        assert bar_key(bars[index]) != bar_key(given[index])
    assert bars[0] == given[0]
    assert bars[9:] == given[9:]


def test_a_variation_keeping_the_contour_moves_up_and_down_where_the_original_does(
    tmp_path: Path, walker: WalkingBackend
) -> None:
    source = abc_file(TUNES[1], tmp_path)
    given = read_score(source).melody.bars
    varied = vary(source, at="2-5", keep="contour", backend=walker, seed=4)
    bars = melody_bars(varied)
    shaped = 0
    for index in range(1, 5):
        old, new = pitched(given[index]), pitched(bars[index])
        assert len(old) == len(new)
        steps = [(direction(b - a), direction(d - c)) for a, b, c, d in _moves(old, new)]
        shaped += all(x == y for x, y in steps)
    noted = sum("keeps" in note for note in rework_report(varied).notes)
    assert shaped + noted >= 4  # every bar keeps its shape, or the report says why not


def _moves(old: list[int], new: list[int]) -> list[tuple[int, int, int, int]]:
    return [(old[i - 1], old[i], new[i - 1], new[i]) for i in range(1, len(old))]


def test_a_variation_of_half_the_bars_changes_every_other_bar(
    tmp_path: Path, walker: WalkingBackend
) -> None:
    source = abc_file(TUNES[2], tmp_path)
    given = read_score(source).melody.bars
    varied = vary(source, at="1-8", keep=None, amount=0.5, backend=walker, seed=6)
    assert rework_report(varied).written == (1, 3, 5, 7)
    bars = melody_bars(varied)
    assert [bars[i] for i in (1, 3, 5, 7)] == [given[i] for i in (1, 3, 5, 7)]
    assert all(bar_key(bars[i]) != bar_key(given[i]) for i in (0, 2, 4, 6))


# -- context --------------------------------------------------------------------------------


def test_what_the_file_says_is_used_and_reported_and_what_the_user_gives_wins(
    tmp_path: Path, walker: WalkingBackend
) -> None:
    source = abc_file(TUNES[0], tmp_path)
    inferred = continue_score(source, bars=2, backend=walker, seed=1)
    request = inferred.request
    assert (request.meter, request.notes) == ("6/8", ("D", "E", "F#", "G", "A", "B", "C#"))
    assert (request.low, request.high) == ("D4", "G5")
    assert rework_report(inferred).context[1:4] == (
        "meter 6/8 (from the file)",
        "pitches D E F# G A B C# (the part's own notes; tonic D from the key D major)",
        "key D major (from the file)",
    )
    given = continue_score(source, bars=2, backend=walker, tempo=90, key="D", high="A5")
    assert (given.request.tempo, given.request.high, given.request.notes) == (90, "A5", None)
    assert given.score.header.tempo == 90
    assert rework_report(given).context[-1] == "given: high, key, tempo"


def test_an_estimated_key_is_reported_as_estimated(tmp_path: Path, walker: WalkingBackend) -> None:
    continued = continue_score(two_tracks_with_drums(tmp_path), bars=1, backend=walker)
    assert any(
        "(estimated: " in line and "key" in line for line in rework_report(continued).context
    )


# -- bad input ------------------------------------------------------------------------------


def midi_bytes(*tracks: list[Any]) -> bytes:
    midi = mido.MidiFile(type=1, ticks_per_beat=96)
    midi.tracks += [mido.MidiTrack(track) for track in tracks]
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


DRUMS_ONLY = midi_bytes(
    [
        mido.Message("note_on", channel=9, note=36, velocity=100, time=0),
        mido.Message("note_off", channel=9, note=36, velocity=0, time=96),
    ]
)
NO_NOTES = midi_bytes([mido.MetaMessage("set_tempo", tempo=500000)])
BAD_FILES = [
    ("empty.mid", b"", ReadError, "the file is empty"),
    ("corrupt.mid", b"MThd\x00\x00\x00\x06\x00\x01", ReadError, "corrupt or truncated MIDI"),
    ("silent.mid", NO_NOTES, ReadError, "the file has no notes"),
    ("drums.mid", DRUMS_ONLY, RequestError, "has no part with pitches .*give a file with a"),
]


@pytest.mark.parametrize(
    ("name", "data", "error", "message"), BAD_FILES, ids=[row[0] for row in BAD_FILES]
)
def test_a_file_that_cannot_be_continued_is_a_typed_error_saying_why(
    tmp_path: Path, name: str, data: bytes, error: type[Exception], message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(error, match=message):
        continue_score(path, bars=4, backend=WalkingBackend())


BAD_REQUESTS: list[tuple[str, Any, type[Exception], str]] = [
    ("reversed range", lambda p, b: infill(p, "8-5", backend=b), RequestError, r"'8-5' is rev"),
    (
        "range past the end",
        lambda p, b: infill(p, "15-20", backend=b),
        RequestError,
        r"at='15-20' is outside the tune: it has bars 1 to 18",
    ),
    (
        "infill's range as bars",
        lambda p, b: infill(p, bars="5-8", backend=b),
        RequestTypeError,
        r"infill takes the bars to write as at='5-8', e.g. infill\(source, at='5-8'\); bars=",
    ),
    ("infill without a range", lambda p, b: infill(p, backend=b), RequestTypeError, "at='5-8'"),
    (
        "vary's range as bars",
        lambda p, b: vary(p, bars="2-3", backend=b),
        RequestTypeError,
        r"vary takes the bars to write as at='2-3'",
    ),
    ("bar 0", lambda p, b: infill(p, "0-2", backend=b), RequestError, "outside the tune"),
    ("not a range", lambda p, b: infill(p, "five", backend=b), RequestTypeError, "bar range"),
    (
        "no such part",
        lambda p, b: continue_score(p, part="Violin", backend=b),
        RequestError,
        r"part 'Violin' does not exist in .*tune.abc: its parts are 0: ",
    ),
    ("part index", lambda p, b: continue_score(p, part=3, backend=b), RequestError, "0 to 0"),
    ("zero bars", lambda p, b: continue_score(p, bars=0, backend=b), RequestError, "between 1"),
    (
        "keep",
        lambda p, b: vary(p, keep="pitch", backend=b),  # type: ignore[arg-type]  # a wrong keep, on purpose
        RequestError,
        "keep must be",
    ),
    ("amount", lambda p, b: vary(p, amount=0, backend=b), RequestError, "amount must be a share"),
    (
        "meter of other bars",
        lambda p, b: continue_score(p, meter="4/4", backend=b),
        RequestError,
        r"meter '4/4' has bars of 4 quarter notes but the bars of .* \(6/8\) last 3",
    ),
    ("form", lambda p, b: continue_score(p, form="AB", backend=b), RequestError, "the form is"),
    ("source", lambda p, b: continue_score(42, backend=b), RequestTypeError, "file path"),
    (
        "a server",
        lambda p, b: continue_score(p, backend=ServerOnly()),
        RequestError,
        "runs in tunesmith's decoding loop",
    ),
    (
        "longer than the context",
        lambda p, b: continue_score(p, bars=250, backend=LocalBackend()),
        RequestError,
        r"more than the model's context of 8192 allows \(about \d+ bars at once\): ask for "
        r"fewer bars, or fewer candidates",
    ),
]


class ServerOnly:
    name, model = "server", "a chat model"
    supports_grammar = False

    def complete(
        self,
        prompt: Prompt,
        *,
        grammar: str | None,
        max_tokens: int,
        temperature: float,
        seed: int | None,
    ) -> Completion:
        raise AssertionError("never asked")


@pytest.mark.parametrize(
    ("what", "call", "error", "message"), BAD_REQUESTS, ids=[row[0] for row in BAD_REQUESTS]
)
def test_a_bad_request_is_a_typed_error_saying_what_to_change(
    tmp_path: Path, what: str, call: Any, error: type[Exception], message: str
) -> None:
    source = abc_file(TUNES[0], tmp_path)
    with pytest.raises(error, match=message):
        call(source, WalkingBackend())


def test_a_drum_part_cannot_be_continued(tmp_path: Path) -> None:
    with pytest.raises(RequestError, match=r"part 'Kit' \(drums\) of .* is drums: continue"):
        continue_score(two_tracks_with_drums(tmp_path), part="Kit", backend=WalkingBackend())


def test_a_score_can_be_given_instead_of_a_file(walker: WalkingBackend) -> None:
    score = Score.of_tune(parse_tune("A4:q B4:q C#5:q D5:q | E5:h D5:h |"))
    continued = continue_score(score, bars=2, backend=walker, seed=1)
    assert continued.score.melody.bars[:2] == score.melody.bars
    assert rework_report(continued).source == "the score"


# -- the command line -----------------------------------------------------------------------


def test_the_commands_refuse_a_bad_range_in_one_line(tmp_path: Path) -> None:
    source = abc_file(TUNES[0], tmp_path)
    result = tunesmith("infill", str(source), "--at", "9-2")
    assert result.returncode == 2
    assert result.stderr.startswith("tunesmith: error: at='9-2' is reversed")
    assert result.stderr.count("\n") == 1


def test_infill_and_vary_take_their_range_as_at_and_say_so_for_the_old_bars(
    tmp_path: Path,
) -> None:
    source = abc_file(TUNES[0], tmp_path)
    result = tunesmith("infill", str(source), "--bars", "5-8")
    assert result.returncode == 2
    assert "infill takes the bars to write as --at 5-8; --bars counts bars" in result.stderr
    result = tunesmith("infill", str(source))
    assert result.returncode == 2
    assert "infill needs the bars to write again: --at 5-8" in result.stderr


# -- the docs -----------------------------------------------------------------------------


@pytest.mark.model
def test_the_example_in_docs_continue_md_runs_and_prints_what_it_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (Path(__file__).parents[2] / "docs" / "continue.md").read_text("utf-8")
    [code] = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    [shown] = re.findall(r"```\n(continue .*?)```", text, re.DOTALL)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "docs/continue.md", "exec"), {})
    assert capsys.readouterr().out == shown


# -- the embedded model ---------------------------------------------------------------------


@pytest.mark.model
def test_the_embedded_model_continues_a_folk_tune_from_music21s_midi_writer(
    tmp_path: Path,
) -> None:
    source = cut_by_music21(CUT_TUNES["jig"], tmp_path)
    given = read_score(source)
    continued = continue_score(source, bars=8, candidates=2, seed=7)
    _, before = midi_notes(source.read_bytes())
    _, after = midi_notes(continued.to_midi_bytes())
    assert [note for note in after if note[1] < given.duration] == before
    new = melody_bars(continued)[given.bar_count :]
    assert len(new) == 8
    assert {k % 12 for k in keys(new)} <= {k % 12 for k in keys(given.melody.bars)}
    assert keys(new)[-1] % 12 == continued.request.constraints.tonic.semitone
    assert continued.report.backend == "local"
    assert continued.report.violations == ()
    # as compose chooses: rule-keeping candidates first, then the critic's best
    candidates = continued.report.candidates
    assert continued.report.chosen is not None
    fewest = min(c.kept_breaking_rules for c in candidates)
    clean = [c for c in candidates if c.kept_breaking_rules == fewest]
    assert candidates[continued.report.chosen - 1].score == max(c.score for c in clean)
    # and says why, as compose does: the winner's score, then the runner-up's or the rule
    # breakers
    chosen = candidates[continued.report.chosen - 1]
    assert continued.report.why.startswith(
        f"candidate {chosen.number}, the most like the corpus's tunes (score {chosen.score:.2f})"
    )
    assert ("of 2 candidates the next scored" in continued.report.why) == (len(clean) == 2)
    assert ("1 more kept a bar that broke" in continued.report.why) == (len(clean) == 1)


@pytest.mark.model
def test_the_embedded_model_fills_in_bars_5_to_8_of_a_reel(tmp_path: Path) -> None:
    source = abc_file(TUNES[1], tmp_path)
    given = read_score(source).melody.bars
    filled = infill(source, at="5-8", candidates=2, seed=7)
    bars = melody_bars(filled)
    assert (bars[:4], bars[8:]) == (given[:4], given[8:])
    assert abs(pitched(bars[4])[0] - keys(given[:4])[-1]) <= MAX_LEAP
    assert abs(pitched(given[8])[0] - pitched(bars[7])[-1]) <= MAX_LEAP


@pytest.mark.model
def test_the_continue_command_writes_the_longer_tune(tmp_path: Path) -> None:
    source = cut_by_music21(CUT_TUNES["jig"], tmp_path)
    result = tunesmith(
        "continue", str(source), "--bars", "4", "--seed", "3", "-o", str(tmp_path / "longer.mid")
    )
    assert result.returncode == 0, result.stderr
    assert "continue " in result.stderr
    assert "context: meter 6/8" in result.stderr
    assert read_score(tmp_path / "longer.mid").bar_count == read_score(source).bar_count + 4
