"""ABC notation, the folk musician's text format: written from a score, voices read back.

Written for people as much as programs: notes are beamed in beats (``AcF FAG`` in 6/8,
``ABcd efge`` in a reel), accidentals follow the key signature, ``K:`` names the mode
(``K:Edor``), chord symbols stand above the melody (``"Am"``), repeats are ``|:`` ``:|``
with ``|1`` ``:|2`` endings. Each part is a voice (``V:``) with its name, clef and
``%%MIDI program``; a drum voice plays on ``%%MIDI channel 10`` with each drum at the pitch
of its General MIDI key, as abc2midi plays it, and a ``%%map`` tells abcm2ps where on the
percussion staff to print it (where the MusicXML puts it) and with which head. A score
whose parts play its chords has ``%%MIDI gchordoff``: abc2midi plays only what is written.

music21 reads the notes of each voice but not these directives, so :func:`voices` reads
them for :mod:`tunesmith.io.read`.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass, replace
from fractions import Fraction

from tunesmith.errors import NotationError, TunesmithError
from tunesmith.io.score import DRUM_DISPLAY
from tunesmith.model.events import bar_line_kinds
from tunesmith.model.header import Header, Key
from tunesmith.model.notes import Bar, Event, Pitch, PitchClass
from tunesmith.model.score import Part, Score, split_duration

__all__ = [
    "ABC_UNIT",
    "ACCIDENTALS",
    "MODE_SUFFIXES",
    "Facts",
    "Voice",
    "abc_key",
    "abc_length",
    "abc_note",
    "abc_text",
    "key_field",
    "key_signature",
    "voices",
]

ABC_UNIT = Fraction(1, 2)
"""The default note length ``L:1/8``, in quarter notes."""
MODE_SUFFIXES = {"major": "", "minor": "m", "dorian": "dor", "phrygian": "phr", "lydian": "lyd"}
MODE_SUFFIXES |= {"mixolydian": "mix", "locrian": "loc"}
"""What a mode adds to the tonic in ABC's ``K:`` field (``Ador``)."""
ACCIDENTALS = {-2: "__", -1: "_", 0: "=", 1: "^", 2: "^^"}
"""ABC's accidental before a note, by its alteration in semitones."""
_BAR_LINES = {"": "", "|": "|", "|:": "|:", ":|": ":|", ":|:": "::", "|1": "|1", ":|2": ":|2"}


def abc_length(length: Fraction) -> str:
    """A note's length after its letter, in units of :data:`ABC_UNIT`: ``2``, ``/``, ``3/2``."""
    ratio = length / ABC_UNIT
    if ratio == 1:
        return ""
    if ratio.denominator == 1:
        return str(ratio.numerator)
    if ratio.numerator == 1:
        return "/" if ratio.denominator == 2 else f"/{ratio.denominator}"
    return f"{ratio.numerator}/{ratio.denominator}"


def abc_note(step: str, octave: int, accidental: str = "") -> str:
    """``C`` in octave 4 is ``C``, in 5 ``c``, in 6 ``c'``, in 3 ``C,``; ``accidental`` first."""
    if octave >= 5:
        return accidental + step.lower() + "'" * (octave - 5)
    return accidental + step + "," * (4 - octave)


def key_field(tonic: str, mode: str | None) -> str:
    """ABC's ``K:`` value: ``"D"``, ``"Em"``, ``"Ador"``; ``"none"`` without a key signature."""
    return "none" if mode is None else tonic + MODE_SUFFIXES[mode]


@functools.cache
def key_signature(sharps: int | None) -> dict[str, int]:
    """The alteration of each step a key signature of ``sharps`` (negative: flats) alters,
    from music21's ``KeySignature``: ``2 -> {"F": 1, "C": 1}``.
    """  # noqa: D205
    if not sharps:
        return {}
    from music21 import key  # noqa: PLC0415 - music21 is slow to import

    return {p.step: int(p.alter) for p in key.KeySignature(sharps).alteredPitches}


def _header_signature(header: Header) -> dict[str, int]:
    return key_signature(header.key.sharps if header.key else None)


def _header_key_field(header: Header) -> str:
    return "none" if header.key is None else key_field(str(header.key.tonic), header.key.mode)


def _beam_unit(header: Header) -> Fraction:
    """Eighths are beamed in beats, and in half bars of 4/4 (reels: ``ABcd efge``)."""
    return Fraction(2) if header.meter == "4/4" else header.beat


