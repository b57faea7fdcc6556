"""Writing compositions out: MIDI, audio."""
