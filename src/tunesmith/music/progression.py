r"""Progressions over a request's bars: the chords given, or those the model chooses from.

A progression is chord symbols or Roman numerals with ``|`` between bars (``"D G | D A"``:
two chords share each bar, from its beats); without ``|`` each chord is one bar
(``"i iv V i"``). It is laid over the bars the tune writes (each part once), repeating to
fill them; a progression as long as the tune as heard is read bar for bar, as long as a
part played twice gets the same chords both times.

:class:`WrittenHarmony` gives the grammar of each written bar its
:class:`~tunesmith.writing.grammar.ChordChoice`\ s. With ``chords="auto"`` the model writes the
chords: each bar opens with a chord mark in double quotes (``|:"D" dfa afd|``), chosen under
the grammar from the chords of the key whose tones are allowed notes; the tune opens on the
tonic chord, a part's middle ends on the dominant and its end on the tonic, by construction.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

from tunesmith.errors import ChordError
from tunesmith.model.header import Key
from tunesmith.model.meter import Meter, meter_of
from tunesmith.model.score import Pitch
from tunesmith.music.chords import Chord, key_chords, parse_chord
from tunesmith.music.harmony import BarHarmony, strong_beats
from tunesmith.music.plan import Plan, request_plan
from tunesmith.music.rhythm import Rhythm, drawn_index
from tunesmith.requests.theory import Constraints, MelodyOptions
from tunesmith.writing.grammar import ChordChoice

__all__ = [
    "AUTO",
    "HarmonyRequest",
    "WrittenHarmony",
    "check_request",
    "harmony_rule",
    "implied_harmony",
    "request_key",
    "written_harmony",
]

AUTO = "auto"


class HarmonyRequest(MelodyOptions, Hashable, Protocol):
    """What harmony reads of a request (a :class:`~tunesmith.requests.request.ComposeRequest`)."""

    @property
    def constraints(self) -> Constraints: ...  # noqa: D102
    @property
    def progression(self) -> str | None: ...  # noqa: D102
    @property
    def style(self) -> str: ...  # noqa: D102
    @property
    def seed(self) -> int | None: ...  # noqa: D102


def request_key(request: HarmonyRequest) -> Key:
    """The key Roman numerals and chords are read in: the tonic and the key signature's mode."""
    constraints = request.constraints
    mode = constraints.key_mode
    if mode is None:  # a pitch set no diatonic mode holds: major or minor by its third
        minor = (constraints.tonic.semitone + 3) % 12 in constraints.semitones
        mode = (
            "minor"
            if minor and (constraints.tonic.semitone + 4) % 12 not in constraints.semitones
            else "major"
        )
    return Key(constraints.tonic, mode)


def _allowed_text(request: HarmonyRequest) -> str:
    return " ".join(map(str, request.constraints.pitch_classes))


@functools.cache
def _read(text: str, key: Key) -> tuple[tuple[tuple[str, Chord], ...], ...]:
    """The chords of each bar of a progression, as written and as read."""
    bars = [bar.split() for bar in text.split("|")] if "|" in text else [[w] for w in text.split()]
    if bars and not bars[-1]:
        bars.pop()  # a closing bar line
    if not bars or not all(bars):
        raise ChordError(
            f"the progression {text!r} has an empty bar: write a chord in every bar, "
            "e.g. 'D G | D A' or 'i iv V i'"
        )
    read = []
    for number, words in enumerate(bars, 1):
        chords = []
        for word in words:
            try:
                chords.append((word, parse_chord(word, key)))
            except ChordError as error:
                raise ChordError(
                    f"bar {number} of the chords: {error}",
                    chord=word,
                    bar=number,
                    allowed=error.allowed,
                ) from None
        read.append(tuple(chords))
    return tuple(read)


