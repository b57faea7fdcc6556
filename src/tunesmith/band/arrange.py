"""The band behind a tune: chords, bass and drums parts played from the harmony lane.

Each style's band is a data file, ``styles/band/<style>.toml`` (a new style is a new
file): the instruments, and one pattern a part, one character per ``step`` (a duration
code) over a bar, or over several bars taken in turn:

- chords: ``x`` strikes the chord, ``-`` holds it, ``.`` rests;
- bass: ``1`` the root (a slash chord's bass), ``3`` ``5`` ``7`` the chord's third, fifth
  and seventh, ``6`` the sixth, ``8`` the root an octave up, ``a`` a step onto the next
  chord's root (its fifth when the root stays), ``-`` holds, ``.`` rests; a step where
  a chord starts plays its root, whatever the pattern says there (the chord that changes
  on beat 3 is heard from its root);
- drums: a row per General MIDI drum (``kick = "x..x.."``), ``x`` strikes it.

A style with no file, or a meter other than its file's, gets patterns from the meter (bass
on the strong beats, chords between them, kick and snare likewise) on its instruments.
Chords are voiced close, each voicing the nearest to the one before (smooth voice leading);
the bass takes the octave nearest its last note within E1-G3. The last bar as played holds
its chord to the end, under a crash: a repeat that ends the tune (the BB of AABB) gets a
second ending for it, so the band ends once.
"""

from __future__ import annotations

import functools
import itertools
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from importlib import resources
from typing import Any

from tunesmith.errors import ConstraintError, RequestError
from tunesmith.model.header import Key
from tunesmith.model.meter import Meter, meter_of
from tunesmith.model.notes import split_duration
from tunesmith.model.score import DURATIONS, Bar, ChordSymbol, Event, Part, Pitch, Score
from tunesmith.music.chords import Chord
from tunesmith.music.harmony import chord_at, strong_beats
from tunesmith.requests.band import part_program
from tunesmith.requests.presets import gm_instruments, style_preset

__all__ = ["BASS_RANGE", "CHORD_RANGE", "accompany", "band_style"]

BASS_RANGE = (28, 55)
"""E1-G3: where the bass part plays (MIDI keys)."""
CHORD_RANGE = (52, 72)
"""E3-C5: where the chords part is voiced, below most melodies."""
_DEFAULTS = {"chords": "Acoustic Grand Piano", "bass": "Acoustic Bass", "drums": "standard"}
_NAMES = {"chords": "Chords", "bass": "Bass", "drums": "Drums"}
_INTERVALS = {"6": 9, "8": 12}


@functools.cache
def _band_files() -> dict[str, dict[str, Any]]:
    folder = resources.files("tunesmith").joinpath("styles", "band")
    bands = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".toml"):
            data = tomllib.loads(entry.read_text("utf-8"))
            bands[data["style"]] = data
    return bands


@dataclass(frozen=True)
class BandStyle:
    """A style's band: the step of its patterns, each part's pattern and instrument."""

    step: Fraction
    chords: str
    bass: str
    drums: dict[str, str]
    instruments: dict[str, str]


def band_style(style: str, meter: Meter) -> BandStyle:
    """The band for ``style`` in ``meter``: its file's, or one made from the meter.

    Raises :class:`ConstraintError` when a file's pattern does not fill whole bars.
    """
    preset = style_preset(style) or {}
    data = _band_files().get(str(preset.get("name", "")), {})
    if data and data["meter"] == meter.text:
        step = DURATIONS[data["step"]]
        drums = {name: row for name, row in data.get("drums", {}).items() if name != "kit"}
        band = BandStyle(
            step,
            data["chords"]["pattern"],
            data["bass"]["pattern"],
            drums,
            {
                "chords": data["chords"]["instrument"],
                "bass": data["bass"]["instrument"],
                "drums": data.get("drums", {}).get("kit", "standard"),
            },
        )
        steps = meter.bar_length / step
        for what, row in [("chords", band.chords), ("bass", band.bass), *drums.items()]:
            if steps.denominator != 1 or len(row) % steps:
                raise ConstraintError(
                    f"styles/band for {style!r}: the {what} pattern {row!r} has {len(row)} steps "
                    f"of {data['step']}, not whole bars of {meter.text} ({steps} steps a bar)"
                )
        return band
    generic = _from_meter(meter)
    if data:  # the style's instruments, playing patterns of this meter
        instruments = {name: data[name]["instrument"] for name in ("chords", "bass")}
        kit = data.get("drums", {}).get("kit", "standard")
        return replace(generic, instruments={**instruments, "drums": kit})
    return generic


