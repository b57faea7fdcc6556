"""One lane of the decoding loop, driven through a :class:`~tunesmith.writing.script.Writing`.

:class:`PlanScript` walks the plan: bars the plan repeats are forced, new bars are sampled
under their own grammar (starting from the last note written, ending on the cadence and
within reach of a bar already written that follows), and each new bar is judged by the
musical rules.
"""

from __future__ import annotations

from typing import Any

from tunesmith.decoding.segments import Forced, Free, Segment
from tunesmith.errors import ConstraintError, GrammarError
from tunesmith.model.score import Bar, Pitch
from tunesmith.music.harmony import held_too_long
from tunesmith.writing.grammar import bars_gbnf
from tunesmith.writing.rules import broken_rules, run_into_copy
from tunesmith.writing.script import DIGITS, OCTAVE, PICKUP_LEAP, Writing
from tunesmith.writing.spelling import AbcSpelling

__all__ = ["PlanScript"]


class PlanScript:
    """Drives one lane of :class:`~tunesmith.decoding.decode.Decoder` through a :class:`Writing`."""

    def __init__(
        self, writing: Writing, *, forbidden: frozenset[tuple[Any, ...]] = frozenset()
    ) -> None:
        self.writing = writing
        self.forbidden = forbidden
        self.index = 0
        self.mark = 0
        self.texts: list[str] = []
        self.bars: list[Bar] = []
        self.copies = frozenset(
            index for index, bar in enumerate(writing.plan.bars) if bar.source is not None
        )
        self.cadences = frozenset(
            index
            for index, bar in enumerate(writing.plan.bars)
            if bar.cadence is not None or (writing.slots and writing.slots[index] is not None)
        )
        """Bars whose rhythm is set (a cadence's, or a real tune's): free of ``max_rhythms``."""
        harmony = writing.harmony
        chosen = () if harmony is None or harmony.bars is not None else harmony.vocabulary
        self.figures = frozenset(chord.figure for chord in chosen)
        self.max_chord = writing.rules.max_same_chord
        abc = isinstance(writing.spelling, AbcSpelling)
        self.long_notes = float(writing.style.get("long_note_penalty", 0)) if abc else 0.0
        """Taken from the logits of ABC note lengths (digits): see ``styles/jig.toml``."""

    def _record(self, text: str) -> None:
        segment = text[self.mark :]
        prefix, separator = self.writing.layout(self.index - 1)
        content = segment.removeprefix(prefix).removesuffix(separator)
        self.texts.append(content)
        self.bars.append(self._bar(segment))

    def _bar(self, segment: str) -> Bar:
        bars = self.writing.spelling.read(segment)
        if len(bars) != 1:
            raise GrammarError(
                f"expected one bar, found {len(bars)} (a tunesmith bug)",
                line=1,
                column=1,
                token=segment[:20],
            )
        return bars[0]

    def next_segment(self, text: str) -> Segment | None:
        """The next written bar: forced where the plan repeats a bar, else sampled."""
        if self.index > 0:
            self._record(text)
        plan = self.writing.plan
        if self.index == len(plan.bars):
            return None
        index, bar = self.index, plan.bars[self.index]
        self.index += 1
        self.mark = len(text)
        prefix, separator = self.writing.layout(index)
        if bar.source is not None:
            return Forced(prefix + self.texts[bar.source] + separator)
        following = None
        if index + 1 < len(plan.bars):
            source = plan.bars[index + 1].source
            if source is not None and source < index:
                following = next(
                    (e.pitches[0] for e in self.bars[source].events if e.pitches), None
                )
        start = self._last_pitch()
        leap = self.writing.request.constraints.max_leap
        if plan.pickup and index == 0:
            leap = min(leap, PICKUP_LEAP)
        spelling = self.writing.spelling
        # the most constrained bar that can be written: a later part's register, a note that
        # leads into the bar already written next, a first note within reach of the last
        top, floor = self.writing.ceiling(index), self._floor(index)
        tries: list[tuple[Pitch | None, int | None, int | None, Pitch | None]] = []
        if bar.part == 0 and bar.number <= max(plan.part_bars // 2, 1):
            # the opening phrase keeps above the home tonic's fourth below; its first bar
            # opens near it, in the instrument's middle (Writing.opening)
            low, high = self.writing.opening()
            opening = index <= int(plan.pickup)  # the pickup and the first bar
            ceiling = (high if top is None else min(top, high)) if opening else top
            tries.append((following, low, ceiling, start))
        tries += [(following, floor, top, start), (following, None, top, start)]
        tries += [(following, None, None, start), (None, None, None, start)]
        tries += [(None, None, None, None)]
        for near, floor, ceiling, after in tries:
            try:
                spec = self.writing.spec(index, following=near, floor=floor, ceiling=ceiling)
                grammar = bars_gbnf([spec], spelling, start=after, max_leap=leap)
                return Free(grammar, penalty=self.long_notes, penalised=DIGITS)
            except ConstraintError:
                continue
        raise ConstraintError(
            f"no bar {index + 1} fits the rhythm and the cadence (a tunesmith bug)"
        )

    def _floor(self, index: int) -> int | None:
        """The lowest key of a later part's opening phrase, which moves up.

        The corpus's B parts open a median 3.3 semitones above their A parts; the floor is
        the first part's opening mean plus ``part_lift`` semitones, and at most an octave
        below the top of the range (a first part that opens high leaves the second room).
        """
        plan = self.writing.plan
        bar = plan.bars[index]
        lift = self.writing.rules.part_lift
        if bar.part == 0 or bar.number > plan.part_bars // 2 or lift is None:
            return None
        first = int(plan.pickup)
        opening = [
            event.pitches[-1].midi
            for written in self.bars[first : first + max(plan.part_bars // 2, 1)]
            for event in written.events
            if event.pitches
        ]
        if not opening:
            return None
        room = (
            max(p.midi for p in self.writing.pitches) - OCTAVE
        )  # an octave of the range stays open
        return min(round(sum(opening) / len(opening)) + lift, room)

    def _last_pitch(self) -> Pitch | None:
        for bar in reversed(self.bars):
            for event in reversed(bar.events):
                if event.pitches:
                    return event.pitches[-1]
        return None

    def allows(self, segment: str) -> bool:
        """Whether the bar so far keeps the musical rules (its last note counts already)."""
        if self.figures and held_too_long(self.texts, segment, self.max_chord, self.figures):
            return False  # the model's chord, held too long: another one
        try:
            bars = self.writing.spelling.read(segment)
        except GrammarError:
            return True  # a partial token the grammar allows: judged when it is whole
        if not bars:
            return True
        bar = bars[0]
        complete = bar.duration == self.writing.bar_length(self.index - 1)
        return not broken_rules(
            self.writing.rules,
            [*self.bars, bar],
            copies=self.copies,
            forbidden=self.forbidden,
            complete=complete,
            cell=self.writing.rhythm.cell_length,
            free_rhythm=self.cadences,
        )

    def judge(self, text: str, segment: str) -> int:
        """How many musical rules the bar just written breaks, with its copy where next."""
        bars = [*self.bars, self._bar(segment)]
        rules, cell = self.writing.rules, self.writing.rhythm.cell_length
        broken = broken_rules(
            rules,
            bars,
            copies=self.copies,
            forbidden=self.forbidden,
            cell=cell,
            free_rhythm=self.cadences,
        )
        following = (
            self.writing.plan.bars[len(bars)] if len(bars) < len(self.writing.plan.bars) else None
        )
        if following is not None and following.source == len(bars) - 1:
            broken += run_into_copy(rules, bars)
        return len(broken)