def _bar_harmony(chords: Sequence[Chord], meter: Meter, number: int, written: str) -> BarHarmony:
    """Chords sharing a bar equally, each starting on a beat (or a group's first, 7/8's 2+2+3)."""
    starts = meter.beat_starts()
    if len(starts) % len(chords) and not len(strong_beats(meter)) % len(chords):
        starts = strong_beats(meter)
    if len(starts) % len(chords):
        fits = [n for n in range(1, len(starts) + 1) if len(starts) % n == 0]
        raise ChordError(
            f"bar {number} of the chords ({written!r}) has {len(chords)} chords, but a bar of "
            f"{meter.text} has {len(starts)} beats to share among them: give "
            f"{' or '.join(map(str, fits))} chords a bar",
            chord=written,
            bar=number,
        )
    step = len(starts) // len(chords)
    return tuple((starts[i * step], chord) for i, chord in enumerate(chords))


def _progression(request: HarmonyRequest) -> tuple[BarHarmony, ...]:
    """The given progression's bars, checked against the meter and the allowed notes."""
    assert request.progression is not None
    meter = meter_of(request.meter)
    read = _read(request.progression, request_key(request))
    in_range = {pitch.midi % 12 for pitch in request.constraints.pitches}
    bars = []
    for number, written in enumerate(read, 1):
        for word, chord in written:
            if not chord.semitones & in_range:
                raise ChordError(
                    f"bar {number} of the chords: {word} ({' '.join(map(str, chord.tones))}) has "
                    f"no note the tune may use ({_allowed_text(request)}, "
                    f"{request.constraints.low}-{request.constraints.high}), so no melody note "
                    "can fit it; choose another chord or allow one of its notes",
                    chord=word,
                    bar=number,
                    allowed=_allowed_text(request),
                )
        text = " ".join(word for word, _ in written)
        bars.append(_bar_harmony([chord for _, chord in written], meter, number, text))
    return tuple(bars)


def written_harmony(request: HarmonyRequest, plan: Plan | None = None) -> WrittenHarmony | None:
    """The harmony of the bars ``plan`` (default: the request's) writes; None without chords.

    Made once for a request and plan (a value): the request's check and its writing share it.

    Raises :class:`ChordError` when the progression is longer than the tune, a part played
    twice would get different chords, or the tune's last chord does not hold its tonic.
    """
    if request.progression is None:
        return None
    return _written_harmony(request, plan or request_plan(request))


@functools.lru_cache(maxsize=64)
def _written_harmony(request: HarmonyRequest, plan: Plan) -> WrittenHarmony:
    meter = meter_of(request.meter)
    written = len(plan.bars)
    last = _ending_bar(plan, request.bars)
    if request.progression == AUTO:
        vocabulary, tonic, dominant = key_chords(
            request.constraints.pitch_classes, request_key(request)
        )
        return WrittenHarmony(meter, last, None, vocabulary, tonic, dominant)
    given = _progression(request)
    if len(given) <= written:
        bars = tuple(given[index % len(given)] for index in range(written))
    elif len(given) == request.bars and len(plan.played()) == request.bars:
        chosen: dict[int, tuple[int, BarHarmony]] = {}
        for heard, index in enumerate(plan.played()):
            first = chosen.setdefault(index, (heard, given[heard]))
            if first[1] != given[heard]:
                raise ChordError(
                    f"bars {first[0] + 1} and {heard + 1} of the chords fall on the same bar of "
                    f"a part played twice (form {plan.form}) but differ; give both the same "
                    f"chords, or {written} bars of chords (each part once)",
                    bar=heard + 1,
                )
        bars = tuple(chosen[index][1] for index in range(written))
    else:
        tune = f"the tune's {written}"
        if written != request.bars:
            tune = (
                f"the tune: {written} bars as written (each part once, form {plan.form}) and "
                f"{request.bars} as heard"
            )
        raise ChordError(
            f"the progression has {len(given)} bars, more than {tune}; give at most "
            f"{written} bars of chords, or ask for more bars",
            bar=written + 1,
        )
    ending = bars[last][-1][1]
    home = request.constraints.tonic
    if home.semitone not in ending.semitones:
        raise ChordError(
            f"the tune ends on its tonic {home}, but its last chord, {ending} in bar {last + 1} "
            f"({' '.join(map(str, ending.tones))}), has no {home}; end the progression on a "
            f"chord holding {home}",
            chord=ending.figure,
            bar=last + 1,
            allowed=_allowed_text(request),
        )
    return WrittenHarmony(meter, last, bars, (), None, None)