def _from_meter(meter: Meter) -> BandStyle:
    """Bass on the strong beats, chords on the other beats (or off the beat), kick and snare."""
    beat = min(meter.beats)
    step = beat / 3 if meter.compound else beat / 2 if beat >= 1 else beat
    steps = int(meter.bar_length / step)
    beats = {int(start / step) for start in meter.beat_starts()}
    strong = {int(start / step) for start in strong_beats(meter)}
    weak = beats - strong or {position + int(min(meter.beats) / step) - 1 for position in beats}
    bass = "".join("1" if i == 0 else "5" if i in strong else "-" for i in range(steps))
    chords = "".join("x" if i in weak else "." for i in range(steps))
    return BandStyle(
        step,
        chords,
        bass,
        {
            "kick": "".join("x" if i in strong else "." for i in range(steps)),
            "snare": "".join("x" if i in weak else "." for i in range(steps)),
        },
        dict(_DEFAULTS),
    )


def _hits(row: str, bar: int, step: Fraction, steps: int) -> list[tuple[Fraction, Fraction, str]]:
    """(onset, length, character) of each sounding step of the row's pattern for ``bar``."""
    start = (bar * steps) % len(row)
    cells = row[start : start + steps]
    hits: list[tuple[Fraction, Fraction, str]] = []
    for index, char in enumerate(cells):
        if char == "-" and hits and hits[-1][0] + hits[-1][1] == index * step:
            onset, length, what = hits[-1]
            hits[-1] = (onset, length + step, what)
        elif char not in ".-":
            hits.append((index * step, step, char))
    return hits


def _events(notes: Sequence[tuple[Fraction, Fraction, tuple[Pitch, ...]]], length: Fraction) -> Bar:
    """A bar of tied pieces and rests from (onset, length, pitches) notes in order."""
    events: list[Event] = []
    now = Fraction(0)
    for onset, duration, pitches in [*notes, (length, Fraction(0), ())]:
        if onset > now:
            events += [Event.rest(piece) for piece in split_duration(onset - now)]
        if duration:
            pieces = split_duration(duration)
            events += [Event(pitches, piece, i < len(pieces) - 1) for i, piece in enumerate(pieces)]
        now = onset + duration
    return Bar(tuple(events))


def _drum_bar(hits: Sequence[tuple[Fraction, tuple[str, ...]]], length: Fraction) -> Bar:
    """Drum hits each lasting the longest duration before the next; rests fill the rest."""
    events: list[Event] = []
    now = Fraction(0)
    for index, (onset, names) in enumerate(hits):
        if onset > now:
            events += [Event.rest(piece) for piece in split_duration(onset - now)]
        following = hits[index + 1][0] if index + 1 < len(hits) else length
        piece = split_duration(following - onset)[0]
        events.append(Event.hit(names, piece))
        now = onset + piece
    if now < length:
        events += [Event.rest(piece) for piece in split_duration(length - now)]
    return Bar(tuple(events))


class _Voicer:
    """Close voicings, each the nearest to the one before (smooth voice leading)."""

    def __init__(self) -> None:
        self.last: tuple[int, ...] | None = None

    def voice(self, chord: Chord) -> tuple[Pitch, ...]:
        low, high = CHORD_RANGE
        options = []
        tones = list(chord.tones[:4])
        for bottom in range(low, high):
            if bottom % 12 not in chord.semitones:
                continue
            first = next(i for i, tone in enumerate(tones) if tone.semitone == bottom % 12)
            keys = [bottom]
            for tone in tones[first + 1 :] + tones[:first]:
                keys.append(keys[-1] + (tone.semitone - keys[-1]) % 12)
            if len(keys) == 3:
                keys.append(bottom + 12)  # a triad doubles its bottom note an octave up
            if keys[-1] <= high:
                options.append(tuple(keys))
        centre = (low + high) / 2
        if self.last is None:
            best = min(options, key=lambda keys: (abs(sum(keys) / len(keys) - centre), keys))
        else:
            last = self.last
            best = min(
                options,
                key=lambda keys: (sum(abs(a - b) for a, b in zip(keys, last, strict=False)), keys),
            )
        self.last = best
        spelled = {tone.semitone: tone for tone in chord.tones}
        return tuple(Pitch.from_midi(key, spelled[key % 12]) for key in best)


