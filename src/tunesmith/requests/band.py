"""What a request asks of the band: its parts, and each part's instrument.

``parts=["melody", "chords", "bass"]`` names the parts to write (the melody first);
``band=True`` asks for all of :data:`PARTS`. ``instruments={"chords": "accordion"}`` gives
the other parts' instruments: a General MIDI name or program, or for the drums a kit
(:data:`DRUM_KITS`). Every bad value raises :class:`~tunesmith.errors.RequestError` naming
the part and what it takes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tunesmith.errors import RequestError
from tunesmith.requests.presets import program_number

__all__ = [
    "DRUM_KITS",
    "PARTS",
    "check_instruments",
    "instrument_pairs",
    "part_names",
    "part_program",
]

PARTS = ("melody", "chords", "bass", "drums")
"""The parts a request may ask for; ``band=True`` asks for all of them."""
DRUM_KITS = {"standard": 0, "room": 8, "power": 16, "electronic": 24, "tr-808": 25}
DRUM_KITS |= {"jazz": 32, "brush": 40, "brushes": 40, "orchestra": 48}
"""General MIDI drum kits (the program on channel 10) by name."""


def part_names(value: Iterable[str]) -> tuple[str, ...]:
    """The parts asked for, the melody first; an unknown part or no melody is refused."""
    names = tuple(dict.fromkeys(name.strip().lower() for name in value))
    for name in names:
        if name not in PARTS:
            hint = " (a counter-melody is not composed yet)" if name == "counter" else ""
            raise RequestError(
                f"unknown part {name!r}{hint}: the parts are {', '.join(PARTS)}, "
                f"e.g. parts=['melody', 'chords', 'bass']"
            )
    if "melody" not in names:
        raise RequestError(
            f"parts must include 'melody' (received {list(names)}): the accompaniment "
            "follows the tune, e.g. parts=['melody', 'bass']"
        )
    return ("melody", *(name for name in names if name != "melody"))


def instrument_pairs(value: Any) -> Any:
    """``{"chords": "accordion"}`` or ``"chords=accordion,bass=cello"`` as 'part=instrument'
    strings (what a request holds); anything else as it is.
    """  # noqa: D205
    if isinstance(value, Mapping):
        return tuple(f"{part}={instrument}" for part, instrument in value.items())
    if isinstance(value, str):
        return tuple(pair.strip() for pair in value.split(",") if pair.strip())
    return value


def check_instruments(pairs: Iterable[str], wanted: tuple[str, ...]) -> dict[str, str]:
    """The instruments by part, each checked: a known part among ``wanted``, a known sound."""
    found = {}
    for pair in pairs:
        part, equals, instrument = (text.strip() for text in pair.partition("="))
        if not equals or not part or not instrument:
            raise RequestError(
                "instruments must pair parts with instruments, e.g. {'chords': 'accordion'} "
                f"or 'chords=accordion' (received {pair!r})"
            )
        part = part.lower()
        if part == "melody":
            raise RequestError(
                "instruments sets the accompaniment's instruments; give the melody's as "
                f"instrument={instrument!r}"
            )
        if part not in PARTS:
            raise RequestError(
                f"instruments names an unknown part {part!r}: the parts are "
                f"{', '.join(PARTS[1:])}, e.g. instruments={{'bass': 'cello'}}"
            )
        if part not in wanted:
            raise RequestError(
                f"instruments names the part {part!r}, which is not asked for; add it to "
                f"parts (parts={[*wanted, part]!r}) or set band=True"
            )
        part_program(part, instrument)  # an unknown instrument fails now
        found[part] = instrument
    return found


def part_program(part: str, instrument: str | int) -> int:
    """The General MIDI program of ``instrument`` for ``part`` (a drum kit for drums)."""
    if part == "drums":
        name = str(instrument).strip().lower().removesuffix(" kit")
        if name.isdigit() and 0 <= int(name) <= 127:
            return int(name)
        if name not in DRUM_KITS:
            raise RequestError(
                f"unknown drum kit {instrument!r} for the drums part: use one of "
                f"{', '.join(DRUM_KITS)} or a kit program 0-127"
            )
        return DRUM_KITS[name]
    try:
        return program_number(int(instrument) if str(instrument).isdigit() else instrument)
    except RequestError as error:
        raise RequestError(f"the {part} part: {error}") from None
