"""Parts beside the melody: chords under a tune, and a band's arrangement."""