class _Bassist:
    """Bass notes near the last one, within :data:`BASS_RANGE`, with approach steps."""

    def __init__(self, key: Key | None) -> None:
        self.last = 40  # E2
        self.scale = {pc.semitone for pc in key.scale} if key else set(range(12))

    def near(self, semitone: int) -> int:
        low, high = BASS_RANGE
        options = [k for k in range(low, high + 1) if k % 12 == semitone % 12]
        return min(options, key=lambda k: (abs(k - self.last), k))

    def note(self, what: str, chord: Chord, following: Chord | None) -> Pitch:
        root = self.near(chord.bass.semitone)
        if what == "1":
            key = root
        elif what in "357":
            index = {"3": 1, "5": 2, "7": 3}[what]
            interval = (
                (chord.tones[index].semitone - chord.root.semitone) % 12
                if len(chord.tones) > index
                else {"3": 4, "5": 7, "7": 10}[what]
            )
            key = self.near(chord.root.semitone) + interval
        elif what in _INTERVALS:
            key = self.near(chord.root.semitone) + _INTERVALS[what]
        elif what == "a" and following is not None and following.bass != chord.bass:
            target = self.near(following.bass.semitone)
            below = next((k for k in (target - 1, target - 2) if k % 12 in self.scale), target - 1)
            above = next((k for k in (target + 1, target + 2) if k % 12 in self.scale), target + 1)
            key = min((below, above), key=lambda k: abs(k - self.last))
        else:  # an approach to the same root: the fifth
            key = self.near(chord.root.semitone) + 7
        while key > BASS_RANGE[1]:
            key -= 12
        self.last = key
        spelled = {tone.semitone: tone for tone in (*chord.tones, chord.bass)}
        return Pitch.from_midi(key, spelled.get(key % 12))


def _bar_chords(
    lane: Sequence[ChordSymbol], start: Fraction, length: Fraction
) -> list[tuple[Fraction, Chord]]:
    """(offset, chord) of each chord sounding in the bar from ``start``."""
    found = []
    for chord in lane:
        if chord.onset < start + length and chord.end > start:
            found.append((max(chord.onset - start, Fraction(0)), Chord.parse(chord.figure)))
    return found


def accompany(
    score: Score,
    parts: Sequence[str] = ("chords", "bass", "drums"),
    *,
    style: str = "folk",
    instruments: Mapping[str, str | int] | None = None,
    key: Key | None = None,
) -> Score:
    """``score`` with a part for each of ``parts`` (chords, bass, drums) played from its
    harmony lane in ``style``'s patterns.

    Raises :class:`RequestError` for an unknown part or instrument, and
    :class:`ConstraintError` when a chords or bass part is asked of a score with no harmony
    lane (drums need none).
    """  # noqa: D205
    if not score.harmony and set(parts) & {"chords", "bass"}:
        raise ConstraintError(
            "the score has no chords to accompany; compose or harmonise it with chords"
        )
    score = _last_bar_once(score)
    band = _Band(band_style(style, meter_of(score.header.meter)), score)
    chosen = {**band.style.instruments, **(instruments or {})}
    built: list[Part] = []
    for name in parts:
        if name not in _NAMES:
            raise RequestError(f"unknown part {name!r}: the band's parts are {', '.join(_NAMES)}")
        program = part_program(name, chosen[name])
        if name == "drums":
            bars = [band.drums(index) for index in range(len(band.lengths))]
        else:
            player = _Voicer() if name == "chords" else _Bassist(key or score.header.key)
            bars = [band.pitched(player, index) for index in range(len(band.lengths))]
        label = _NAMES[name] if name == "drums" else gm_instruments()[program]
        built.append(Part(tuple(bars), name=label, role=name, program=program))  # type: ignore[arg-type]
    return replace(score, parts=(*score.parts, *built))


