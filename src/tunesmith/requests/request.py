"""What the user asks for: :class:`ComposeRequest`, and the musical facts derived from it.

A request is a frozen pydantic model that forbids unknown fields, so a typo is an error.
Every bad value raises :class:`~tunesmith.errors.RequestError` (or a subclass) whose message
names the field, what is allowed and what was received.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Mapping
from typing import Any, Self

import pydantic
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    field_validator,
    model_validator,
)

from tunesmith.errors import ChordError, RequestTypeError
from tunesmith.interpreting.phrases import meanings
from tunesmith.model.score import Pitch, PitchClass
from tunesmith.music.progression import check_request
from tunesmith.requests.band import PARTS, check_instruments, instrument_pairs, part_names
from tunesmith.requests.presets import (
    REMOVED_STYLES,
    gm_instruments,
    program_number,
    removed_style,
    style_preset,
    style_presets,
)
from tunesmith.requests.request_errors import KINDS, from_text, refuse_other_kind, request_error
from tunesmith.requests.theory import Constraints, is_known_mode, known_modes

__all__ = ["ComposeRequest"]

MAX_BARS = 256
MAX_SEED = 2**31 - 1
"""Seeds are 0 to 2**31 - 1: every server takes them, and none reads one as 'random'."""

_METER_RE = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{1,2})\s*$")


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
    style: str = Field(
        "folk", description="free text naming a style, e.g. 'folk jig' or 'a slow air'"
    )
    title: str | None = Field(None, description="title written into the MIDI file")
    seed: int | None = Field(None, description="random seed for repeatable output")
    form: str | None = Field(
        None,
        description="parts in the order they are heard, e.g. 'AABA': each letter a part of "
        "bars/len(form) bars (default: the style's, with its part length)",
    )
    chords: str | None = Field(
        None,
        description="chord progression the melody fits, bars between '|': 'D G | D A', "
        "'i iv V i', or 'auto' for the model to write it",
    )
    band: bool = Field(False, description="add chords, bass and drums behind the melody")
    parts: tuple[str, ...] | None = Field(
        None, description=f"the parts to write, among {', '.join(PARTS)}; 'melody' first"
    )
    instruments: tuple[str, ...] | None = Field(
        None, description="instruments of the other parts as 'part=instrument', e.g. 'bass=cello'"
    )
    _options: dict[str, Any] = PrivateAttr(default_factory=dict)
    """The options as the user gave them, before the style preset: what model_copy updates."""

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
        return {**defaults, **given}

    @model_validator(mode="wrap")
    @classmethod
    def _remember_options(
        cls, data: Any, handler: ModelWrapValidatorHandler[ComposeRequest]
    ) -> ComposeRequest:
        """Keep the options as given (runs before the style preset fills in the rest)."""
        request = handler(data)
        if isinstance(data, Mapping):
            request._options = dict(data)
        return request

    @model_validator(mode="after")
    def _resolve_constraints(self) -> Self:
        """Resolve the constraints now, so that impossible ones fail at once, on every path."""
        self.constraints  # noqa: B018 - cached on the instance
        check_request(self)
        return self

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as error:
            raise request_error(error, ComposeRequest.model_fields) from error

    @classmethod
    def model_validate(cls, *args: Any, **kwargs: Any) -> Self:
        """Validate a dict (or a request); bad values raise :class:`RequestError`."""
        try:
            return super().model_validate(*args, **kwargs)
        except pydantic.ValidationError as error:
            raise request_error(error, ComposeRequest.model_fields) from error

    @classmethod
    def model_validate_json(cls, *args: Any, **kwargs: Any) -> Self:
        """Validate JSON text; bad values raise :class:`RequestError`."""
        try:
            return super().model_validate_json(*args, **kwargs)
        except pydantic.ValidationError as error:
            raise request_error(error, ComposeRequest.model_fields) from error

    @classmethod
    def model_validate_strings(cls, obj: Any, **kwargs: Any) -> Self:
        """Validate a dict of strings; bad values raise :class:`RequestError`."""
        if isinstance(obj, Mapping):  # numbers and switches read from their text first
            obj = {name: from_text(name, value) for name, value in obj.items()}
        try:
            return super().model_validate_strings(obj, **kwargs)
        except pydantic.ValidationError as error:
            raise request_error(error, ComposeRequest.model_fields) from error

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy; with ``update``, a new request validated from these options and the update.

        The update is applied to the options as they were given, so the style preset fills
        in again and the constraints are resolved again. Pitches given in the update replace
        the request's: ``notes`` replaces ``key`` and ``mode``, ``key`` or ``mode`` replaces
        ``notes``.
        """
        if not update:
            return super().model_copy(deep=deep)
        options = dict(self._options)
        if "notes" in update:
            options.pop("key", None)
            options.pop("mode", None)
        if "key" in update or "mode" in update:
            options.pop("notes", None)
        return self.model_validate({**options, **update})

    @field_validator(*KINDS, mode="before")
    @classmethod
    def _refuse_other_kinds(cls, value: Any, info: pydantic.ValidationInfo) -> Any:
        """A number or a switch as itself, never as text; ``True`` is no count."""
        return refuse_other_kind(str(info.field_name), value)

    @field_validator("notes", mode="before")
    @classmethod
    def _split_notes(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.replace(",", " ").split()
        elif value is not None and not isinstance(value, list | tuple):
            raise RequestTypeError(
                "notes must be note names in order, the tonic first: a list such as "
                f"['A', 'B', 'C#'] or a string 'A B C#' (received {value!r})"
            )
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
        if not is_known_mode(value):
            known = ", ".join(known_modes())
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

    @field_validator("seed")
    @classmethod
    def _check_seed(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value <= MAX_SEED:
            raise ValueError(f"seed must be between 0 and {MAX_SEED} (received {value})")
        return value

    @field_validator("style")
    @classmethod
    def _check_style(cls, value: str) -> str:
        known = {*style_presets(), *meanings()["styles"]}  # presets, and words' styles
        names = sorted(known - REMOVED_STYLES.keys())
        if (removed := removed_style(value)) is not None:
            why, instead = REMOVED_STYLES[removed]
            raise ValueError(
                f"the {removed} style was removed: {why} (received {value!r}); the styles "
                f"are {', '.join(names)}; {instead}"
            )
        text = re.sub(r"[\s_-]+", " ", value.lower())
        if any(re.search(rf"\b{re.escape(name)}\b", text) for name in names):
            return value
        words = (text, *text.split())  # "reeel", "a slipjig"
        close = {m: 0 for word in words for m in difflib.get_close_matches(word, names)}
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(
            f"unknown style: the text must name one of {', '.join(names)}, e.g. 'jig' or "
            f"'a slow air' (received {value!r}){hint}"
        )

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
                f"tempo must be between 10 and 400 beats per minute (received {value:.15g})"
            )
        return value

    @field_validator("low", "high")
    @classmethod
    def _check_pitch(cls, value: str | None) -> str | None:
        return None if value is None else str(Pitch.parse(value))

    @field_validator("instrument", mode="before")
    @classmethod
    def _check_instrument(cls, value: Any) -> str:
        return gm_instruments()[program_number(value)]

    @field_validator("chords", mode="before")
    @classmethod
    def _join_chords(cls, value: Any) -> Any:
        if isinstance(value, list | tuple) and all(isinstance(bar, str) for bar in value):
            return " | ".join(value)  # a list of bars
        return value

    @field_validator("chords")
    @classmethod
    def _check_chords(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.strip("| "):
            raise ChordError("no chords given: write a progression such as 'D G | D A', or 'auto'")
        return "auto" if value.lower() == "auto" else " ".join(value.split())

    @field_validator("parts", mode="before")
    @classmethod
    def _split_parts(cls, value: Any) -> Any:
        return value.replace(",", " ").split() if isinstance(value, str) else value

    @field_validator("parts")
    @classmethod
    def _check_parts(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if value is None else part_names(value)

    @field_validator("instruments", mode="before")
    @classmethod
    def _pair_instruments(cls, value: Any) -> Any:
        return instrument_pairs(value)

    @model_validator(mode="after")
    def _check_band(self) -> Self:
        check_instruments(self.instruments or (), self.part_names)
        return self

    @property
    def part_names(self) -> tuple[str, ...]:
        """The parts to write: ``parts``, all of them with ``band=True``, else the melody."""
        if self.parts is not None:
            return self.parts
        return PARTS if self.band else ("melody",)

    @property
    def part_instruments(self) -> dict[str, str]:
        """``instruments`` as a dict: part name -> the instrument as given."""
        return check_instruments(self.instruments or (), self.part_names)

    @property
    def progression(self) -> str | None:
        """The chords the melody fits: ``chords``, or ``"auto"`` when a chords or bass part
        needs chords and none were given.
        """  # noqa: D205
        if self.chords is None and {"chords", "bass"} & set(self.part_names):
            return "auto"
        return self.chords

    @functools.cached_property
    def constraints(self) -> Constraints:
        """The musical facts this request implies (pitches in range, tonic, bar length...)."""
        return Constraints.of(self)
