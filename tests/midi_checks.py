"""Checks on what a DAW reads: the notes of a composition's MIDI file, read back with mido.

``compose()`` raises rather than return a tune that breaks its request, so asserting
``validate(composition.tune, ...).ok`` after it proves nothing; these checks read the file
the user gets instead.
"""

from __future__ import annotations

import io
from fractions import Fraction

import mido

from tunesmith import Composition

Note = tuple[int, Fraction, Fraction]


def midi_notes(data: bytes) -> tuple[mido.MidiFile, list[Note]]:
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


def assert_midi_keeps_the_request(composition: Composition) -> None:
    """The MIDI file holds only allowed pitches in range, fills the bars, ends on the tonic."""
    constraints = composition.request.constraints
    _, notes = midi_notes(composition.to_midi_bytes())
    assert notes, "the MIDI file has notes"
    keys = [key for key, _, _ in notes]
    assert {key % 12 for key in keys} <= constraints.semitones, keys
    assert all(constraints.low.midi <= key <= constraints.high.midi for key in keys), keys
    end = max(onset + length for _, onset, length in notes)
    bars = composition.request.bars
    assert (bars - 1) * constraints.bar_length < end <= bars * constraints.bar_length
    last_onset = notes[-1][1]
    last = {key % 12 for key, onset, _ in notes if onset == last_onset}
    assert constraints.tonic.semitone in last