def _last_bar_once(score: Score) -> Score:
    """The score with its last bar as played written to be played once, for the ending.

    A repeat that ends the score plays its last bar twice, and the band's ending with it;
    it gets a second ending, a copy of that bar and its chords (the tune sounds the same).
    """
    played = score.played_bars()
    last = score.repeats[-1] if score.repeats else None
    if (
        played.count(played[-1]) == 1
        or last is None
        or (last.end, last.ending) != (score.bar_count, 0)
        or last.end - last.start < 2  # a one-bar repeat has no room for a first ending
    ):
        return score
    length = score.bar_lengths[-1]
    start = score.duration - length
    copies = tuple(
        ChordSymbol(max(c.onset, start) + length, c.end - max(c.onset, start), c.figure)
        for c in score.harmony
        if c.end > start
    )
    return replace(
        score,
        parts=tuple(replace(part, bars=(*part.bars, part.bars[-1])) for part in score.parts),
        harmony=(*score.harmony, *copies),
        repeats=(*score.repeats[:-1], replace(last, ending=1)),
    )


class _Band:
    """Plays a style's patterns over a score's bars and harmony lane."""

    def __init__(self, style: BandStyle, score: Score) -> None:
        self.style, self.lane = style, score.harmony
        self.lengths = score.bar_lengths
        self.final = score.played_bars()[-1]  # the bar the band ends in
        self.starts = [sum(self.lengths[:i], Fraction(0)) for i in range(len(self.lengths))]

    def steps(self, index: int) -> int:
        """Pattern steps in bar ``index`` (0 for a bar the step does not divide, a pickup)."""
        count = self.lengths[index] / self.style.step
        return int(count) if count.denominator == 1 else 0

    def drums(self, index: int) -> Bar:
        """Bar ``index`` of the drums: the pattern's hits, a kick and crash in the last bar."""
        length, steps = self.lengths[index], self.steps(index)
        if index == self.final or not steps:
            last = index == self.final
            return _drum_bar([(Fraction(0), ("kick", "crash"))] if last else [], length)
        rows = {
            drum: _hits(row, index, self.style.step, steps)
            for drum, row in self.style.drums.items()
        }
        onsets = sorted({onset for hits in rows.values() for onset, _, _ in hits})
        hits = [
            (onset, tuple(drum for drum, row in rows.items() if any(o == onset for o, _, _ in row)))
            for onset in onsets
        ]
        return _drum_bar(hits, length)

    def pitched(self, player: _Voicer | _Bassist, index: int) -> Bar:
        """Bar ``index`` of the chords or the bass; the last bar holds its chord."""
        start, length, steps = self.starts[index], self.lengths[index], self.steps(index)
        chords = isinstance(player, _Voicer)
        final = index == self.final
        if final or not steps:
            hits = [(Fraction(0), length, "x" if chords else "1")]
        else:
            pattern = self.style.chords if chords else self.style.bass
            hits = _hits(pattern, index, self.style.step, steps)
        changes = [offset for offset, _ in _bar_chords(self.lane, start, length)]
        arrivals = {c.onset - start for c in self.lane if start <= c.onset < start + length}
        notes = []
        for onset, duration, what in hits:
            cuts = [onset, *(o for o in changes if onset < o < onset + duration), onset + duration]
            for piece, (begin, end) in enumerate(itertools.pairwise(cuts)):
                chord = chord_at(self.lane, start + begin)
                if chord is None:
                    continue
                if isinstance(player, _Voicer):
                    pitches = player.voice(chord)
                else:  # a note held into a new chord, or struck as it starts, plays its root
                    played = what if piece == 0 and begin not in arrivals else "1"
                    following = chord_at(self.lane, start + end)  # what an approach steps onto
                    pitches = (player.note(played, chord, following),)
                notes.append((begin, end - begin, pitches))
        return _events(notes, length)
