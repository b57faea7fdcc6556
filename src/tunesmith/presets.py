"""Presets as data: the General MIDI instruments, their playable ranges and the styles.

The styles are TOML files in ``styles/`` (meter, tempo, form, phrase plan, rhythm); the
instrument ranges are ``styles/instruments.toml``. A new style is a new file.
"""

from __future__ import annotations

import difflib
import functools
import re
import tomllib
from importlib import resources
from typing import Any

from tunesmith.errors import RequestError

__all__ = ["GM_INSTRUMENTS", "instrument_ranges", "program_number", "style_preset", "style_presets"]

GM_INSTRUMENTS: tuple[str, ...] = (
    "Acoustic Grand Piano",
    "Bright Acoustic Piano",
    "Electric Grand Piano",
    "Honky-tonk Piano",
    "Electric Piano 1",
    "Electric Piano 2",
    "Harpsichord",
    "Clavinet",
    "Celesta",
    "Glockenspiel",
    "Music Box",
    "Vibraphone",
    "Marimba",
    "Xylophone",
    "Tubular Bells",
    "Dulcimer",
    "Drawbar Organ",
    "Percussive Organ",
    "Rock Organ",
    "Church Organ",
    "Reed Organ",
    "Accordion",
    "Harmonica",
    "Tango Accordion",
    "Acoustic Guitar (nylon)",
    "Acoustic Guitar (steel)",
    "Electric Guitar (jazz)",
    "Electric Guitar (clean)",
    "Electric Guitar (muted)",
    "Overdriven Guitar",
    "Distortion Guitar",
    "Guitar Harmonics",
    "Acoustic Bass",
    "Electric Bass (finger)",
    "Electric Bass (pick)",
    "Fretless Bass",
    "Slap Bass 1",
    "Slap Bass 2",
    "Synth Bass 1",
    "Synth Bass 2",
    "Violin",
    "Viola",
    "Cello",
    "Contrabass",
    "Tremolo Strings",
    "Pizzicato Strings",
    "Orchestral Harp",
    "Timpani",
    "String Ensemble 1",
    "String Ensemble 2",
    "Synth Strings 1",
    "Synth Strings 2",
    "Choir Aahs",
    "Voice Oohs",
    "Synth Choir",
    "Orchestra Hit",
    "Trumpet",
    "Trombone",
    "Tuba",
    "Muted Trumpet",
    "French Horn",
    "Brass Section",
    "Synth Brass 1",
    "Synth Brass 2",
    "Soprano Sax",
    "Alto Sax",
    "Tenor Sax",
    "Baritone Sax",
    "Oboe",
    "English Horn",
    "Bassoon",
    "Clarinet",
    "Piccolo",
    "Flute",
    "Recorder",
    "Pan Flute",
    "Blown Bottle",
    "Shakuhachi",
    "Whistle",
    "Ocarina",
    "Lead 1 (square)",
    "Lead 2 (sawtooth)",
    "Lead 3 (calliope)",
    "Lead 4 (chiff)",
    "Lead 5 (charang)",
    "Lead 6 (voice)",
    "Lead 7 (fifths)",
    "Lead 8 (bass + lead)",
    "Pad 1 (new age)",
    "Pad 2 (warm)",
    "Pad 3 (polysynth)",
    "Pad 4 (choir)",
    "Pad 5 (bowed)",
    "Pad 6 (metallic)",
    "Pad 7 (halo)",
    "Pad 8 (sweep)",
    "FX 1 (rain)",
    "FX 2 (soundtrack)",
    "FX 3 (crystal)",
    "FX 4 (atmosphere)",
    "FX 5 (brightness)",
    "FX 6 (goblin)",
    "FX 7 (echoes)",
    "FX 8 (sci-fi)",
    "Sitar",
    "Banjo",
    "Shamisen",
    "Koto",
    "Kalimba",
    "Bag pipe",
    "Fiddle",
    "Shanai",
    "Tinkle Bell",
    "Agogo",
    "Steel Drums",
    "Woodblock",
    "Taiko Drum",
    "Melodic Tom",
    "Synth Drum",
    "Reverse Cymbal",
    "Guitar Fret Noise",
    "Breath Noise",
    "Seashore",
    "Bird Tweet",
    "Telephone Ring",
    "Helicopter",
    "Applause",
    "Gunshot",
)
"""The 128 General MIDI melodic instruments; the index is the program number (0-based)."""

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
        raise RequestError(
            f"instrument must be a General MIDI name or program 0-127 (received {instrument!r})"
        )
    if isinstance(instrument, int):
        if not 0 <= instrument <= 127:
            raise RequestError(
                f"instrument program must be between 0 and 127 (received {instrument})"
            )
        return instrument
    wanted = instrument.strip().lower()
    names = [name.lower() for name in GM_INSTRUMENTS]
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
