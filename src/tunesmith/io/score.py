"""Sheet music: MusicXML (music21), ABC, and SVG engraved by verovio.

MusicXML opens in MuseScore, Finale, Sibelius and Dorico; ABC is the folk musician's
text format; SVG lets a user see the tune with no other software.
"""

from __future__ import annotations

import functools
from fractions import Fraction
from typing import Any

from tunesmith.errors import DependencyError, ExportError
from tunesmith.io.midi import MidiSettings, key_name
from tunesmith.score import Event, Pitch, Tune

__all__ = ["abc_text", "musicxml_bytes", "svg_pages", "to_music21"]

ABC_UNIT = Fraction(1, 2)
"""ABC's default note length L: an eighth note, in quarter notes."""
_FLAT_KEY_ORDER = "BEADGCF"
_SHARP_KEY_ORDER = "FCGDAEB"


def _music21_pitch_name(pitch: Pitch) -> str:
    return (
        f"{pitch.step}{'#' * pitch.alter if pitch.alter > 0 else '-' * -pitch.alter}{pitch.octave}"
    )


def to_music21(tune: Tune, settings: MidiSettings) -> Any:
    """The tune as a music21 Score: title, meter, key, tempo, instrument, ties."""
    from music21 import (  # noqa: PLC0415 - music21 takes a second to import
        chord,
        instrument,
        key,
        metadata,
        meter,
        note,
        stream,
        tempo,
    )
    from music21 import tie as music21_tie  # noqa: PLC0415

    part: Any = stream.Part()
    part.insert(0, instrument.instrumentFromMidiProgram(settings.program))
    tied_in = False
    for number, bar in enumerate(tune.bars, 1):
        measure: Any = stream.Measure(number=number)
        if number == 1:
            measure.insert(0, meter.TimeSignature(f"{settings.numerator}/{settings.denominator}"))
            if settings.key_sharps is not None:
                measure.insert(0, key.KeySignature(settings.key_sharps))
            beats_per_minute = settings.tempo_qpm / float(settings.beat_length)
            mark = tempo.MetronomeMark(number=round(beats_per_minute, 2))
            mark.referent = float(settings.beat_length)
            measure.insert(0, mark)
        for event in bar.events:
            element = _music21_element(event, note, chord)
            if event.pitches and (event.tie or tied_in):
                kind = "continue" if event.tie and tied_in else "start" if event.tie else "stop"
                element.tie = music21_tie.Tie(kind)
            tied_in = event.tie
            measure.append(element)
        part.append(measure)
    score = stream.Score([part])
    score.metadata = metadata.Metadata()
    score.metadata.title = settings.track_name
    score.metadata.composer = "tunesmith"
    return score


def _music21_element(event: Event, note: Any, chord: Any) -> Any:
    length = event.duration
    if event.is_rest:
        return note.Rest(quarterLength=length)
    if event.is_chord:
        return chord.Chord([_music21_pitch_name(p) for p in event.pitches], quarterLength=length)
    return note.Note(_music21_pitch_name(event.pitches[0]), quarterLength=length)


def musicxml_bytes(tune: Tune, settings: MidiSettings) -> bytes:
    """The tune as a MusicXML document."""
    from music21.musicxml.m21ToXml import GeneralObjectExporter  # noqa: PLC0415

    try:
        return bytes(GeneralObjectExporter(to_music21(tune, settings)).parse())
    except Exception as error:  # music21's exporter raises many kinds
        raise ExportError(f"music21 could not write MusicXML: {error}") from None


def _key_accidentals(sharps: int | None) -> dict[str, int]:
    if not sharps:
        return {}
    order = _SHARP_KEY_ORDER if sharps > 0 else _FLAT_KEY_ORDER
    return dict.fromkeys(order[: abs(sharps)], 1 if sharps > 0 else -1)


def _abc_key(settings: MidiSettings) -> str:
    if settings.key_sharps is None:
        return "none"
    name = key_name(settings) or "C"
    return name[:-1] + "m" if name.endswith("m") else name


def _abc_length(length: Fraction) -> str:
    ratio = length / ABC_UNIT
    if ratio == 1:
        return ""
    if ratio.denominator == 1:
        return str(ratio.numerator)
    if ratio == Fraction(1, 2):
        return "/"
    if ratio.numerator == 1:
        return f"/{ratio.denominator}"
    return f"{ratio.numerator}/{ratio.denominator}"


def _abc_pitch(pitch: Pitch, accidental: str) -> str:
    if pitch.octave >= 5:
        return accidental + pitch.step.lower() + "'" * (pitch.octave - 5)
    return accidental + pitch.step + "," * (4 - pitch.octave)


def abc_text(tune: Tune, settings: MidiSettings, *, number: int = 1) -> str:
    """The tune in ABC notation, accidentals written relative to the key signature."""
    signature = _key_accidentals(settings.key_sharps)
    beats_per_minute = settings.tempo_qpm / float(settings.beat_length)
    beat = settings.beat_length / 4
    lines = [
        f"X:{number}",
        f"T:{settings.track_name}",
        f"M:{settings.numerator}/{settings.denominator}",
        "L:1/8",
        f"Q:{beat.numerator}/{beat.denominator}={round(beats_per_minute)}",
        f"K:{_abc_key(settings)}",
    ]
    bars = []
    triplet_left = 0
    for bar in tune.bars:
        in_bar: dict[tuple[str, int], int] = {}  # accidentals in force in this bar
        tokens = []
        for event in bar.events:
            length = event.duration
            prefix = ""
            if length.denominator % 3 == 0:  # triplets: (3 before every three notes
                if triplet_left == 0:
                    prefix, triplet_left = "(3", 3
                triplet_left -= 1
                length = length * Fraction(3, 2)
            written = []
            for pitch in event.pitches:
                place = (pitch.step, pitch.octave)
                current = in_bar.get(place, signature.get(pitch.step, 0))
                accidental = ""
                if pitch.alter != current:
                    accidental = {-2: "__", -1: "_", 0: "=", 1: "^", 2: "^^"}[pitch.alter]
                    in_bar[place] = pitch.alter
                written.append(_abc_pitch(pitch, accidental))
            if event.is_rest:
                head = "z"
            elif event.is_chord:
                head = "[" + "".join(written) + "]"
            else:
                head = written[0]
            tokens.append(prefix + head + _abc_length(length) + ("-" if event.tie else ""))
        bars.append(" ".join(tokens))
    body = [
        " | ".join(bars[i : i + 4]) + (" |]" if i + 4 >= len(bars) else " |")
        for i in range(0, len(bars), 4)
    ]
    return "\n".join(lines + body) + "\n"


@functools.cache
def _verovio_toolkit() -> Any:
    try:
        import verovio  # noqa: PLC0415 - optional dependency
    except ImportError:
        raise DependencyError(
            "SVG sheet music needs verovio", hint="install it with: pip install 'tunesmith[score]'"
        ) from None
    toolkit = verovio.toolkit()
    toolkit.setOptions({"adjustPageHeight": True, "breaks": "auto", "scale": 40, "footer": "none"})
    return toolkit


def svg_pages(tune: Tune, settings: MidiSettings) -> list[str]:
    """The tune engraved by verovio from its MusicXML: one SVG document per page."""
    toolkit = _verovio_toolkit()
    if not toolkit.loadData(musicxml_bytes(tune, settings).decode("utf-8")):
        raise ExportError("verovio could not read the MusicXML tunesmith wrote")
    return [str(toolkit.renderToSVG(page)) for page in range(1, toolkit.getPageCount() + 1)]
