"""Shared fixtures: compositions from the real embedded model, made once per session."""

from __future__ import annotations

import pytest

from tunesmith import Composition, compose

JIG_NOTES = ["A", "B", "C#", "F#", "G"]


@pytest.fixture(scope="session")
def jig() -> Composition:
    """A short jig restricted to A B C# F# G, composed by the embedded model."""
    return compose(
        notes=JIG_NOTES,
        meter="6/8",
        bars=4,
        tempo=112,
        instrument="flute",
        low="A4",
        high="A5",
        title="Test Jig",
        seed=7,
    )
