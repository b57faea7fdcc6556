"""Sheet music: MusicXML (through music21) and SVG engraved by verovio.

MusicXML opens in MuseScore, Finale, Sibelius and Dorico: one staff per part with its clef
(bass for low parts, percussion for drums; guitars and basses in the octave clefs they are
read in), the key with its mode, the meter, the tempo with its beat above the staff, repeat
bar lines and endings, and the harmony lane as chord symbols above the melody. Drums are
written on a percussion staff at the positions of a common drum kit, from which
:mod:`tunesmith.io.read` reads them back. ABC is :mod:`tunesmith.io.abc`.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import re
import zipfile
from fractions import Fraction
from pathlib import Path
from typing import Any

from tunesmith.errors import DependencyError, ExportError
from tunesmith.io.files import write_atomically
from tunesmith.model.notes import drum_names
from tunesmith.model.score import ChordSymbol, Drum, Event, Header, Part, Pitch, Score

__all__ = [
    "DRUM_DISPLAY",
    "drum_at",
    "music21_figure",
    "musicxml_bytes",
    "mxl_bytes",
    "svg_pages",
    "to_music21",
    "write_svg",
]

logger = logging.getLogger(__name__)

_KIT = {
    "acoustic-bass-drum": ("E4", "normal"),
    "kick": ("F4", "normal"),
    "rim": ("C5", "x"),
    "snare": ("C5", "normal"),
    "clap": ("C5", "slash"),
    "electric-snare": ("C5", "diamond"),
    "floor-tom": ("A4", "normal"),
    "closed-hat": ("G5", "x"),
    "high-floor-tom": ("G4", "normal"),
    "pedal-hat": ("D4", "x"),
    "low-tom": ("B4", "normal"),
    "open-hat": ("G5", "circle-x"),
    "mid-tom": ("D5", "normal"),
    "hi-mid-tom": ("E5", "normal"),
    "crash": ("A5", "x"),
    "high-tom": ("F5", "normal"),
    "ride": ("F5", "x"),
    "ride-bell": ("F5", "diamond"),
    "tambourine": ("E5", "x"),
    "cowbell": ("E5", "triangle"),
    "splash-cymbal": ("B5", "x"),
    "chinese-cymbal": ("B5", "circle-x"),
    "crash-cymbal-2": ("A5", "circle-x"),
    "ride-cymbal-2": ("D5", "x"),
}
_SPARE_POSITIONS = tuple(f"{step}{octave}" for octave in (3, 4, 5, 6) for step in "CDEFGAB")
_SPARE_HEADS = ("triangle", "square", "slash", "cross", "inverted triangle", "diamond", "normal")


@functools.cache
def _drum_display() -> dict[int, tuple[str, str]]:
    names = drum_names()
    table = {names[name]: place for name, place in _KIT.items()}
    used = set(table.values())
    free = iter((p, h) for h in _SPARE_HEADS for p in _SPARE_POSITIONS if (p, h) not in used)
    for key in range(128):
        table.setdefault(key, next(free))
    return table


DRUM_DISPLAY = _drum_display
"""GM percussion key -> (staff position, notehead) on a drum staff; one place per drum."""


def drum_at(position: str, notehead: str) -> Drum | None:
    """The drum written at ``position`` with ``notehead`` on a tunesmith drum staff."""
    for key, place in _drum_display().items():
        if place == (position, notehead or "normal"):
            return Drum.from_midi(key)
    return None


def music21_figure(figure: str) -> str:
    """A chord symbol as music21 reads it: flats in the root and bass as ``-``."""
    return re.sub(r"(^|/)([A-G])b", r"\1\2-", figure)


def _music21_pitch_name(pitch: Pitch) -> str:
    return (
        f"{pitch.step}{'#' * pitch.alter if pitch.alter > 0 else '-' * -pitch.alter}{pitch.octave}"
    )


def _element(event: Event, m21: Any) -> Any:
    length = event.duration
    if event.drums:
        hits = []
        for drum in event.drums:
            position, head = _drum_display()[drum.midi]
            hit = m21.note.Unpitched(displayName=position, quarterLength=length)
            hit.notehead = head
            hits.append(hit)
        return (
            hits[0]
            if len(hits) == 1
            else m21.percussion.PercussionChord(hits, quarterLength=length)
        )
    if event.is_rest:
        rest = m21.note.Rest(quarterLength=length)
        rest.fullMeasure = False  # else a whole rest in 12/8 is read back as the whole bar
        return rest
    names = [_music21_pitch_name(p) for p in event.pitches]
    if event.is_chord:
        return m21.chord.Chord(names, quarterLength=length)
    return m21.note.Note(names[0], quarterLength=length)


@functools.cache
def _music21() -> Any:
    import music21  # noqa: PLC0415 - music21 takes a second to import
    from music21 import percussion  # noqa: PLC0415, F401 - not loaded by `import music21`

    return music21


def _instrument(part: Part, m21: Any) -> Any:
    if part.is_drum:
        kit = m21.instrument.UnpitchedPercussion()
        kit.midiChannel = 9
        kit.midiProgram = part.program  # the drum kit: 0 standard, 32 jazz, 40 brushes...
    else:
        kit = m21.instrument.instrumentFromMidiProgram(part.program)
        if "UnpitchedPercussion" in kit.classes:  # General MIDI's pitched percussion, 112-119
            kit = m21.instrument.Instrument(kit.instrumentName)
        kit.midiProgram = part.program
    kit.partName = part.name
    return kit


_GUITARS = range(24, 32)
"""General MIDI's guitars, written an octave above their sound: in the treble-8vb clef."""
_BASSES = range(32, 40)
"""General MIDI's basses, written an octave above their sound: in the bass-8vb clef."""
_HIGH_WINDS = frozenset({72, 74, 78})
"""Piccolo, recorder and tin whistle, written an octave below their sound (a whistle's
D5-B6 on the staff, not on ledger lines): in the treble-8va clef."""


