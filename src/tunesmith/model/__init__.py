"""The values every stage passes on: scores, tunes, notes, headers, the notation."""
