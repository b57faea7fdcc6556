"""Chords: lead-sheet symbols and Roman numerals read with music21, and the chords of a key.

::

    >>> from tunesmith.music.chords import Chord
    >>> chord = Chord.parse("D/F#")
    >>> chord.figure, [str(tone) for tone in chord.tones], str(chord.bass)
    ('D/F#', ['D', 'F#', 'A'], 'F#')

Symbols take music21's vocabulary (triads, sevenths, sixths, ninths, ``sus``, ``dim``, ``+``,
``ø7``, slash chords); Roman numerals (``i``, ``IV``, ``V7``, ``viio``, ``bVII``) are read
relative to a key, and their root must be a note of it (in a minor key, the raised leading
tone too).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from tunesmith.errors import ChordError
from tunesmith.model.header import Key
from tunesmith.model.score import PitchClass

__all__ = ["Chord", "key_chords", "parse_chord"]

_SYMBOL_RE = re.compile(r"^[A-G](#|b)?[A-Za-z0-9#+()°ø^-]*(/[A-G](#|b)?)?$")
_NUMERAL_RE = re.compile(
    r"^(?P<accidental>b|#)?(?P<numeral>VII|VI|V|IV|III|II|I|vii|vi|v|iv|iii|ii|i)"
    r"(?P<quality>o|°|ø|\+)?(?P<figures>7|6|64|65|43|42|9)?$"
)
_SUFFIXES = {
    (4, 7): "",
    (3, 7): "m",
    (3, 6): "dim",
    (4, 8): "+",
    (4, 7, 10): "7",
    (4, 7, 11): "maj7",
    (3, 7, 10): "m7",
    (3, 6, 10): "m7b5",
    (3, 6, 9): "dim7",
}
"""Lead-sheet suffixes by the intervals of the third, fifth and seventh above the root."""


def _name(music21_name: str) -> PitchClass:
    return PitchClass.parse(music21_name.replace("-", "b"))


def _music21_name(pitch_class: PitchClass) -> str:
    return pitch_class.step + (
        "#" * pitch_class.alter if pitch_class.alter > 0 else "-" * -pitch_class.alter
    )


@dataclass(frozen=True, slots=True)
class Chord:
    """A chord: its lead-sheet figure, root, tones (root first, stacked) and bass note."""

    figure: str
    root: PitchClass
    tones: tuple[PitchClass, ...]
    bass: PitchClass

    @classmethod
    def parse(cls, figure: str) -> Chord:
        """A lead-sheet symbol such as ``"Am7"``, ``"Bb"``, ``"Dsus4"`` or ``"D/F#"``.

        Raises :class:`ChordError` for a symbol music21 cannot read.
        """
        return _symbol(figure.strip())

    @property
    def semitones(self) -> frozenset[int]:
        """The chord's pitch classes as semitones 0-11."""
        return frozenset(tone.semitone for tone in self.tones)

    @property
    def quality(self) -> str:
        """``"major"``, ``"minor"``, ``"diminished"``, ``"augmented"`` or ``"other"``."""
        intervals = {(tone.semitone - self.root.semitone) % 12 for tone in self.tones}
        for third, fifth, name in ((4, 7, "major"), (3, 7, "minor"), (3, 6, "diminished")):
            if {third, fifth} <= intervals:
                return name
        return "augmented" if {4, 8} <= intervals else "other"

    def __str__(self) -> str:
        return self.figure


def _from_music21(figure: str, chord: object) -> Chord:
    pitches = [_name(p.name) for p in chord.pitches]  # type: ignore[attr-defined]
    root = _name(chord.root().name)  # type: ignore[attr-defined]
    bass = _name(chord.bass().name)  # type: ignore[attr-defined]
    stacked = sorted(dict.fromkeys(pitches), key=lambda tone: (tone.semitone - root.semitone) % 12)
    return Chord(figure, root, tuple(stacked), bass)


@functools.cache
def _symbol(figure: str) -> Chord:
    from music21 import harmony  # noqa: PLC0415 - music21 takes a second to import

    hint = (
        "use a lead-sheet symbol: a root A-G with an optional # or b, a quality such as m, 7, "
        "m7, maj7, dim, +, sus4, 6, 9, and an optional /bass, e.g. 'F#m7' or 'D/F#'; or a Roman "
        "numeral such as 'IV' or 'V7'"
    )
    if not _SYMBOL_RE.match(figure):
        raise ChordError(f"unknown chord {figure!r}: {hint}", chord=figure)
    music21_figure = re.sub(r"(^|/)([A-G])b", r"\1\2-", figure)
    try:
        symbol = harmony.ChordSymbol(music21_figure)
    except Exception as error:  # music21 raises ValueError, KeyError, ... for unknown kinds
        raise ChordError(f"unknown chord {figure!r}: {hint}", chord=figure) from error
    if not symbol.pitches:
        raise ChordError(f"unknown chord {figure!r}: {hint}", chord=figure)
    return _from_music21(figure, symbol)


