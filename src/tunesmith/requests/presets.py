"""Presets as data: the General MIDI instruments, their playable ranges and the styles.

The General MIDI names are pretty_midi's table (:mod:`tunesmith.model.general_midi`); the
instrument ranges are
``styles/instruments.toml``; the styles are TOML files in ``styles/`` (meter, tempo, form,
phrase plan, rhythm). A new style is a new file; a style that could not be made true to its
tradition is in :data:`REMOVED_STYLES`, which says why and what to ask for instead.
"""

from __future__ import annotations

import difflib
import functools
import re
import tomllib
from importlib import resources
from typing import Any

from tunesmith.errors import RequestError, RequestTypeError
from tunesmith.model.general_midi import gm_constants, gm_instruments

__all__ = [
    "REMOVED_STYLES",
    "gm_constants",
    "gm_instruments",
    "instrument_ranges",
    "program_number",
    "removed_style",
    "style_preset",
    "style_presets",
]


_INSTRUMENT_ALIASES = {
    "piano": 0,
    "guitar": 24,
    "bass": 32,
    "strings": 48,
    "harp": 46,
    "sax": 65,
    "saxophone": 65,
    "organ": 19,
    "tin whistle": 78,
    "whistle": 78,
    "bagpipe": 109,
    "bagpipes": 109,
    "uilleann pipes": 109,
    "voice": 53,
    "choir": 52,
    "horn": 60,
    "mandolin": 105,
}


REMOVED_STYLES: dict[str, tuple[str, str]] = {
    "blues": (
        "a blues needs its 12-bar form, I-IV-V changes, blue thirds and sevenths and a swing "
        "feel, and tunesmith's embedded model knows only Irish and Scottish folk dance tunes",
        "the blues scale is still there as notes: 'a tune on the E blues scale' in words, or "
        "notes='E G A Bb B D'",
    ),
    "chant": (
        "a chant flows freely and stepwise, without a meter, and tunesmith's embedded model "
        "knows only Irish and Scottish folk dance tunes, always in a meter",
        "for a modal melody ask for an air in a mode: 'a slow air in D dorian' in words, or "
        "style='air', key='D', mode='dorian'",
    ),
}
"""Styles tunesmith had and removed: for each, why, and what to ask for instead."""
_REMOVED_WORDS = {"blues": "blues", "chant": "chant", "plainchant": "chant"}


def removed_style(style: str) -> str | None:
    """The removed style a style text names ("twelve bars of blues" -> "blues"), or None."""
    text = re.sub(r"[\s_-]+", " ", style.lower())
    for word, name in _REMOVED_WORDS.items():
        if re.search(rf"\b{word}\b", text):
            return name
    return None


@functools.cache
def style_presets() -> dict[str, dict[str, Any]]:
    """The style presets in ``styles/*.toml``, by name (e.g. "jig", "slip jig")."""
    folder = resources.files("tunesmith").joinpath("styles")
    presets = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".toml") and entry.name != "instruments.toml":
            preset = tomllib.loads(entry.read_text("utf-8"))
            presets[preset["name"]] = preset
    return presets


@functools.cache
def instrument_ranges() -> dict[str, tuple[str, str]]:
    """Playable (low, high) of General MIDI instruments, from ``styles/instruments.toml``."""
    text = resources.files("tunesmith").joinpath("styles", "instruments.toml").read_text("utf-8")
    return {name: (low, high) for name, (low, high) in tomllib.loads(text).items()}


def style_preset(style: str) -> dict[str, Any] | None:
    """The preset named in a style text: "folk jig" -> the jig preset; longest name first."""
    text = style.lower()
    for name in sorted(style_presets(), key=len, reverse=True):
        if re.search(rf"\b{re.escape(name)}\b", text):
            return style_presets()[name]
    return None


def program_number(instrument: str | int) -> int:
    """The General MIDI program (0-127) for an instrument name or number.

    Names are matched case-insensitively against the General MIDI names and a few common
    aliases ("tin whistle", "bagpipes"); a word such as "guitar" picks the first General MIDI
    instrument containing it.
    """
    if isinstance(instrument, bool) or not isinstance(instrument, str | int):
        raise RequestTypeError(
            f"instrument must be a General MIDI name or program 0-127 (received {instrument!r})"
        )
    if isinstance(instrument, int):
        if not 0 <= instrument <= 127:
            raise RequestError(
                f"instrument program must be between 0 and 127 (received {instrument})"
            )
        return instrument
    wanted = instrument.strip().lower()
    names = [name.lower() for name in gm_instruments()]
    if wanted in names:
        return names.index(wanted)
    if wanted in _INSTRUMENT_ALIASES:
        return _INSTRUMENT_ALIASES[wanted]
    for program, name in enumerate(names):
        if wanted and re.search(rf"\b{re.escape(wanted)}\b", name):
            return program
    close = difflib.get_close_matches(wanted, names + list(_INSTRUMENT_ALIASES), n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise RequestError(
        f"unknown instrument {instrument!r}: use a General MIDI instrument name such as "
        f"'flute', 'violin' or 'acoustic grand piano', or a program number 0-127{hint}"
    )
