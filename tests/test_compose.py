"""compose() end to end on the real embedded model: every constraint holds in the MIDI file."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import mido
import pytest

from conftest import JIG_NOTES
from tunesmith import (
    ComposeRequest,
    Composition,
    CompositionError,
    ExportError,
    RequestError,
    compose,
)
from tunesmith.backends import Completion, Prompt
from tunesmith.notation import parse
from tunesmith.validate import validate

pytestmark = pytest.mark.model

SEMITONES = {"A": 9, "B": 11, "C#": 1, "F#": 6, "G": 7}


def midi_notes(data: bytes) -> tuple[mido.MidiFile, list[tuple[int, Fraction, Fraction]]]:
    """(key, onset, duration) in quarter notes of every note, as a DAW would read them."""
    midi = mido.MidiFile(file=io.BytesIO(data))
    notes, sounding, now = [], {}, 0
    for message in mido.merge_tracks(midi.tracks):
        now += message.time
        if message.type == "note_on" and message.velocity > 0:
            sounding[message.note] = now
        elif message.type in {"note_off", "note_on"} and message.note in sounding:
            start = sounding.pop(message.note)
            notes.append(
                (
                    message.note,
                    Fraction(start, midi.ticks_per_beat),
                    Fraction(now - start, midi.ticks_per_beat),
                )
            )
    return midi, sorted(notes, key=lambda n: (n[1], n[0]))


def test_the_embedded_model_writes_a_tune_that_keeps_every_constraint(jig: Composition) -> None:
    assert validate(jig.tune, jig.request).ok
    assert parse(jig.score.text) == jig.score
    assert len(jig.tune.bars) == 4
    assert all(bar.duration == Fraction(3) for bar in jig.tune.bars)
    assert jig.tune.notes[-1].pitches[0].pitch_class.semitone == SEMITONES["A"]


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


def test_the_report_says_what_was_asked_and_what_the_model_did(jig: Composition) -> None:
    report = jig.report
    assert report.backend == "local"
    assert report.model == "gemma-3-270m-q4_k_m"
    assert report.constrained
    assert report.attempts[0].completion_tokens > 0
    assert report.attempts[-1].problems == ()
    assert report.violations == ()
    assert report.repairs == ()
    assert "4 bars of 6/8 on local:gemma-3-270m-q4_k_m (grammar-constrained)" in report.summary
    assert "only the notes A B C# F# G" in str(report)
    dumped = json.loads(report.model_dump_json())
    assert dumped["request"]["notes"] == JIG_NOTES
    assert dumped["attempts"][0]["text"].strip() == jig.text


def test_the_same_seed_gives_the_same_tune(jig: Composition) -> None:
    again = compose(jig.request)
    assert again.text == jig.text


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
    assert validate(composition.tune, request).ok
    assert composition.report.violations == ()


def test_a_request_and_keyword_options_together_are_refused() -> None:
    with pytest.raises(RequestError, match="either a ComposeRequest or keyword options"):
        compose(ComposeRequest(), bars=4)


def test_bad_options_are_refused_before_the_model_runs() -> None:
    with pytest.raises(RequestError, match="meter must be N/D"):
        compose(meter="7/0")


@dataclass
class Scripted:
    """A backend that answers from a script: for model outputs a grammar-bound model cannot give."""

    answers: list[str]
    name: str = "scripted"
    model: str = "script"
    supports_grammar: bool = False

    def complete(self, prompt: Prompt, **_: object) -> Completion:
        return Completion(self.answers.pop(0), self.model, 10, 10, "stop", 0.0)


def test_a_wrong_answer_is_repaired_and_the_report_names_each_change() -> None:
    wrong = "Here you go:\nA4:e B4:e D5:e F#5:q. | G5:q. F#5:q. |"
    composition = compose(
        notes=JIG_NOTES,
        meter="6/8",
        bars=2,
        low="A4",
        high="A5",
        max_attempts=1,
        backend=Scripted([wrong]),
    )
    assert composition.text == "A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. |"
    assert [v.kind for v in composition.report.violations] == ["pitch", "final"]
    assert [r.kind for r in composition.report.repairs] == ["pitch", "final"]


def test_strict_mode_refuses_to_repair_and_lists_the_violations() -> None:
    wrong = "A4:e B4:e D5:e F#5:q. | G5:q. A5:q. |"
    with pytest.raises(CompositionError, match=r"strict: .*bar 1, beat 1.667: pitch D5") as caught:
        compose(
            notes=JIG_NOTES,
            meter="6/8",
            bars=2,
            low="A4",
            high="A5",
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
        notes=JIG_NOTES,
        meter="6/8",
        bars=2,
        low="A4",
        high="A5",
        max_attempts=1,
        backend=Scripted([answer]),
    )
    report = composition.report
    assert validate(composition.tune, composition.request).ok
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


def test_a_form_is_written_once_per_part_then_laid_out_with_an_open_half_cadence() -> None:
    request = ComposeRequest(key="D", meter="6/8", bars=8, form="AABB", low="D4", high="D5", seed=2)
    composition = compose(request)
    bars = composition.tune.bars
    assert len(bars) == 8
    assert bars[0:2] == bars[2:4]  # A A
    assert bars[4:6] == bars[6:8]  # B B
    assert composition.report.attempts[0].text.count("|") == 4  # the model wrote A and B once
    assert bars[1].events[-1].pitches[0].pitch_class.semitone in {4, 9, 1}  # E, A or C#: V
    assert validate(composition.tune, request).ok


def test_in_a_notebook_a_composition_shows_its_score_and_an_audio_player() -> None:
    composition = compose(
        notes=JIG_NOTES,
        meter="6/8",
        bars=2,
        low="A4",
        high="A5",
        backend=Scripted(["A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. |"]),
    )
    html = composition._repr_html_()
    assert "<svg" in html
    assert '<audio controls src="data:audio/wav;base64,' in html
    assert composition.report.summary in html


def test_sheet_music_files_are_chosen_by_suffix(tmp_path: Path) -> None:
    composition = compose(
        notes=JIG_NOTES,
        meter="6/8",
        bars=2,
        low="A4",
        high="A5",
        backend=Scripted(["A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. |"]),
    )
    assert composition.save_score(tmp_path / "t.abc").read_text().startswith("X:1")
    assert b"<score-partwise" in composition.save_score(tmp_path / "t.musicxml").read_bytes()
    with pytest.raises(ExportError, match=r"end in .musicxml, .xml, .mxl, .abc, .svg, .txt"):
        composition.save_score(tmp_path / "t.pdf")


def test_a_composition_is_a_score_with_its_header_and_one_melody_part() -> None:
    composition = compose(
        notes=JIG_NOTES,
        meter="6/8",
        bars=2,
        low="A4",
        high="A5",
        tempo=116,
        instrument="flute",
        title="Jig",
        backend=Scripted(["A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. |"]),
    )
    header = composition.score.header
    assert (header.meter, header.tempo, header.beat, header.title) == ("6/8", 116, 1.5, "Jig")
    assert header.key is not None
    assert header.key.sharps == 2  # A mixolydian: two sharps
    assert [str(pc) for pc in header.notes or ()] == JIG_NOTES
    (melody,) = composition.score.parts
    assert (melody.name, melody.role, melody.program) == ("Flute", "melody", 73)
    assert melody.tune == composition.tune


def test_a_section_the_form_plays_twice_is_written_once_between_repeat_marks() -> None:
    a_part = "A4:e B4:e C#5:e F#5:q. | G5:q. A5:q. | B5:q. A5:q. | F#5:q. A4:q. |"
    b_part = "C#5:q. B4:q. | A4:q. G4:q. | F#4:q. G4:q. | A4:h. |"
    composition = compose(
        notes=JIG_NOTES,
        meter="6/8",
        bars=16,
        form="AABB",
        low="F#4",
        high="B5",
        backend=Scripted([a_part + "\n" + b_part]),
    )
    score = composition.score
    if score.bar_count == 8:  # both parts came back as written: each is repeated
        assert [(r.start, r.end) for r in score.repeats] == [(0, 4), (4, 8)]
    assert len(composition.tune.bars) == 16  # the melody as played
    assert "|:" in composition.to_abc()
