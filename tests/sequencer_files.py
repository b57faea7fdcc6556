"""MIDI files as a sequencer writes them, built with mido, for the readers and the reworks."""

from __future__ import annotations

from pathlib import Path

import mido


def two_tracks_with_drums(folder: Path) -> Path:
    """Four bars of 3/4: a lead on track 1 and a kit on channel 10, as a sequencer writes."""
    midi = mido.MidiFile(type=1, ticks_per_beat=96)
    lead = mido.MidiTrack(
        [
            mido.MetaMessage("track_name", name="Lead"),
            mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(100)),
            mido.MetaMessage("time_signature", numerator=3, denominator=4),
            mido.Message("program_change", program=71),
        ]
    )
    melody = [(69, 96), (71, 48), (73, 48), (74, 96), (76, 96), (74, 96), (73, 96)]
    melody += [(71, 48), (69, 48), (71, 96), (73, 96), (74, 192), (69, 96)]
    for key, length in melody:
        lead += [
            mido.Message("note_on", note=key, velocity=90, time=0),
            mido.Message("note_off", note=key, velocity=0, time=length),
        ]
    kit = mido.MidiTrack([mido.MetaMessage("track_name", name="Kit")])
    for bar in range(4):
        for key, gap in ((36, 0 if bar == 0 else 96), (42, 96), (38, 96)):
            kit += [
                mido.Message("note_on", channel=9, note=key, velocity=100, time=gap),
                mido.Message("note_off", channel=9, note=key, velocity=0, time=0),
            ]
    midi.tracks += [lead, kit]
    midi.save(folder / "two.mid")
    return folder / "two.mid"