def _split_at(part: Part, times: set[Fraction]) -> Part:
    """The part with every event that sounds across one of ``times`` split there, tied.

    An event no notation durations can split there is left whole (its chord symbol is then
    written at its start).
    """
    bars, onset = [], Fraction(0)
    for bar in part.bars:
        events: list[Event] = []
        for event in bar.events:
            cuts = sorted(t - onset for t in times if onset < t < onset + event.duration)
            pieces = [
                b - a for a, b in zip([Fraction(0), *cuts], [*cuts, event.duration], strict=True)
            ]
            try:
                lengths = [length for piece in pieces for length in split_duration(piece)]
            except NotationError:  # no notes reach the chord: it stands at the note's start
                lengths = [event.duration]
            for number, length in enumerate(lengths, 1):
                tie = event.tie if number == len(lengths) else bool(event.pitches)
                events.append(replace(event, duration=length, tie=tie))
            onset += event.duration
        bars.append(Bar(tuple(events)))
    return replace(part, bars=tuple(bars))


def _chord_marks(score: Score) -> dict[Fraction, str]:
    marks = {chord.onset: chord.figure for chord in score.harmony}
    for chord in score.harmony:
        if chord.end not in marks and chord.end < score.duration:
            marks[chord.end] = "N.C."
    return marks


def _voice_body(part: Part, score: Score, kinds: list[str], spelled: dict[str, int]) -> list[str]:
    """The voice's bars, four a line; ``spelled`` gathers each note as written -> MIDI key."""
    signature = _header_signature(score.header)  # a drum voice's too
    # music21 reads K:Floc as F major: in locrian every note says its accidental
    explicit = score.header.key is not None and score.header.key.mode == "locrian"
    marks = _chord_marks(score) if part is score.melody else {}
    unit = _beam_unit(score.header)
    bars: list[str] = []
    onset = Fraction(0)
    triplets = 0
    for bar in _split_at(part, set(marks)).bars:
        in_bar: dict[tuple[str, int], int] = {}  # accidentals in force in this bar
        text, beamable, offset = "", False, Fraction(0)
        for index, event in enumerate(bar.events):
            length = event.duration
            short = not event.is_rest and length < 1
            if text and not (short and beamable and offset % unit):
                text += " "
            if length.denominator % 3 == 0:
                if triplets == 0:
                    run = 0
                    for following in bar.events[index:]:
                        if following.duration.denominator % 3:
                            break
                        run += 1
                    text += "(3" if run == 3 else f"(3:2:{run}"
                    triplets = run
                triplets -= 1
                length *= Fraction(3, 2)
            here = [t for t in marks if onset + offset <= t < onset + offset + event.duration]
            if here:  # the chord that starts here, or the last one to change within the note
                text += f'"{marks[max(here)]}"'
            written = []
            pitches = event.pitches or tuple(Pitch.from_midi(d.midi) for d in event.drums)
            for pitch in pitches:
                place = (pitch.step, pitch.octave)
                current = in_bar.get(place, signature.get(pitch.step, 0))
                accidental = ""
                # written where the bar's accidentals (ABC) or the key alone (music21) differ
                written_as = signature.get(pitch.step, 0)
                if explicit or pitch.alter != current or pitch.alter != written_as:
                    accidental = ACCIDENTALS[pitch.alter]
                    in_bar[place] = pitch.alter
                written.append(abc_note(pitch.step, pitch.octave, accidental))
                spelled[written[-1]] = pitch.midi
            head = (
                "z" if not written else written[0] if len(written) == 1 else f"[{''.join(written)}]"
            )
            text += head + abc_length(length) + ("-" if event.tie else "")
            beamable, offset = short, offset + event.duration
        bars.append(text)
        onset += bar.duration
    lines = []
    pickup = int(len(bars) > 1 and score.bar_lengths[0] < score.header.bar_length)
    edges = [0, *range(pickup + 4, len(bars), 4), len(bars)]  # a pickup opens the first line
    for start, end in itertools.pairwise(edges):
        words = [kinds[0]] if start == 0 and kinds[0] else []
        for index in range(start, end):
            last = index == len(bars) - 1 and kinds[index + 1] == "|"
            words += [bars[index], "|]" if last else kinds[index + 1]]
        lines.append(" ".join(words))
    return lines


