"""harmonise() heard by a musician (issue 20, item 22): no chord against a held note, a
chord held until the melody moves it, a minor tune's last cadence V-i, and a bass that
plays a new chord's root where it changes.

The tune is The Enchanted Valley (O'Neill's 1850, no. 1), a very slow air in G minor
written in sixteenths: its eighths are held notes, its cadence ``(d2{ed}c>A) | G2G2 G2z2``.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from corpus_tunes import abc_of
from tunesmith import harmonise, read_score
from tunesmith.band.arrange import accompany
from tunesmith.band.harmonise import clashes
from tunesmith.io.midi import sounding_notes
from tunesmith.model.notation import parse
from tunesmith.model.score import ChordSymbol, Score
from tunesmith.music.chords import Chord
from tunesmith.music.harmony import chord_at

ENCHANTED_VALLEY = "oneills1850/0001-0050.abc#1"


@pytest.fixture(scope="module")
def valley(tmp_path_factory: pytest.TempPathFactory) -> Score:
    path = tmp_path_factory.mktemp("valley") / "tune.abc"
    path.write_text(abc_of(ENCHANTED_VALLEY), "utf-8")
    return read_score(path)


@pytest.fixture(scope="module")
def harmonised(valley: Score) -> Score:
    return harmonise(valley).score


def chords_under(lane: tuple[ChordSymbol, ...], onset: Fraction, end: Fraction) -> list[Chord]:
    """The chords sounding at any time from ``onset`` to ``end``."""
    return [
        Chord.parse(symbol.figure) for symbol in lane if symbol.onset < end and symbol.end > onset
    ]


# -- a held note: no chord that clashes with it ----------------------------------------------


@pytest.mark.parametrize(
    ("note", "chord", "clash"),
    [
        ("A", "Cm", True),  # a tritone from its E flat
        ("F", "D", True),  # a semitone from its F sharp
        ("G", "D", True),  # a semitone above its F sharp
        ("A", "Gm", False),  # an added ninth
        ("E", "G", False),  # an added sixth
        ("C", "D", False),  # a seventh: D7
        ("C", "Gm", False),  # an eleventh over a minor chord
        ("D", "D", False),  # its root
    ],
)
def test_a_note_clashes_with_a_chord_a_semitone_or_tritone_from_its_tones(
    note: str, chord: str, clash: bool
) -> None:
    semitone = {"A": 9, "C": 0, "D": 2, "E": 4, "F": 5, "G": 7}[note]
    assert clashes(semitone, Chord.parse(chord)) is clash


def test_no_chord_sounds_against_a_held_note_of_a_slow_air(
    valley: Score, harmonised: Score
) -> None:
    """Its eighths (twice its sixteenths, half a beat) are held: the A of ``(g2a2 b2).g2``
    once had C minor under it."""
    held = [
        (onset, length, key)
        for key, onset, length in sounding_notes(valley.melody.tune)
        if length >= Fraction(1, 2)
    ]
    assert any(key % 12 == 9 for _, _, key in held)  # held As
    for onset, length, key in held:
        for chord in chords_under(harmonised.harmony, onset, onset + length):
            assert not clashes(key % 12, chord), (onset, key, chord.figure)


def test_a_held_note_keeps_away_a_chord_that_fits_the_rest_of_its_beat() -> None:
    """G then an A held over the second beat (eighths, in a tune of sixteenths): C minor
    holds the G, but its E flat grinds against the A."""
    score = parse("meter: 2/4\nkey: G minor\n\nG4:s A4:s Bb4:s C5:s G4:e A4:e | G4:h |\n")
    lane = harmonise(score, parts=(), rhythm="beat").score.harmony
    assert [c.figure for c in chords_under(lane, Fraction(3, 2), Fraction(2))] == ["Gm"]


def test_a_chord_stays_until_the_melody_moves_it(valley: Score, harmonised: Score) -> None:
    """``G2G2 G3G``, a bar of Gs in G minor: G minor held, not G minor to C minor (a fifth
    down once earned a change the notes did not ask for)."""
    start = sum(valley.bar_lengths[:14], Fraction(0))
    bar = valley.melody.bars[14]
    assert {p.midi % 12 for e in bar.events for p in e.pitches} == {7}  # only Gs
    under = chords_under(harmonised.harmony, start, start + valley.bar_lengths[14])
    assert [c.figure for c in under] == ["Gm"]


# -- the final cadence: V-i where the melody allows -------------------------------------------


def test_a_minor_tunes_last_cadence_is_its_major_dominant_then_its_tonic(
    valley: Score, harmonised: Score
) -> None:
    """``D C A | G`` is D then G minor, the tonic from the last bar's downbeat to the end."""
    last_bar = valley.duration - valley.bar_lengths[-1]
    *_, dominant, tonic = harmonised.harmony
    assert (dominant.figure, tonic.figure) == ("D", "Gm")  # F sharp, the leading tone
    assert (dominant.end, tonic.onset, tonic.end) == (last_bar, last_bar, valley.duration)


