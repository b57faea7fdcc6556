"""Writing compositions out: MIDI files, audio and sheet music."""
