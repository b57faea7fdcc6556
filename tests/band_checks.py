"""Checks on a band's MIDI file as a DAW reads it (mido, track by track), and a stand-in model.

:class:`GrammarBound` is a server that takes a grammar and answers with a random sentence
of it: what any grammar-constrained model can write, so the whole pipeline runs in a blink.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from fractions import Fraction

import mido

from grammar_walk import walk
from tunesmith import Composition
from tunesmith.backends import Completion, Prompt
from tunesmith.model.score import ChordSymbol
from tunesmith.music.chords import Chord
from tunesmith.music.harmony import strong_beats
from tunesmith.music.rhythm import meter_of


@dataclass
class GrammarBound:
    """A server that writes a random sentence of the grammar it is given (or a fixed answer)."""

    seed: int = 0
    answer: str | None = None
    name: str = "grammar-bound"
    model: str = "random walk"
    supports_grammar: bool = True
    grammars: list[str] = field(default_factory=list)

    def complete(self, prompt: Prompt, *, grammar: str | None, **_: object) -> Completion:
        if grammar is not None:
            self.grammars.append(grammar)
        text = (
            self.answer
            if self.answer is not None
            else walk(grammar or "", random.Random(self.seed))
        )
        return Completion(text, self.model, 10, 10, "stop", 0.0)


@dataclass
class Track:
    """One MIDI track as mido reads it: its name, channel, program and notes."""

    name: str
    channel: int | None = None
    program: int | None = None
    notes: list[tuple[int, Fraction, Fraction, int]] = field(default_factory=list)
    """(key, onset, duration, velocity), in quarter notes."""


def tracks(data: bytes) -> list[Track]:
    """Every track with notes, in order (the conductor track left out)."""
    midi = mido.MidiFile(file=io.BytesIO(data))
    found = []
    for raw in midi.tracks:
        track, now, sounding = Track(""), 0, {}
        for message in raw:
            now += message.time
            if message.type == "track_name":
                track.name = message.name
            elif message.type == "program_change":
                track.program = message.program
            elif message.type == "note_on" and message.velocity > 0:
                track.channel = message.channel
                sounding[message.note] = (now, message.velocity)
            elif message.type in {"note_on", "note_off"} and message.note in sounding:
                start, velocity = sounding.pop(message.note)
                track.notes.append(
                    (
                        message.note,
                        Fraction(start, midi.ticks_per_beat),
                        Fraction(now - start, midi.ticks_per_beat),
                        velocity,
                    )
                )
        if track.notes:
            found.append(track)
    return found


def chord_at(lane: tuple[ChordSymbol, ...], time: Fraction) -> Chord:
    return next(Chord.parse(c.figure) for c in lane if c.onset <= time < c.end)


def assert_the_melody_fits_its_chords(composition: Composition) -> None:
    """In the MIDI file: the melody note sounding on every strong beat is a tone of its chord."""
    played = composition.score.expanded()
    melody = tracks(composition.to_midi_bytes())[0]
    meter = meter_of(composition.request.meter)
    bar = meter.bar_length
    beats = [n * bar + b for n in range(composition.request.bars) for b in strong_beats(meter)]
    checked = 0
    for time in beats:
        sounding = [key for key, onset, length, _ in melody.notes if onset <= time < onset + length]
        if sounding:
            chord = chord_at(played.harmony, time)
            assert sounding[-1] % 12 in chord.semitones, (time, sounding, chord)
            checked += 1
    assert checked >= len(beats) // 2, "most strong beats sound a melody note"