def implied_harmony(
    request: HarmonyRequest,
    plan: Plan,
    harmonies: Sequence[Sequence[Sequence[Any]]],
    seed: int | None,
    cell: Fraction | None = None,
) -> WrittenHarmony | None:
    """The chords one real tune's melody implies, in the request's key, bar by bar.

    ``harmonies`` are real tunes' chords (``data/rhythms.json``: ``[offset, degree]`` pairs
    a bar, the degree counted in the tune's own scale), and ``seed`` draws the same tune as
    :func:`~tunesmith.music.rhythm.drawn_bars` does. Each degree takes the triad on it among
    the key's chords whose tones the request allows; a degree with none keeps the chord
    before it, and the tune's last chord is the tonic. With a ``cell`` length, the note
    sounding at each cell's start takes a tone of its chord, not only each strong beat's.
    None where the request's pitches are not a key's seven (notes the user chose, such as a
    pentatonic set: the strong beats keep to those notes, and no chord of a real tune need
    fit them).
    """
    key = request_key(request)
    scale = [pitch.semitone for pitch in key.scale]
    if {pitch.semitone for pitch in request.constraints.pitch_classes} != set(scale):
        return None
    vocabulary, tonic, _ = key_chords(request.constraints.pitch_classes, key)
    by_root = {chord.root.semitone: chord for chord in vocabulary}
    chosen = harmonies[drawn_index(len(harmonies), seed)]
    meter = meter_of(request.meter)
    held = tonic
    bars: list[BarHarmony] = []
    first = int(plan.pickup)  # a pickup leads to the first chord: the tonic's, not held to it
    for index, bar in enumerate(plan.bars):
        pairs: list[tuple[Fraction, Chord]] = []
        if index < first:
            bars.append(((Fraction(0), tonic),))
            continue
        for offset, degree in chosen[(index - first) % len(chosen)]:
            held = by_root.get(scale[int(degree)], held)
            pairs.append((Fraction(offset), held))
        if not pairs or pairs[0][0] != 0:
            pairs.insert(0, (Fraction(0), bars[-1][-1][1] if bars else tonic))
        bars.append(tuple(pairs) if bar.source is None else bars[bar.source])  # a copy's chords
    last = _ending_bar(plan, request.bars)
    if bars[last][-1][1] != tonic:  # a tune ends home: on its tonic, over its tonic chord
        bars[last] = (*bars[last][:-1], (bars[last][-1][0], tonic))
    beats = () if cell is None else tuple(cell * n for n in range(int(meter.bar_length / cell)))
    return WrittenHarmony(meter, last, tuple(bars), (), None, None, implied=True, beats=beats)


def _ending_bar(plan: Plan, heard: int) -> int:
    """The written bar a tune of ``heard`` bars ends on.

    The last one played, or the last one written where the plan's parts are not played out
    to ``heard`` bars.
    """
    played = plan.played()
    return played[-1] if len(played) - plan.pickup == heard else len(plan.bars) - 1


def check_request(request: HarmonyRequest) -> None:
    """Raise :class:`ChordError` now for chords that cannot be read or cannot fit."""
    written_harmony(request)


