"""Musical knowledge: rhythm, chords, harmony, progressions and the plan of a tune."""
