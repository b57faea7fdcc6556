"""What a MusicXML or ABC file says about the whole tune, read beside its notes.

:func:`read_header` makes the score's header from music21's reading (meter, key, tempo,
title), saying what had to be estimated; :func:`musicxml_facts` reads from the MusicXML
itself what music21 changes (each part's name, program and drum flag, a key of
``<mode>none</mode>``); :func:`mxl_document` takes the MusicXML out of an ``.mxl`` archive.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
from fractions import Fraction
from pathlib import Path
from typing import Any

from tunesmith.io.abc import Facts, Voice, abc_key
from tunesmith.io.timeline import analysed_key, key_ending_on
from tunesmith.model.header import MODES, Header, Key, clean_text
from tunesmith.model.notation import _meter_of
from tunesmith.model.score import DURATIONS, PitchClass

__all__ = ["musicxml_facts", "mxl_document", "read_header"]

_LENGTHS = frozenset(DURATIONS.values())


def read_header(
    first: Any,
    parsed: Any,
    path: Path,
    lengths: list[Fraction],
    *,
    facts: Facts,
    line: list[tuple[int, Fraction]],
) -> tuple[Header, list[str]]:
    """The header the file gives, and what had to be estimated; ``line`` is the melody."""
    estimated = []
    signature = next(iter(first.recurse().getElementsByClass("TimeSignature")), None)
    meter = signature.ratioString if signature is not None else _meter_of(lengths)
    if signature is None:
        estimated.append(f"meter {meter} (the file has no time signature)")
    key = None
    found = next(iter(first.recurse().getElementsByClass("KeySignature")), None)
    keyless = (facts.key or "").lower() == "none"
    if (key := abc_key(facts.key or "")) is not None:
        pass  # the file names it: ABC's K: field, which music21 reads only in part
    elif found is not None and not keyless:
        mode = getattr(found, "mode", None)
        written = found if mode in MODES else found.asKey("major")
        key = Key(PitchClass.parse(written.tonic.name), written.mode)
        if mode not in MODES:
            final = line[-1][0] if line else None
            key = key_ending_on(key, final)
            estimated.append(f"mode: {key} (from the key signature and the final note)")
    elif not keyless and (key := analysed_key(line)) is not None:
        estimated.append(f"key {key} (music21's key analysis; the file has no key signature)")
    mark = next(iter(first.recurse().getElementsByClass("MetronomeMark")), None)
    beat = Header(meter).beat
    tempo = 120.0
    if mark is not None and mark.number:
        referent = Fraction(mark.referent.quarterLength).limit_denominator(64)
        if referent in _LENGTHS:
            beat, tempo = referent, float(mark.number)
        else:
            tempo = float(mark.number) * float(referent / beat)
    else:
        estimated.append(f"tempo {tempo:g} beats a minute (the file has none)")
    titles = [parsed.metadata.title, parsed.metadata.movementName] if parsed.metadata else []
    title = next((clean_text(str(t)) for t in titles if t and t != path.name), "")
    title = clean_text(facts.title) if facts.title is not None else title
    return Header(meter, key, round(tempo, 2), beat, title), estimated


def musicxml_facts(data: bytes | str) -> Facts:
    """Each part's name, program and drum flag as the file writes them (music21 puts an
    instrument's name where a part's is empty and its class's program where the file's
    differs), and whether the key is ``<mode>none</mode>`` (no key signature).
    """  # noqa: D205
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return Facts()  # music21 says what is wrong
    parts = []
    for part in root.iter("score-part"):
        channel = part.findtext("midi-instrument/midi-channel") or ""
        program = (part.findtext("midi-instrument/midi-program") or "1").strip()
        parts.append(
            Voice(
                clean_text(part.findtext("part-name") or ""),
                min(max(int(program) - 1, 0), 127) if program.isdigit() else 0,
                channel.strip() == "10" or part.find("midi-instrument/midi-unpitched") is not None,
            )
        )
    first = next(root.iter("key"), None)
    keyless = first is not None and (first.findtext("mode") or "") == "none"
    return Facts(tuple(parts), "none" if keyless else None)


def mxl_document(path: Path) -> bytes:
    """The MusicXML document inside an .mxl archive (empty if there is none to read)."""
    try:
        with zipfile.ZipFile(path) as archive:
            inner = [n for n in archive.namelist() if n.endswith((".xml", ".musicxml"))]
            inner = [n for n in inner if not n.startswith("META-INF")]
            return archive.read(inner[0]) if inner else b""
    except (zipfile.BadZipFile, OSError, KeyError):
        return b""