def test_a_note_both_chords_hold_before_the_last_tonic_is_heard_as_the_dominant() -> None:
    """A held D, the fifth of G minor and the root of D, before the last G: V-i."""
    score = parse(
        "meter: 2/4\nkey: G minor\n\nG4:q Bb4:q | D5:q C5:q | Bb4:q G4:q | D5:h | G4:h |\n"
    )
    lane = harmonise(score, parts=()).score.harmony
    assert chord_at(lane, Fraction(7)) == Chord.parse("D")
    assert (lane[-1].figure, lane[-1].onset, lane[-1].end) == ("Gm", Fraction(8), Fraction(10))


def test_the_cadence_waits_for_the_melody_to_come_home() -> None:
    """A last bar ``B A``, a chord a beat: V under the B, then the tonic from the A to the end
    (not D minor under the A, with the tonic only on the last beat)."""
    score = parse(
        "meter: 3/4\nkey: A minor\n\n"
        "E4:q A4:q C5:q | B4:q G#4:q E4:q | A4:q C5:q E5:q | D5:h C5:q | B4:q A4:h |\n"
    )
    chords = harmonise(score, parts=(), rhythm="beat").score.harmony
    assert [(c.figure, c.onset, c.end) for c in chords[-2:]] == [
        ("E", Fraction(12), Fraction(13)),
        ("Am", Fraction(13), Fraction(15)),
    ]


# -- the bass: a new chord from its root -----------------------------------------------------


def bass_at_changes(score: Score) -> list[tuple[Fraction, int, Chord]]:
    """(onset, key, chord) of each bass note struck where a chord starts within a bar."""
    bass = next(part for part in score.parts if part.role == "bass")
    starts = {sum(score.bar_lengths[:i], Fraction(0)) for i in range(score.bar_count)}
    changes = {symbol.onset for symbol in score.harmony} - starts
    found = []
    for key, onset, _ in sounding_notes(bass.tune):
        chord = chord_at(score.harmony, onset)
        if onset in changes and chord is not None:
            found.append((onset, key, chord))
    return found


def test_the_bass_plays_a_chord_changing_mid_bar_from_its_root(harmonised: Score) -> None:
    struck = bass_at_changes(harmonised)
    assert len(struck) >= 5  # the air changes chord on its second beat
    assert [key % 12 for _, key, _ in struck] == [c.root.semitone for _, _, c in struck]


@pytest.mark.parametrize("style", ["hornpipe", "jig", "reel", "march", "folk"])
def test_every_bands_bass_plays_the_root_where_the_chord_changes(style: str) -> None:
    """Each style's bass pattern plays its fifth on the second strong beat, over the same
    chord; over a new chord there, the root (G, not its fifth D)."""
    meter = {"hornpipe": "4/4", "jig": "6/8", "reel": "2/2", "march": "2/4", "folk": "4/4"}[style]
    half = {"4/4": "h", "6/8": "q.", "2/2": "h", "2/4": "q"}[meter]
    bar = {"4/4": "D4:w", "6/8": "D4:h.", "2/2": "D4:w", "2/4": "D4:h"}[meter]
    lead = parse(
        f"meter: {meter}\nkey: D major\n\n{bar} | {bar} |\n\nharmony:\n"
        f"D:{half} G:{half} | A:{half} D:{half} |\n"
    )
    struck = bass_at_changes(accompany(lead, style=style))
    assert [(key % 12, chord.figure) for _, key, chord in struck] == [(7, "G"), (2, "D")]
