"""What the user asks for: :class:`ComposeRequest`, and the musical facts derived from it.

A request is a frozen pydantic model that forbids unknown fields, so a typo is an error.
Every bad value raises :class:`~tunesmith.errors.RequestError` (or a subclass) whose message
names the field, what is allowed and what was received.
"""

from __future__ import annotations

import difflib
import functools
import re
import tomllib
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from typing import Any, Self

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tunesmith.errors import ConstraintError, NoteNameError, RequestError
from tunesmith.notation import DURATIONS
from tunesmith.tune import Pitch, PitchClass

__all__ = ["GM_INSTRUMENTS", "ComposeRequest", "Constraints", "program_number"]

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

_MODE_ALIASES = {
    "ionian": "major",
    "aeolian": "minor",
    "naturalminor": "minor",
    "harmonic": "harmonicminor",
    "melodic": "melodicminor",
}
_METER_RE = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{1,2})\s*$")
MAX_BARS = 256
MAX_LEAP = 7
"""A perfect fifth: the largest melodic step the grammar allows, besides the octave."""
MIN_SECTION_BARS = 4
"""A style's form applies only when each section gets at least this many bars."""
DEFAULT_LOW, DEFAULT_HIGH = "C4", "C6"


@functools.cache
def _scale_classes() -> dict[str, type]:
    from music21 import scale  # noqa: PLC0415 - music21 takes a second to import

    classes = {}
    for name in dir(scale):
        cls = getattr(scale, name)
        if (
            name.endswith("Scale")
            and not name.startswith(("Abstract", "Concrete", "Cyclical", "Diatonic", "Octave"))
            and name not in {"Scale", "ScalaScale", "SieveScale"}
        ):
            classes[name.removesuffix("Scale").lower()] = cls
    return classes


def _mode_key(mode: str) -> str:
    key = re.sub(r"[\s_-]+", "", mode.lower())
    return _MODE_ALIASES.get(key, key)


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


