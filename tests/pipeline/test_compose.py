"""compose() end to end: every constraint holds in the MIDI file.

Tests marked ``model`` run the real embedded model; the others script the model's answers
(for what a grammar-bound model cannot write) and run in a blink.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import mido
import pytest

from conftest import JIG_NOTES
from corpus_tunes import seed_with_pickup
from grammar_walk import walk
from midi_checks import assert_midi_keeps_the_request, midi_notes
from tunesmith import (
    ComposeRequest,
    Composition,
    CompositionError,
    ExportError,
    RequestError,
    RequestTypeError,
    compose,
    compose_async,
    compose_many,
    read_score,
)
from tunesmith.backends import Completion, Prompt
from tunesmith.model.notation import parse, unparse
from tunesmith.model.score import Tune
from tunesmith.music.harmony import lane_of, misfits
from tunesmith.music.rhythm import meter_of
from tunesmith.writing.script import Writing

SEMITONES = {"A": 9, "B": 11, "C#": 1, "F#": 6, "G": 7}
GOOD = "A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. |"
SMALL: dict[str, Any] = {"notes": JIG_NOTES, "meter": "6/8", "bars": 2, "low": "A4", "high": "A5"}


@pytest.mark.model
def test_the_embedded_model_writes_a_tune_that_keeps_every_constraint(jig: Composition) -> None:
    assert_midi_keeps_the_request(jig)
    assert parse(unparse(jig.score)) == jig.score
    assert len(jig.tune.bars) == 4
    assert all(bar.duration == Fraction(3) for bar in jig.tune.bars)
    assert jig.tune.notes[-1].pitches[0].pitch_class.semitone == SEMITONES["A"]


@pytest.mark.model
def test_a_composed_reel_keeps_to_the_chords_its_real_tune_implies_without_writing_them() -> None:
    request = ComposeRequest(style="reel", key="G", bars=16, seed=2)
    composition = compose(request)
    writing = Writing.of(request)
    harmony = writing.harmony
    assert harmony is not None
    assert harmony.implied
    assert harmony.bars is not None
    meter = meter_of(request.meter)
    first = writing.plan.pickup  # a pickup leads to the first chord, free of it
    lane = lane_of(harmony.bars[first:], [meter.bar_length] * (len(harmony.bars) - first))
    tune = Tune(composition.tune.bars[first:])
    assert misfits(tune, lane, meter) == []  # every strong beat a chord tone
    assert composition.score.harmony == ()  # implied, not written above the tune


@pytest.mark.model
def test_every_constraint_holds_in_the_midi_file_read_back_with_mido(jig: Composition) -> None:
    midi, notes = midi_notes(jig.to_midi_bytes())
    assert notes, "the MIDI file has notes"
    assert {key % 12 for key, _, _ in notes} <= set(SEMITONES.values())
    assert all(69 <= key <= 81 for key, _, _ in notes)  # A4-A5
    end = max(onset + length for _, onset, length in notes)
    assert end == 4 * Fraction(3)  # four bars of 6/8, three quarter notes each
    assert notes[-1][0] % 12 == SEMITONES["A"]
    meta = {
        m.type: m for m in mido.merge_tracks(midi.tracks) if m.is_meta or m.type == "program_change"
    }
    assert (meta["time_signature"].numerator, meta["time_signature"].denominator) == (6, 8)
    assert round(mido.tempo2bpm(meta["set_tempo"].tempo)) == 168  # 112 dotted quarters
    assert meta["program_change"].program == 73  # flute
    assert meta["key_signature"].key == "D"  # A mixolydian: two sharps


@pytest.mark.model
def test_the_report_says_what_was_asked_and_what_the_model_did(jig: Composition) -> None:
    report = jig.report
    assert report.backend == "local"
    assert report.model == "gemma-3-270m-q4_k_m+folk-lora"  # the embedded model and its adapter
    assert report.constrained
    assert report.attempts[0].completion_tokens > 0
    assert report.attempts[-1].problems == ()
    assert report.violations == ()
    assert report.repairs == ()
    model = "local:gemma-3-270m-q4_k_m+folk-lora"
    assert f"4 bars of 6/8 on {model} (grammar-constrained)" in report.summary
    assert "only the notes A B C# F# G" in str(report)
    dumped = json.loads(report.model_dump_json())
    assert dumped["request"]["notes"] == JIG_NOTES
    assert report.chosen is not None
    chosen = report.attempts[report.chosen - 1].text  # what the model wrote, in ABC
    assert Writing.of(jig.request).read(chosen) == jig.tune
    assert len(report.candidates) == 4
    # first the candidates whose every bar keeps the musical rules, then the critic's best
    fewest = min(c.kept_breaking_rules for c in report.candidates)
    clean = [c for c in report.candidates if c.kept_breaking_rules == fewest]
    assert report.candidates[report.chosen - 1].score == max(c.score for c in clean)
    assert f"chosen candidate {report.chosen}" in str(report)


@pytest.mark.model
def test_the_same_seed_gives_the_same_tune(jig: Composition) -> None:
    again = compose(jig.request)
    assert again.text == jig.text


@pytest.mark.model
@pytest.mark.parametrize(
    ("meter", "key", "mode"),
    [
        ("3/4", "G", "major"),
        ("4/4", "D", "dorian"),
        ("2/2", "E", "minor"),
        ("7/8", "A", "mixolydian"),
        ("9/8", "Bb", "lydian"),
    ],
)
def test_the_grammar_holds_the_model_to_any_meter_and_mode(meter: str, key: str, mode: str) -> None:
    request = ComposeRequest(key=key, mode=mode, meter=meter, bars=2, seed=3)
    composition = compose(request)
    assert_midi_keeps_the_request(composition)
    assert composition.report.violations == ()


def test_a_request_and_keyword_options_together_are_refused() -> None:
    with pytest.raises(RequestError, match="either a ComposeRequest or keyword options"):
        compose(ComposeRequest(), bars=4)


def test_bad_options_are_refused_before_the_model_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "TUNESMITH_BACKEND", "no-such-backend"
    )  # never made: the request fails first
    with pytest.raises(RequestError, match="meter must be N/D"):
        compose(meter="7/0")


@dataclass
class Scripted:
    """A backend that answers from a script: for model outputs a grammar-bound model cannot give."""

    answers: list[str]
    name: str = "scripted"
    model: str = "script"
    supports_grammar: bool = False
    prompts: list[Prompt] = field(default_factory=list)

    def complete(self, prompt: Prompt, **_: object) -> Completion:
        self.prompts.append(prompt)
        return Completion(self.answers.pop(0), self.model, 10, 10, "stop", 0.0)


def test_a_wrong_answer_is_repaired_and_the_report_names_each_change() -> None:
    wrong = "Here you go:\nA4:e B4:e D5:e F#5:q. | G5:q. F#5:q. |"
    composition = compose(
        **SMALL,
        max_attempts=1,
        backend=Scripted([wrong]),
    )
    assert composition.text == "A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. |"
    assert [v.kind for v in composition.report.violations] == ["pitch", "final"]
    assert [r.kind for r in composition.report.repairs] == ["pitch", "final"]


def test_a_servers_answer_is_told_its_bars_as_the_prompt_counts_them_after_a_pickup() -> None:
    request = ComposeRequest(style="jig", key="D", seed=2)  # its real tune opens "A|"
    writing = Writing.of(request, "notation")
    good = walk(writing.whole_grammar(), random.Random(1))
    pickup, first, rest = good.split("|", 2)
    wrong = f"{pickup}| C5:{first.split()[0].split(':')[1]} {' '.join(first.split()[1:])} |{rest}"
    backend = Scripted([wrong, good])
    compose(request, backend=backend)
    feedback = backend.prompts[1].messages[-1]["content"]
    assert "- bar 1, beat 1: pitch C5" in feedback  # the first whole bar, not the pickup
    assert "Open with a pickup of e before the first bar line" in feedback
    composition = compose(request, backend=Scripted([good.split("|", 1)[1]]))  # no pickup
    assert composition.report.violations == ()  # its parts are played AABB all the same
    assert [(r.start, r.end) for r in composition.score.repeats] == [(0, 8), (8, 16)]


def test_strict_mode_refuses_to_repair_and_lists_the_violations() -> None:
    wrong = "A4:e B4:e D5:e F#5:q. | G5:q. A5:q. |"
    with pytest.raises(CompositionError, match=r"strict: .*bar 1, beat 1.667: pitch D5") as caught:
        compose(
            **SMALL,
            max_attempts=1,
            strict=True,
            backend=Scripted([wrong]),
        )
    assert caught.value.attempts == 1


def test_an_answer_that_is_not_notation_is_retried_then_reported() -> None:
    backend = Scripted(["I cannot write music.", "X:1\nK:D\nabc|"])
    with pytest.raises(CompositionError, match="none of 2 answers") as caught:
        compose(notes=JIG_NOTES, bars=2, max_attempts=2, backend=backend)
    assert caught.value.last_output == "X:1\nK:D\nabc|"
    assert (caught.value.prompt_tokens, caught.value.completion_tokens) == (20, 20)  # 10 + 10


ADVERSARIAL = {
    "wrong notes": ("A4:e B4:e D5:e F#5:q. | G5:q. A5:q. |", {"pitch"}),
    "wrong bar sums": ("A4:e B4:e C#5:e F#5:q. G5:e | G5:q. A5:q |", {"bar_length"}),
    "missing bars": ("A4:e B4:e C#5:e F#5:q. |", {"bar_count", "final"}),
    "extra bars": ("A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. | B4:q. A4:q. |", {"bar_count"}),
    "prose around the notes": (
        "Here is a jig!\nA4:e B4:e C#5:e F#5:q. | G5:q. A5:q. |\nEnjoy.",
        set(),
    ),
    "markdown fences": ("```text\nA4:e B4:e C#5:e F#5:q. | G5:q. A5:q. |\n```", set()),
}


@pytest.mark.parametrize(("answer", "kinds"), list(ADVERSARIAL.values()), ids=list(ADVERSARIAL))
def test_whatever_the_model_writes_compose_returns_a_tune_that_keeps_every_constraint(
    answer: str, kinds: set[str]
) -> None:
    composition = compose(
        **SMALL,
        max_attempts=1,
        backend=Scripted([answer]),
    )
    report = composition.report
    assert_midi_keeps_the_request(composition)
    assert report.attempts[0].text == answer
    assert {violation.kind for violation in report.violations} == kinds
    assert bool(report.repairs) == bool(kinds)
    assert f"{len(kinds) and len(report.violations)} violation" in report.summary


def test_abc_instead_of_tunesmith_notation_is_retried_with_feedback_then_accepted() -> None:
    backend = Scripted(
        ["X:1\nM:6/8\nK:D\n|:ABc f3|g3 a3:|", "A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. |"]
    )
    composition = compose(
        notes=JIG_NOTES, meter="6/8", bars=2, low="A4", high="A5", backend=backend
    )
    first, second = composition.report.attempts
    assert "not tunesmith notation" in first.problems[0]
    assert second.problems == ()
    assert composition.text == "A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. |"


@pytest.mark.model
def test_a_form_is_written_once_per_part_then_laid_out_with_cadences() -> None:
    request = ComposeRequest(
        key="D", meter="6/8", bars=16, form="AABB", low="D4", high="D5", seed=2
    )
    composition = compose(request, candidates=1)
    bars = composition.tune.bars
    assert len(bars) == 16
    assert bars[0:4] == bars[4:8]  # A A
    assert bars[8:12] == bars[12:16]  # B B
    written = Writing.of(request).read(composition.report.attempts[0].text)
    assert len(written.bars) == 8  # the model wrote A and B once
    for half, full in ((1, 3), (9, 11)):  # each part: an open middle, a close on the tonic
        assert bars[half].events[-1].pitches[0].pitch_class.semitone in {4, 9, 1}  # E A C#: V
        assert bars[full].events[-1].pitches[0].pitch_class.semitone == 2  # D
        assert bars[full].events[-1].duration == Fraction(3, 2)  # a long note, on the beat
    assert_midi_keeps_the_request(composition)


def test_in_a_notebook_a_composition_shows_its_score_and_an_audio_player() -> None:
    composition = compose(
        **SMALL,
        backend=Scripted([GOOD]),
    )
    html = composition._repr_html_()
    assert "<svg" in html
    assert '<audio controls src="data:audio/ogg;base64,' in html
    assert composition.report.summary in html


def test_sheet_music_files_are_chosen_by_suffix(tmp_path: Path) -> None:
    composition = compose(
        **SMALL,
        backend=Scripted([GOOD]),
    )
    assert composition.save_score(tmp_path / "t.abc").read_text().startswith("X:1")
    assert b"<score-partwise" in composition.save_score(tmp_path / "t.musicxml").read_bytes()
    assert composition.save_score(tmp_path / "t.mid").read_bytes().startswith(b"MThd")
    with pytest.raises(ExportError, match=r"one of .mid, .midi, .wav, .flac, .ogg, .musicxml"):
        composition.save_score(tmp_path / "t.pdf")


def test_feedback_names_the_first_problems_and_counts_the_rest() -> None:
    off_key = "D5:e D5:e D5:e D5:q. | D5:e D5:e D5:e D5:q. |"  # 8 pitches, the ending: 9
    backend = Scripted([off_key, GOOD])
    composition = compose(**SMALL, backend=backend)
    feedback = backend.prompts[1].messages[-1]["content"]
    listed = [line for line in feedback.splitlines() if line.startswith("- ")]
    assert len(listed) == 9
    assert listed[-1] == "- ... and 1 more"
    assert composition.report.attempts[0].problems[-1] == "... and 1 more"
    assert composition.text == GOOD


def test_a_runaway_answer_is_neither_parsed_nor_echoed_back_whole() -> None:
    runaway = "A4:e " * 200_000  # a million characters for a two-bar tune
    backend = Scripted([runaway, GOOD])
    composition = compose(**SMALL, backend=backend)
    first = composition.report.attempts[0]
    assert len(first.problems) == 1
    assert re.fullmatch(
        rf"the answer is {len(runaway)} characters long, far more than 2 bars need "
        r"\(at most \d+\); write only the notes",
        first.problems[0],
    )
    echoed = backend.prompts[1].messages[-2]
    assert echoed["role"] == "assistant"
    assert len(echoed["content"]) < 10_000
    assert composition.text == GOOD


@pytest.mark.parametrize(
    ("settings", "error", "message"),
    [
        ({"max_attempts": "3"}, RequestTypeError, r"max_attempts must be a whole number"),
        ({"max_attempts": 0}, RequestError, r"max_attempts must be at least 1 \(received 0\)"),
        ({"temperature": "hot"}, RequestTypeError, r"temperature must be a number"),
        ({"temperature": 5}, RequestError, r"temperature must be between 0 and 2 \(received 5\)"),
        ({"backend": 42}, RequestTypeError, r"backend must be a Backend .*\(received int\)"),
        ({"bars": True}, RequestTypeError, r"bars must be a whole number \(received True\)"),
    ],
)
def test_settings_of_the_wrong_type_or_range_are_refused_before_the_model_runs(
    settings: dict[str, object], error: type[Exception], message: str
) -> None:
    backend = Scripted([])  # any call would fail: the script is empty
    options = {**SMALL, "backend": backend, **settings}
    with pytest.raises(error, match=message):
        compose(**options)
    assert backend.prompts == []


def test_a_request_may_be_a_dict_of_options() -> None:
    composition = compose(SMALL, backend=Scripted([GOOD]))
    assert composition.request == ComposeRequest(**SMALL, title="Folk tune on A B C# F# G")
    with pytest.raises(RequestTypeError, match=r"request must be a ComposeRequest or a dict"):
        compose(42, backend=Scripted([GOOD]))  # type: ignore[arg-type]


def test_compose_many_refuses_a_misspelled_setting_at_once() -> None:
    with pytest.raises(TypeError, match="max_attemps"):
        compose_many([ComposeRequest(**SMALL)], backend=Scripted([]), max_attemps=2)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"concurrency": "8"}, RequestTypeError, r"concurrency must be a whole number"),
        ({"max_attempts": "2"}, RequestTypeError, r"max_attempts must be a whole number"),
        ({"timeout": "x"}, RequestTypeError, r"timeout must be a number of seconds"),
        ({"candidates": 0}, RequestError, r"candidates must be at least 1 \(received 0\)"),
    ],
)
def test_compose_many_checks_its_settings_before_composing(
    options: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        compose_many([ComposeRequest(**SMALL)], backend=Scripted([]), **options)  # type: ignore[arg-type]


def test_compose_many_works_inside_a_running_event_loop_as_in_jupyter() -> None:
    async def notebook_cell() -> list[Composition | Exception]:
        return list(compose_many([SMALL, SMALL], backend=Scripted([GOOD, GOOD])))

    results = asyncio.run(notebook_cell())
    assert [r.text for r in results if isinstance(r, Composition)] == [GOOD, GOOD]


def test_compose_many_keeps_a_bad_dict_request_in_its_slot() -> None:
    results = compose_many([SMALL, {**SMALL, "meter": "7/0"}], backend=Scripted([GOOD]))
    assert isinstance(results[0], Composition)
    assert isinstance(results[1], RequestError)
    assert "received '7/0'" in str(results[1])


def test_compose_async_takes_a_dict_and_checks_its_settings() -> None:
    composition = asyncio.run(compose_async(SMALL, backend=Scripted([GOOD])))
    assert composition.text == GOOD
    with pytest.raises(RequestTypeError, match="max_attempts"):
        asyncio.run(compose_async(SMALL, backend=Scripted([]), max_attempts=None))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key", "mode", "answer"),
    [
        ("G#", "major", "G#4:q A#4:q B#4:q G#4:q |"),
        ("D#", "major", "D#4:q E#4:q F##4:q D#4:q |"),
        ("Gb", "minor", "Gb4:q Ab4:q Bbb4:q Gb4:q |"),
        ("Fb", "major", "Fb4:q Gb4:q Ab4:q Fb4:q |"),
    ],
)
def test_keys_beyond_seven_accidentals_compose_and_export(
    key: str, mode: str, answer: str, tmp_path: Path
) -> None:
    composition = compose(
        key=key, mode=mode, bars=1, low="C4", high="C6", backend=Scripted([answer])
    )
    assert composition.text == answer
    assert_midi_keeps_the_request(composition)
    midi = mido.MidiFile(composition.save_midi(tmp_path / "tune.mid"))
    assert not [m for m in midi.tracks[0] if m.type == "key_signature"]
    assert b"<score-partwise" in composition.to_musicxml()
    assert composition.to_abc().startswith("X:1")


@pytest.mark.model
def test_compose_many_writes_the_candidates_asked_for_on_the_embedded_model() -> None:
    jigs = [ComposeRequest(notes=JIG_NOTES, meter="6/8", bars=4, seed=seed) for seed in (1, 2)]
    results = compose_many(jigs, candidates=2, timeout=120)
    assert [len(r.report.candidates) for r in results if isinstance(r, Composition)] == [2, 2]


@pytest.mark.model
def test_a_32_bar_jig_is_aabb_written_once_with_repeat_marks_and_played_out() -> None:
    seed = seed_with_pickup("jig", has=False)  # a real jig without a pickup
    composition = compose(style="jig", key="D", seed=seed, candidates=2)
    assert composition.request.bars == 32  # the style's default: AABB of 8-bar parts
    score = composition.score
    assert score.bar_count == 16  # A and B written once
    assert [(r.start, r.end) for r in score.repeats] == [(0, 8), (8, 16)]
    abc = composition.to_abc()
    assert "|:" in abc
    assert "::" in abc  # A's end repeat and B's start repeat together, as ABC writes them
    assert abc.rstrip().endswith(":|")
    assert len(composition.tune.bars) == 32  # as heard: the repeats played out
    notes = midi_notes(composition.to_midi_bytes())[1]
    rest = sum(e.duration for e in composition.tune.bars[-1].events if not e.pitches)
    assert max(onset + length for _, onset, length in notes) == 32 * Fraction(3) - rest
    bars, plan = composition.tune.bars, Writing.of(composition.request).plan
    copies = [(index, bar.source) for index, bar in enumerate(plan.bars) if bar.source is not None]
    assert copies  # a real jig's repeats, drawn by the seed
    heard = plan.played()
    for index, source in copies:  # every bar the plan repeats sounds as its source, wherever heard
        assert all(bars[at] == bars[heard.index(source)] for at in range(32) if heard[at] == index)
    events = bars[-1].events
    onsets = [Fraction(0), *itertools.accumulate(e.duration for e in events)]
    at = max(i for i, e in enumerate(events) if e.pitches)
    assert onsets[at] == Fraction(3, 2)  # the last note starts on the beat
    assert events[at].duration >= 1  # and is held: real jigs end "BAG G2 z" (96%) or "G3"
    assert onsets[-1] - onsets[at + 1] <= Fraction(1, 2)  # then at most the pickup's rest
    assert events[at].pitches[0].pitch_class.semitone == 2  # D
    assert composition.report.why.startswith("candidate ")


def test_a_jig_drawn_from_a_real_tune_with_a_pickup_opens_with_it_before_the_repeat(
    tmp_path: Path,
) -> None:
    composition = compose(style="jig", key="D", seed=2, candidates=2)  # a real tune's "A|"
    score = composition.score
    assert score.bar_lengths[0] == Fraction(1, 2)  # an eighth before the first bar line
    assert score.bar_count == 17
    assert [(r.start, r.end) for r in score.repeats] == [(1, 9), (9, 17)]  # heard once
    assert composition.report.violations == ()
    assert len(composition.tune.bars) == 33  # the pickup and the 32 bars asked for
    first_line = composition.to_abc().split("%%MIDI program")[1].splitlines()[1]
    assert re.match(r"[A-Ga-g][,']*\s*\|:", first_line)  # "d |: Bdd efe |..."
    assert first_line.count("|") - first_line.count("|:") == 4  # four bars after the pickup
    notes = midi_notes(composition.to_midi_bytes())[1]
    rest = sum(e.duration for e in composition.tune.bars[-1].events if not e.pitches)
    assert min(onset for _, onset, _ in notes) == 0
    assert max(onset + length for _, onset, length in notes) == Fraction(1, 2) + 96 - rest
    saved = [composition.save_midi(tmp_path / "jig.mid")]
    saved += [composition.save_score(tmp_path / f"jig{suffix}") for suffix in (".musicxml", ".abc")]
    for path in saved:  # read back for real: mido, music21
        assert read_score(path).bar_lengths[:2] == (Fraction(1, 2), Fraction(3)), path.suffix
    assert '<measure implicit="yes" number="0">' in saved[1].read_text()  # bars count from 1


def test_feedback_names_the_bar_as_the_model_wrote_it_not_as_it_is_played() -> None:
    # AABB of 2-bar parts: the model writes A and B once (4 bars); B's first bar is bar 3
    wrong = "A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. | A4:e B4:e D5:e F#5:q. | G5:q. A5:q. |"
    backend = Scripted([wrong, GOOD + " " + GOOD])
    compose(**{**SMALL, "bars": 8, "form": "AABB"}, backend=backend)
    feedback = backend.prompts[1].messages[-1]["content"]
    assert "bar 3, beat 1.667: pitch D5" in feedback
    assert "bar 7" not in feedback  # as played, B's first bar is bar 5 and again bar 7