def _clef(part: Part, m21: Any) -> Any:
    """The part's clef, with the octave it sounds from the staff for some instruments.

    A guitar or bass sounds an octave below its staff, a piccolo, recorder or whistle an
    octave above. The notes keep their sounding pitch: MusicXML's ``clef-octave-change``
    moves them on the staff, as MuseScore shows and plays them, and music21 reads them
    back unchanged.
    """
    if not part.is_drum and part.program in _GUITARS:
        return m21.clef.Treble8vbClef()
    if not part.is_drum and part.program in _BASSES:
        return m21.clef.Bass8vbClef()
    if not part.is_drum and part.program in _HIGH_WINDS:
        return m21.clef.Treble8vaClef()
    names = {"percussion": "PercussionClef", "bass": "BassClef", "treble": "TrebleClef"}
    return getattr(m21.clef, names[part.clef])()


def _opening(measure: Any, part: Part, header: Header, m21: Any, *, tempo: bool) -> None:
    """Clef, meter, key (or none, written ``<mode>none</mode>``) and tempo of the first bar."""
    measure.insert(0, _clef(part, m21))
    measure.insert(0, m21.meter.TimeSignature(header.meter))
    if header.key is not None and not part.is_drum:
        tonic = _music21_pitch_name(Pitch(header.key.tonic.step, header.key.tonic.alter, 4))
        measure.insert(0, m21.key.Key(tonic[:-1], header.key.mode))
    elif not part.is_drum:
        measure.insert(0, m21.key.KeySignature(0))
    if tempo:
        mark = m21.tempo.MetronomeMark(number=header.tempo)
        mark.referent = m21.duration.Duration(float(header.beat))
        mark.placement = "above"  # else MuseScore sets it under the staff
        measure.insert(0, mark)


def _chord_symbols(
    measure: Any, chords: list[ChordSymbol], start: Fraction, end: Fraction, m21: Any
) -> None:
    """The chords that start in the bar, and "N.C." where one ends with none after it."""
    for chord in chords:
        if start <= chord.onset < end:
            symbol = m21.harmony.ChordSymbol(music21_figure(chord.figure))
            symbol.chordKindStr = re.sub(r"^[A-G][#b]?|/.*$", "", chord.figure)  # as written
            measure.insert(float(chord.onset - start), symbol)
        if start <= chord.end < end and not any(c.onset == chord.end for c in chords):
            measure.insert(float(chord.end - start), m21.harmony.NoChord())