@functools.cache
def _numeral(text: str, key: Key) -> Chord:
    from music21 import key as music21_key  # noqa: PLC0415 - music21 takes a second to import
    from music21 import roman  # noqa: PLC0415 - music21 takes a second to import

    match = _NUMERAL_RE.match(text)
    scale = key.scale
    notes = " ".join(map(str, scale))
    if match is None:
        raise ChordError(
            f"unknown Roman numeral {text!r}: use I to VII (upper case major, lower case "
            "minor), with an optional b or # before it, o (diminished), ø or + after it and "
            "a figure such as 7, e.g. 'V7', 'ii', 'bVII'",
            chord=text,
        )
    numeral = roman.RomanNumeral(text, music21_key.Key(_music21_name(key.tonic), key.mode))
    chord = _from_music21(text, numeral)
    in_key = {tone.semitone for tone in scale}
    if key.mode == "minor":  # V and viio of a minor key stand on the raised leading tone
        in_key.add((key.tonic.semitone - 1) % 12)
    if chord.root.semitone not in in_key:
        raise ChordError(
            f"the Roman numeral {text!r} in {key} has the root {chord.root}, which is not a note "
            f"of {key} ({notes}); use a numeral on a note of the key, or write the chord as a "
            f"symbol such as '{chord.root}'",
            chord=text,
            allowed=notes,
        )
    intervals = tuple(sorted((t.semitone - chord.root.semitone) % 12 for t in chord.tones)[1:])
    suffix = _SUFFIXES.get(intervals)
    if suffix is None:
        from music21 import harmony  # noqa: PLC0415 - music21 takes a second to import

        suffix = harmony.chordSymbolFigureFromChord(numeral).replace("-", "b")[
            len(_music21_name(chord.root)) :
        ]
    figure = f"{chord.root}{suffix}"
    if chord.bass != chord.root:
        figure += f"/{chord.bass}"
    return Chord(figure, chord.root, chord.tones, chord.bass)


def parse_chord(text: str, key: Key) -> Chord:
    """A chord symbol (``"F#m"``), or a Roman numeral (``"iv"``) relative to ``key``.

    Raises :class:`ChordError` naming the chord and what is allowed.
    """
    if _NUMERAL_RE.match(text) or (re.match(r"^[b#]?[ivIV]", text) and not _SYMBOL_RE.match(text)):
        return _numeral(text, key)
    return _symbol(text)


def _triad(root: PitchClass, scale: Sequence[PitchClass]) -> Chord | None:
    """The triad on ``root`` stacked from ``scale`` (major, minor or diminished), or None."""
    by_interval = {(pc.semitone - root.semitone) % 12: pc for pc in scale}
    third = by_interval.get(4) or by_interval.get(3)
    if third is None:
        return None
    step = (third.semitone - root.semitone) % 12
    fifth = by_interval.get(7) or (by_interval.get(6) if step == 3 else None)
    if fifth is None:
        return None
    suffix = _SUFFIXES[(step, (fifth.semitone - root.semitone) % 12)]
    return Chord(f"{root}{suffix}", root, (root, third, fifth), root)


def key_chords(
    pitch_classes: Sequence[PitchClass], key: Key
) -> tuple[tuple[Chord, ...], Chord, Chord]:
    """The chords a tune on ``pitch_classes`` in ``key`` may be harmonised with.

    Returns the major and minor triads of the key on allowed roots whose every tone is
    allowed, the tonic triad and the dominant (the triad on the fifth degree, or the one
    on the seventh where the key has no fifth). The tonic and dominant are the key's even
    where a gapped pitch set lacks one of their tones (the accompaniment plays it; the
    melody keeps to the allowed notes).

    Raises :class:`ChordError` when the key has no triad on its tonic.
    """
    scale = key.scale
    allowed = {pc.semitone for pc in pitch_classes}
    tonic = _triad(key.tonic, scale)
    if tonic is None:
        raise ChordError(
            f"{key} has no triad on {key.tonic} for the tonic chord; give the chords yourself",
            allowed=" ".join(map(str, pitch_classes)),
        )
    degrees = {(pc.semitone - key.tonic.semitone) % 12: pc for pc in scale}
    dominant_root = degrees.get(7) or degrees.get(10) or degrees.get(11) or scale[4]
    dominant = _triad(dominant_root, scale) or tonic
    found = [
        chord
        for root in scale
        if root.semitone in allowed
        and (chord := _triad(root, scale)) is not None
        and chord.quality in {"major", "minor"}
        and chord.semitones <= allowed
    ]
    vocabulary = tuple(dict.fromkeys([tonic, *found, dominant]))
    return vocabulary, tonic, dominant
