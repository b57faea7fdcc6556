"""The General MIDI tables, from pretty_midi: the 128 instrument names and the drum keys.

A part's program and a drum's name in a score are General MIDI's; pretty_midi holds the
tables. It is imported on first use, quietly (see :func:`gm_constants`).
"""

from __future__ import annotations

import contextlib
import functools
import io
import warnings
from typing import Any

__all__ = ["gm_constants", "gm_instruments"]


@functools.cache
def gm_constants() -> Any:
    """pretty_midi's General MIDI tables (``INSTRUMENT_MAP``, ``DRUM_MAP``), imported quietly.

    Imported on first use, so that ``import tunesmith`` does not load pretty_midi and the
    native FluidSynth library it brings. pretty_midi imports pyfluidsynth, which prints where
    it found the library when ``$CI`` is set: that would land in a program's stdout.
    """
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        # pretty_midi before 0.2.11 imports pkg_resources, which warns when imported
        warnings.filterwarnings("ignore", "pkg_resources is deprecated")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        from pretty_midi import constants  # noqa: PLC0415 - loads libfluidsynth; warns and prints

    return constants


@functools.cache
def gm_instruments() -> tuple[str, ...]:
    """The 128 General MIDI melodic instrument names, from pretty_midi; the index is the program."""
    return tuple(gm_constants().INSTRUMENT_MAP)