def _part(part: Part, score: Score, m21: Any, *, first: bool) -> Any:
    written: Any = m21.stream.Part()
    written.partName = part.name
    written.insert(0, _instrument(part, m21))
    starts = {r.start for r in score.repeats}
    ends = {r.end for r in score.repeats}
    tied_in = False
    onset = Fraction(0)
    chords = list(score.harmony) if part is score.melody else []
    pickup = len(part.bars) > 1 and part.bars[0].duration < score.header.bar_length
    for index, bar in enumerate(part.bars):
        measure: Any = m21.stream.Measure(number=index + 1 - pickup)  # a pickup is bar 0
        if index == 0:
            _opening(measure, part, score.header, m21, tempo=first)
            if pickup:  # implicit="yes": notation programs number the bars from the next one
                measure.showNumber = m21.stream.enums.ShowNumber.NEVER
                measure.paddingLeft = float(score.header.bar_length - bar.duration)
        if index in starts:
            measure.leftBarline = m21.bar.Repeat(direction="start")
        if index + 1 in ends:
            measure.rightBarline = m21.bar.Repeat(direction="end")
        for event in bar.events:
            element = _element(event, m21)
            if event.pitches and (event.tie or tied_in):
                kind = "continue" if event.tie and tied_in else "start" if event.tie else "stop"
                element.tie = m21.tie.Tie(kind)
            tied_in = event.tie
            measure.append(element)
        _chord_symbols(measure, chords, onset, onset + bar.duration, m21)
        onset += bar.duration
        written.append(measure)
    measures = list(written.getElementsByClass("Measure"))
    for repeat in score.repeats:
        if repeat.ending:
            first_time = measures[repeat.end - repeat.ending : repeat.end]
            second_time = measures[repeat.end : repeat.end + repeat.ending]
            for number, span in ((1, first_time), (2, second_time)):
                if span:
                    written.insert(0, m21.spanner.RepeatBracket(span, number=number))
    return written


def to_music21(score: Score) -> Any:
    """The score as a music21 ``Score``: one part per part, with everything in the header."""
    m21 = _music21()
    written = m21.stream.Score()
    for number, part in enumerate(score.parts):
        written.insert(0, _part(part, score, m21, first=number == 0))
    written.metadata = m21.metadata.Metadata()
    written.metadata.title = score.header.title  # "" rather than music21's "Music21 Fragment"
    written.metadata.composer = "tunesmith"
    return written


def musicxml_bytes(score: Score) -> bytes:
    """The score as a MusicXML document."""
    from music21.musicxml.m21ToXml import GeneralObjectExporter  # noqa: PLC0415 - music21 is slow to import
    from music21.stream import makeNotation as make_notation  # noqa: PLC0415, N813 - music21 is slow to import

    written = to_music21(score)
    for part in written.parts:
        part.makeAccidentals(inPlace=True)
        try:
            part.makeBeams(inPlace=True)
        except Exception:
            logger.debug("music21 could not beam part %s", part.partName)
        for measure in part.getElementsByClass("Measure"):
            make_notation.makeTupletBrackets(measure, inPlace=True)
    exporter = GeneralObjectExporter(written)
    exporter.makeNotation = False  # music21's own would rewrite durations (rests after tuplets)
    try:
        data = bytes(exporter.parse())
    except Exception as error:  # music21's exporter raises many kinds
        raise ExportError(f"music21 could not write MusicXML: {error}") from error
    if score.header.key is None:  # MusicXML's way to say "no key", which music21 cannot write
        data = data.replace(b"<fifths>0</fifths>", b"<fifths>0</fifths>\n<mode>none</mode>")
    return data


def mxl_bytes(score: Score) -> bytes:
    """The score as compressed MusicXML (``.mxl``): a zip with a container manifest."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.recordare.musicxml", zipfile.ZIP_STORED)
        archive.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0" encoding="UTF-8"?>\n<container><rootfiles>'
            '<rootfile full-path="score.musicxml" '
            'media-type="application/vnd.recordare.musicxml+xml"/></rootfiles></container>\n',
        )
        archive.writestr("score.musicxml", musicxml_bytes(score))
    return buffer.getvalue()


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


def svg_pages(score: Score) -> list[str]:
    """The score engraved by verovio from its MusicXML, every staff: one SVG per page."""
    toolkit = _verovio_toolkit()
    if not toolkit.loadData(musicxml_bytes(score).decode("utf-8")):
        raise ExportError("verovio could not read the MusicXML tunesmith wrote")
    return [str(toolkit.renderToSVG(page)) for page in range(1, toolkit.getPageCount() + 1)]


def write_svg(score: Score, path: str | os.PathLike[str]) -> list[Path]:
    """Write every page of the sheet music: ``tune.svg``, then ``tune-2.svg``, ``tune-3.svg``..."""
    target = Path(path)
    pages = svg_pages(score)
    names = [target.with_stem(f"{target.stem}-{number}") for number in range(2, len(pages) + 1)]
    return [
        write_atomically(name, page.encode("utf-8"))
        for name, page in zip([target, *names], pages, strict=True)
    ]