class ComposeRequest(BaseModel):
    """Everything that constrains a tune.

    Give the pitches either as ``notes`` (an explicit pitch-class set such as
    ``["A", "B", "C#", "F#", "G"]``; the first is the tonic) or as ``key`` and ``mode``
    (any music21 scale: major, minor, dorian, mixolydian, harmonic minor, ...). With
    neither, the tune is in C major.

    ``tempo`` is in beats per minute, where the beat is the meter's beat: a dotted
    quarter in 6/8, 9/8 and 12/8, a quarter in 3/4, a half in 2/2.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    notes: tuple[str, ...] | None = Field(
        None, description="explicit pitch-class set; the first is the tonic"
    )
    key: str | None = Field(None, description="tonic of a scale, e.g. 'D' or 'F#'")
    mode: str | None = Field(None, description="music21 scale name, e.g. 'dorian'; default major")
    meter: str = Field("4/4", description="time signature N/D")
    bars: int = Field(8, description=f"number of bars, 1-{MAX_BARS}")
    tempo: float = Field(100, description="beats per minute (the meter's beat)")
    low: str | None = Field(None, description="lowest pitch (default: the instrument's range)")
    high: str | None = Field(None, description="highest pitch (default: the instrument's range)")
    instrument: str = Field("Acoustic Grand Piano", description="General MIDI name or program")
    style: str = Field("folk", description="free text describing the style, e.g. 'folk jig'")
    title: str | None = Field(None, description="title written into the MIDI file")
    seed: int | None = Field(None, description="random seed for repeatable output")
    form: str | None = Field(
        None, description="sections, e.g. 'AABB': each letter a part of bars/len(form) bars"
    )

    @model_validator(mode="before")
    @classmethod
    def _apply_style_preset(cls, data: Any) -> Any:
        """Fill what the user left out from the style's preset; what the user set wins."""
        if not isinstance(data, dict):
            return data
        preset = style_preset(str(data.get("style") or "folk"))
        if preset is None:
            return data
        given = {name: value for name, value in data.items() if value is not None}
        fields = ["meter", "tempo", "bars", "instrument"]
        if not any(name in given for name in ("notes", "key", "mode")):
            fields += ["notes", "key", "mode"]
        defaults = {name: preset[name] for name in fields if name in preset}
        merged = {**defaults, **given}
        form = preset.get("form")
        bars = merged.get("bars")
        if (
            "form" not in given
            and form
            and isinstance(bars, int)
            and bars % len(form) == 0
            and bars // len(form) >= MIN_SECTION_BARS
        ):
            merged["form"] = form  # only where it splits the bars into real phrases
        return merged

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as error:
            raise _request_error(error) from None
        self.constraints  # noqa: B018 - resolve now, so impossible constraints fail at once

    @field_validator("notes", mode="before")
    @classmethod
    def _split_notes(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.replace(",", " ").split()
        if value is not None and len(value) == 0:
            raise ValueError(
                "notes must name at least one note, e.g. ['A', 'B', 'C#'] (received none)"
            )
        return value

    @field_validator("notes")
    @classmethod
    def _check_notes(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        return tuple(dict.fromkeys(str(PitchClass.parse(name)) for name in value))

    @field_validator("key")
    @classmethod
    def _check_key(cls, value: str | None) -> str | None:
        return None if value is None else str(PitchClass.parse(value))

    @field_validator("mode")
    @classmethod
    def _check_mode(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if _mode_key(value) not in _scale_classes():
            known = ", ".join(sorted(_scale_classes()))
            raise ValueError(f"unknown mode {value!r}: use one of {known}")
        return value

    @field_validator("meter")
    @classmethod
    def _check_meter(cls, value: str) -> str:
        match = _METER_RE.match(value)
        if match is None:
            raise ValueError(f"meter must be N/D such as '6/8' or '3/4' (received {value!r})")
        numerator, denominator = int(match[1]), int(match[2])
        if denominator not in {1, 2, 4, 8, 16} or not 1 <= numerator <= 32:
            raise ValueError(
                "meter must be N/D with N from 1 to 32 and D one of 1, 2, 4, 8, 16 "
                f"(received {value!r})"
            )
        return f"{numerator}/{denominator}"

    @field_validator("bars")
    @classmethod
    def _check_bars(cls, value: int) -> int:
        if not 1 <= value <= MAX_BARS:
            raise ValueError(f"bars must be between 1 and {MAX_BARS} (received {value})")
        return value

    @field_validator("form")
    @classmethod
    def _check_form(cls, value: str | None) -> str | None:
        if value is None:
            return None
        form = value.replace(" ", "").upper()
        if not form.isalpha() or not form.isascii():
            raise ValueError(
                f"form must be letters naming sections, e.g. 'AABB' (received {value!r})"
            )
        return form

    @field_validator("tempo")
    @classmethod
    def _check_tempo(cls, value: float) -> float:
        if not 10 <= value <= 400:
            raise ValueError(
                f"tempo must be between 10 and 400 beats per minute (received {value})"
            )
        return value

    @field_validator("low", "high")
    @classmethod
    def _check_pitch(cls, value: str | None) -> str | None:
        return None if value is None else str(Pitch.parse(value))

    @field_validator("instrument", mode="before")
    @classmethod
    def _check_instrument(cls, value: Any) -> str:
        return GM_INSTRUMENTS[program_number(value)]

    @functools.cached_property
    def constraints(self) -> Constraints:
        """The musical facts this request implies (pitches in range, tonic, bar length...)."""
        return Constraints.of(self)


def _request_error(error: pydantic.ValidationError) -> RequestError:
    """One readable message from pydantic's errors, keeping our own error types."""
    messages, note_name_error = [], False
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "request"
        cause = item.get("ctx", {}).get("error")
        note_name_error |= isinstance(cause, NoteNameError)
        if item["type"] == "extra_forbidden":
            allowed = ", ".join(ComposeRequest.model_fields)
            messages.append(f"unknown option {field!r}: the options are {allowed}")
        elif cause is not None:
            messages.append(f"{field}: {cause}")
        else:
            messages.append(f"{field}: {item['msg'].lower()} (received {item['input']!r})")
    kind = NoteNameError if note_name_error else RequestError
    return kind("; ".join(messages))


@dataclass(frozen=True)
class Constraints:
    """The concrete constraints a request implies, resolved with music21."""

    pitch_classes: tuple[PitchClass, ...]
    """The allowed pitch classes, as spelled by the user or the scale."""
    tonic: PitchClass
    pitches: tuple[Pitch, ...]
    """Every allowed pitch within the range, low to high."""
    tonic_pitches: tuple[Pitch, ...]
    half_cadence_pitches: tuple[Pitch, ...]
    """Allowed pitches of the dominant chord (a phrase that ends open), or the tonic's."""
    form: str
    """The sections in order, e.g. "AABB"; "A" for a tune without sections."""
    section_bars: int
    """Bars per section."""
    max_leap: int
    """Largest melodic step (semitones, besides the octave) the grammar lets the model take.

    Guidance for generation, not a checked constraint: folk tunes move mostly by step.
    """
    """The allowed tonic pitches within the range (a tune ends on one)."""
    low: Pitch
    high: Pitch
    numerator: int
    denominator: int
    bar_length: Fraction
    """Quarter notes per bar."""
    beat_length: Fraction
    """Quarter notes per beat (3/2 in compound meters such as 6/8)."""
    key_sharps: int | None
    """Key signature as sharps (negative for flats), when one fits the pitches."""
    key_minor: bool
    program: int
    durations: tuple[str, ...]
    """The rhythm vocabulary: notation duration codes that suit the meter."""
    cell_length: Fraction
    """Quarter notes per rhythm cell: notes stay inside a cell or span whole cells."""
    description: str
    """The pitch constraint in words, e.g. 'D dorian' or 'only the notes A B C# F# G'."""

    @property
    def tempo_factor(self) -> Fraction:
        """Quarter notes per beat, to turn the request's tempo into quarter notes per minute."""
        return self.beat_length

    @property
    def semitones(self) -> frozenset[int]:
        """The allowed pitch classes as semitones 0-11 (enharmonic spellings are equal)."""
        return frozenset(pc.semitone for pc in self.pitch_classes)

    @classmethod
    def of(cls, request: ComposeRequest) -> Self:
        """Resolve a request; raises :class:`ConstraintError` if no tune can satisfy it."""
        from music21 import key  # noqa: PLC0415 - heavy import, only when composing

        playable = instrument_ranges().get(request.instrument, (DEFAULT_LOW, DEFAULT_HIGH))
        low = Pitch.parse(request.low or playable[0])
        high = Pitch.parse(request.high or playable[1])
        if low.midi > high.midi:
            raise ConstraintError(
                f"the range is inverted: low={low} is above high={high}; swap them"
            )
        if request.notes is not None and request.key is not None:
            raise ConstraintError("give either notes= or key= (with mode=), not both")
        if request.mode is not None and request.key is None:
            raise ConstraintError(f"mode={request.mode!r} needs a key, e.g. key='D'")
        key_sharps, key_minor = None, False
        if request.notes is not None:
            pitch_classes = tuple(PitchClass.parse(n) for n in request.notes)
            description = "only the notes " + " ".join(map(str, pitch_classes))
            key_sharps, key_minor = _key_signature_for(pitch_classes)
        else:
            tonic_name = request.key or "C"
            mode = _mode_key(request.mode or "major")
            scale = _scale_classes()[mode](_music21_name(tonic_name))
            pitch_classes = tuple(
                dict.fromkeys(PitchClass.parse(p.name) for p in scale.getPitches("C4", "B4"))
            )
            pitch_classes = _rotate_to(pitch_classes, PitchClass.parse(tonic_name))
            description = f"{tonic_name} {request.mode or 'major'}"
            if mode in {"major", "minor", "dorian", "phrygian", "lydian", "mixolydian", "locrian"}:
                music21_key = key.Key(_music21_name(tonic_name), mode)
                key_sharps, key_minor = music21_key.sharps, mode == "minor"
        by_semitone = {pc.semitone: pc for pc in pitch_classes}
        pitches = tuple(
            Pitch.from_midi(number, by_semitone[number % 12])
            for number in range(low.midi, high.midi + 1)
            if number % 12 in by_semitone
        )
        if not pitches:
            raise ConstraintError(
                f"the range {low}-{high} contains none of the allowed notes "
                f"({' '.join(map(str, pitch_classes))}); widen low/high"
            )
        tonic = pitch_classes[0]
        tonic_pitches = tuple(p for p in pitches if p.pitch_class.semitone == tonic.semitone)
        if not tonic_pitches:
            raise ConstraintError(
                f"the range {low}-{high} contains no {tonic}, the tonic the tune must end on; "
                "widen low/high"
            )
        numerator, denominator, bar_length, beat_length = _meter_facts(request.meter)
        form = request.form or "A"
        if request.bars % len(form):
            raise ConstraintError(
                f"form {form!r} has {len(form)} sections, which cannot share {request.bars} bars "
                f"equally; ask for a multiple of {len(form)} bars"
            )
        dominant = {(tonic.semitone + step) % 12 for step in (7, 11, 2)}  # V: 5th, 7th, 2nd
        half_cadence = tuple(p for p in pitches if p.pitch_class.semitone in dominant)
        return cls(
            pitch_classes=pitch_classes,
            tonic=tonic,
            pitches=pitches,
            tonic_pitches=tonic_pitches,
            half_cadence_pitches=half_cadence or tonic_pitches,
            form=form,
            section_bars=request.bars // len(form),
            max_leap=MAX_LEAP,
            low=low,
            high=high,
            numerator=numerator,
            denominator=denominator,
            bar_length=bar_length,
            beat_length=beat_length,
            key_sharps=key_sharps,
            key_minor=key_minor,
            program=program_number(request.instrument),
            durations=_rhythm_vocabulary(numerator, denominator),
            cell_length=_cell_length(numerator, denominator, beat_length),
            description=description,
        )


@functools.cache
def _meter_facts(meter_text: str) -> tuple[int, int, Fraction, Fraction]:
    """Numerator, denominator, bar length and beat length (quarter notes), from music21."""
    from music21 import meter  # noqa: PLC0415

    time_signature = meter.TimeSignature(meter_text)
    return (
        time_signature.numerator,
        time_signature.denominator,
        Fraction(time_signature.barDuration.quarterLength),
        Fraction(time_signature.beatDuration.quarterLength),
    )


def _cell_length(numerator: int, denominator: int, beat_length: Fraction) -> Fraction:
    """The rhythm cell: the beat in compound meters (6/8, 9/8, 12/8), half a bar in 4/4.

    Other meters (2/4, 3/4, 7/8...) are filled freely, one cell a bar.
    """
    bar_length = Fraction(4 * numerator, denominator)
    if denominator >= 8 and numerator % 3 == 0 and numerator > 3:
        return beat_length
    if (numerator, denominator) == (4, 4):
        return bar_length / 2
    return bar_length


def _rhythm_vocabulary(numerator: int, denominator: int) -> tuple[str, ...]:
    """Durations that suit a meter: eighths and dotted quarters in 6/8, quarters in 3/4..."""
    if denominator >= 8 and numerator % 3 == 0:
        codes: tuple[str, ...] = ("e", "q", "q.", "h.")
    elif denominator >= 16:
        codes = ("s", "e", "e.", "q")
    elif denominator == 8:
        codes = ("e", "q", "q.")
    elif denominator <= 2:
        codes = ("q", "h", "h.", "w")
    else:
        codes = ("e", "q", "q.", "h", "h.", "w")
    bar_length = Fraction(4 * numerator, denominator)
    return tuple(code for code in codes if DURATIONS[code] <= bar_length)


def _music21_name(name: str) -> str:
    """music21 writes flats as '-': 'Bb' -> 'B-'."""
    return name[0] + name[1:].replace("b", "-")


def _rotate_to(pitch_classes: tuple[PitchClass, ...], tonic: PitchClass) -> tuple[PitchClass, ...]:
    """The pitch classes starting from the tonic."""
    semitones = [pc.semitone for pc in pitch_classes]
    start = semitones.index(tonic.semitone) if tonic.semitone in semitones else 0
    return pitch_classes[start:] + pitch_classes[:start]


@functools.cache
def _key_signature_for(pitch_classes: tuple[PitchClass, ...]) -> tuple[int | None, bool]:
    """The key signature of the first diatonic mode on the tonic that holds every pitch class."""
    from music21 import key  # noqa: PLC0415

    tonic = pitch_classes[0]
    wanted = {pc.semitone for pc in pitch_classes}
    name = _music21_name(str(tonic))
    for mode in ("major", "minor", "mixolydian", "dorian", "lydian", "phrygian", "locrian"):
        candidate = key.Key(name, mode)
        if wanted <= {p.pitchClass for p in candidate.pitches}:
            return candidate.sharps, mode == "minor"
    return None, False
