"""Shared fixtures: compositions from the real embedded model, made once per session."""

from __future__ import annotations

import os

import pytest

from tunesmith import Composition, compose
from tunesmith.writing import grammar

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


@pytest.fixture(autouse=True)
def _no_result_from_before_the_mutant() -> None:
    """Under mutation testing (``make mutation``: mutmut names the mutant switched on in
    ``MUTANT_UNDER_TEST``), a grammar cached by an earlier test would be the original's and
    hide a mutant of the functions that build it; each test starts with that cache empty.
    """
    if os.environ.get("MUTANT_UNDER_TEST"):
        grammar._bars_gbnf.cache_clear()