def abc_text(score: Score, *, number: int = 1) -> str:
    """The score in ABC notation: one voice per part, repeats, endings and chord symbols."""
    header = score.header
    beat = header.beat / 4
    lines = [f"X:{number}"]
    lines += [f"T:{header.title.replace('%', chr(92) + '%')}"] if header.title else []
    lines += [
        f"M:{header.meter}",
        "L:1/8",
        f"Q:{beat.numerator}/{beat.denominator}={header.tempo:g}",
        f"K:{_header_key_field(header)}",
    ]
    if any(part.role in {"chords", "bass"} for part in score.parts):
        lines.insert(-1, "%%MIDI gchordoff")  # else abc2midi adds chords of its own
    kinds = [_BAR_LINES[kind] for kind in bar_line_kinds(score.bar_count, score.repeats)]
    first = score.parts[0]
    named = len(score.parts) > 1 or first.name or first.program or first.is_drum
    for index, part in enumerate(score.parts, 1):
        spelled: dict[str, int] = {}
        body = _voice_body(part, score, kinds, spelled)
        if named:
            name = part.name.replace('"', "'")
            clef = part.clef.replace("percussion", "perc")
            lines.append(f'V:{index} name="{name}" clef={clef}')
            if part.is_drum:
                lines.append("%%MIDI channel 10")
            lines.append(f"%%MIDI program {part.program}")
            if part.is_drum:
                lines += _drum_map(spelled)
        lines += body
    return "\n".join(lines) + "\n"


_HEADS = {"x": "pshhd", "circle-x": "pfthd"}
"""abcm2ps's percussion note heads; other drums take the plain head at their place."""


def _drum_map(spelled: dict[str, int]) -> list[str]:
    """abcm2ps directives that print each drum of a voice where the MusicXML puts it.

    The notes stay at their General MIDI keys (what abc2midi plays and music21 reads back);
    ``%%map`` prints each at its place on the percussion staff, with no accidental (which
    abcm2ps would take for a note head, failing on a natural), stems up as drummers read.
    """
    lines = ["%%voicemap drums", "%%pos stem up"]
    for written, key in spelled.items():
        position, head = DRUM_DISPLAY()[key]
        place = abc_note(position[0], int(position[1:]))
        heads = f" heads={_HEADS[head]}" if head in _HEADS else ""
        lines.append(f"%%map drums {written} print={place}{heads}")
    return lines


@dataclass(frozen=True)
class Voice:
    """What an ABC file says about one voice besides its notes."""

    name: str = ""
    program: int = 0
    drums: bool = False


_VOICE_RE = re.compile(r"^\s*(?:\[?V:\s*)(\S+)(.*?)\]?\s*$")
_NAME_RE = re.compile(r'(?:name|nm)\s*=\s*"([^"]*)"|(?:name|nm)\s*=\s*(\S+)')
_MIDI_RE = re.compile(r"^\s*%%MIDI\s+(program|channel)\s+(?:\d+\s+)?(\d+)")


_ABC_MODES = {"": "major", "maj": "major", "ion": "major", "m": "minor", "min": "minor"} | {
    "aeo": "minor",
    "dor": "dorian",
    "phr": "phrygian",
    "lyd": "lydian",
    "mix": "mixolydian",
    "loc": "locrian",
}


def abc_key(field: str) -> Key | None:
    """The key a ``K:`` field names (``Edor``, ``F#m``, ``A mixolydian``), or None."""
    match = re.match(r"^\s*([A-G][#b]?)\s*([A-Za-z]{0,3})", field)
    mode = _ABC_MODES.get(match.group(2).lower()) if match else None
    if match is None or mode is None:
        return None
    try:
        return Key(PitchClass.parse(match.group(1)), mode)
    except TunesmithError:
        return None


@dataclass(frozen=True)
class Facts:
    """What a file says that music21 does not read (or reads otherwise)."""

    voices: tuple[Voice, ...] = ()
    key: str | None = None
    """The key as written: ABC's ``K:`` field, or ``"none"`` for no key signature."""
    title: str | None = None


def _unescaped(text: str) -> str:
    """An ABC text field up to its comment, an escaped percent sign read as ``%``."""
    return re.split(r"(?<!\\)%", text)[0].replace("\\%", "%").strip()


def voices(text: str) -> Facts:
    """Each voice's name, program and drum flag, in order of appearance, the key field
    (``K:``) and the title (``T:``) of one ABC tune (the reader gives it the file's first).
    """  # noqa: D205
    found: dict[str, Voice] = {}
    current = ""
    key: str | None = None
    title: str | None = None
    for line in text.splitlines():
        if line.startswith("K:") and key is None:
            key = _unescaped(line[2:])
        if line.startswith("T:") and title is None:
            title = _unescaped(line[2:])
        if (match := _VOICE_RE.match(line)) and line.lstrip().startswith(("V:", "[V:")):
            current = match.group(1)
            named = _NAME_RE.search(match.group(2))
            voice = found.get(current, Voice())
            if named:
                voice = replace(voice, name=named.group(1) or named.group(2) or "")
            found[current] = voice
        elif match := _MIDI_RE.match(line):
            voice = found.get(current, Voice())
            if match.group(1) == "program":
                voice = replace(voice, program=min(int(match.group(2)), 127))
            elif int(match.group(2)) == 10:
                voice = replace(voice, drums=True)
            found[current] = voice
    return Facts(tuple(found.values()), key, title)