@dataclass(frozen=True)
class WrittenHarmony:
    """What the grammar of each written bar needs: its chords, or the chords to choose from."""

    meter: Meter
    last: int
    """The written bar that ends the tune."""
    bars: tuple[BarHarmony, ...] | None
    """The given chords of each written bar; None where the model chooses them."""
    vocabulary: tuple[Chord, ...]
    tonic: Chord | None
    dominant: Chord | None
    implied: bool = False
    """Chords no one asked for: those a real tune's melody implies (:func:`implied_harmony`),
    which shape the melody's strong beats but are not written above it."""
    beats: tuple[Fraction, ...] = ()
    """Where in a bar the note sounding takes a tone of its chord; none: the strong beats."""

    def _tones(self, harmony: BarHarmony) -> tuple[tuple[Fraction, frozenset[int]], ...]:
        beats = self.beats or strong_beats(self.meter)
        return tuple((beat, _sounding(harmony, beat).semitones) for beat in beats)

    def choices(
        self,
        index: int,
        cadence: str | None,
        final: frozenset[int] | None,
        pitches: Sequence[Pitch],
        rhythm: Rhythm,
    ) -> tuple[tuple[ChordChoice, ...], frozenset[int] | None]:
        """The chord choices of written bar ``index`` and its last note's keys.

        A cadence bar's last note is a tone of the chord sounding under it, and of the
        cadence's pitches where they share one.
        """
        if self.bars is not None:
            harmony = self.bars[index]
            choices: tuple[ChordChoice, ...] = (ChordChoice("", self._tones(harmony)),)
        else:
            if index in {0, self.last} or cadence == "full":  # a tune opens on the tonic
                harmonies: Sequence[Chord] = [self.tonic] if self.tonic else []
            elif cadence == "half":
                harmonies = [self.dominant] if self.dominant else []
            else:
                harmonies = self.vocabulary
            choices = tuple(
                ChordChoice(f'"{chord.figure}" ', self._tones(((Fraction(0), chord),)))
                for chord in harmonies
            )
            harmony = ((Fraction(0), harmonies[0]),)
        if cadence is None:
            return choices, final
        under = _sounding(harmony, _final_onset(rhythm)).semitones
        tones = frozenset(p.midi for p in pitches if p.midi % 12 in under)
        return choices, (final & tones if final is not None else tones) or tones


def _final_onset(rhythm: Rhythm) -> Fraction:
    """Where a cadence bar's last note starts (the start of its last slot, if that is free)."""
    position, onset = Fraction(0), Fraction(0)
    for slot in rhythm.cadence:
        length = slot.length if slot else rhythm.cell_length
        if slot is None:
            onset = position
        elif not all(slot.rests):
            notes = [i for i, rest in enumerate(slot.rests) if not rest]
            onset = position + sum(slot.durations[: notes[-1]], Fraction(0))
        position += length
    return onset


def _sounding(harmony: BarHarmony, offset: Fraction) -> Chord:
    chord = harmony[0][1]
    for start, candidate in harmony:
        if start <= offset:
            chord = candidate
    return chord


def harmony_rule(harmony: WrittenHarmony | None, chords: str | None) -> str:
    """The chords in the words of a server's prompt ('' without chords): what the grammar
    holds the model to, for a model that writes without one.
    """  # noqa: D205
    if harmony is None or harmony.implied:
        return ""
    beats = strong_beats(harmony.meter)
    length = harmony.meter.beat_length
    words = " and ".join(f"{float(1 + beat / length):g}" for beat in beats)
    counted = f"beat{'s' if len(beats) > 1 else ''} {words} of each bar"
    fit = f"the note sounding on each strong beat ({counted}) is a tone of its chord"
    if harmony.bars is not None:
        return f"\n- Chords, bars between |, repeated to fill the tune: {chords}; {fit}."
    assert harmony.tonic is not None
    assert harmony.dominant is not None
    names = " ".join(f'"{chord.figure}"' for chord in harmony.vocabulary)
    return (
        f"\n- Open every bar with its chord in double quotes, one of {names}: the first and "
        f'last bars "{harmony.tonic.figure}", the middle of each part "{harmony.dominant.figure}"'
        f"; {fit}."
    )
