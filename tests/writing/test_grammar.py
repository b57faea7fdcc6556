"""The constrained grammars: every sentence keeps every hard constraint, in either spelling."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from fractions import Fraction

import pytest

from grammar_walk import walk
from tunesmith import ComposeRequest
from tunesmith.checks.validate import validate
from tunesmith.decoding.narrow import MUSIC_ALPHABET
from tunesmith.errors import BackendError, ConstraintError
from tunesmith.model.notation import parse
from tunesmith.model.notes import duration_code
from tunesmith.model.score import Bar, Pitch
from tunesmith.music.rhythm import Cell, corpus_rhythm, drawn_index, meter_of, rhythm_for
from tunesmith.writing.grammar import BarSpec, bars_gbnf, gbnf_to_lark, grammar_alphabet
from tunesmith.writing.script import Writing, grammar_for
from tunesmith.writing.spelling import AbcSpelling, NotationSpelling

JIG = ComposeRequest(notes="A B C# F# G", style="jig", bars=16, low="A3", high="A5")


@pytest.mark.parametrize("spelling", ["abc", "notation"])
@pytest.mark.parametrize("seed", range(15))
def test_every_sentence_of_the_whole_tune_grammar_keeps_every_constraint(
    spelling: str, seed: int
) -> None:
    writing = Writing.of(JIG, spelling)
    text = walk(writing.whole_grammar(), random.Random(seed))
    written = writing.read(text)
    assert validate(writing.played(written), JIG).ok
    melody = [e.pitches[0].midi for bar in written.bars for e in bar.events if e.pitches]
    assert all(abs(b - a) <= JIG.constraints.max_leap for a, b in itertools.pairwise(melody))
    dominant = {semitone % 12 for semitone in (9 + 7, 9 + 11, 9 + 2)}  # E, G#, B over A
    fourth = [e for e in written.bars[3 + writing.plan.pickup].events if e.pitches][-1]
    assert fourth.pitches[0].midi % 12 in dominant  # bar 4 ends the first phrase, open


def _slots(bar: Bar, length: Fraction) -> list[str]:
    """A bar's slots: a pattern per cell, or a long note from a cell's start alone."""
    found: list[str] = []
    current: list[str] = []
    total = Fraction(0)
    for event in bar.events:
        code = ("" if event.pitches else "r:") + duration_code(event.duration)
        if not current and total % length == 0 and event.duration % length == 0:
            found.append(code)
        else:
            current.append(code)
        total += event.duration
        if current and total % length == 0:
            found.append(" ".join(current))
            current = []
    return found


def _cells(bar: Bar, length: Fraction) -> list[str]:
    """A bar's patterns, one per cell of ``length`` (a long note from a cell's start: alone)."""
    found, current, total = [], [], Fraction(0)
    for event in bar.events:
        current.append(("" if event.pitches else "r:") + duration_code(event.duration))
        total += event.duration
        if total % length == 0:
            found.append(" ".join(current))
            current = []
    return found


@pytest.mark.parametrize("seed", [None, *range(1, 15)])
def test_jig_bars_have_real_jigs_bar_rhythms_and_end_phrases_as_real_jigs_do(
    seed: int | None,
) -> None:
    writing = Writing.of(JIG.model_copy(update={"seed": seed}), "abc")
    written = writing.read(walk(writing.whole_grammar(), random.Random(seed)))
    measured = corpus_rhythm("jig")
    assert measured is not None
    real_bars = {tuple(bar) for tune in measured["bars"] for bar in tune}
    endings = {kind: {p for p, _ in found} for kind, found in measured["cadences"].items()}
    plan = writing.plan
    owner = [index if bar.source is None else bar.source for index, bar in enumerate(plan.bars)]
    for index, bar in enumerate(written.bars):
        cadence = plan.bars[owner[index]].cadence  # a copy ends as the bar it copies
        if plan.pickup and index == 0:  # the real tune's pickup, before the first bar line
            assert " ".join(_slots(bar, bar.duration)) in measured["pickups"]
        elif cadence is None:
            assert tuple(_slots(bar, Fraction(3, 2))) in real_bars
        else:  # a phrase ends: mid-part (half), at a part's end (full) or the tune's (final)
            kind = "final" if owner[index] == owner[plan.played()[-1]] else cadence
            *body, last = _cells(bar, Fraction(3, 2))
            assert set(body) <= {p for p, _ in measured["cells"]} | {"h."}
            assert last in endings[kind]


def test_the_seed_draws_the_rhythm_of_a_real_tunes_bars() -> None:
    rhythms = set()
    for seed in range(20):
        writing = Writing.of(ComposeRequest(style="reel", key="G", bars=16, seed=seed))
        rhythms.add(tuple(writing.spec(1).rhythm.cadence))  # bar 2: no phrase ends there
    assert len(rhythms) >= 5  # not one template for every tune


def _ending(cell: Cell | None) -> str:
    assert cell is not None
    return " ".join(
        ("r:" if rest else "") + duration_code(d)
        for d, rest in zip(cell.durations, cell.rests, strict=True)
    )


def test_the_seed_draws_each_phrase_ending_by_how_often_real_tunes_end_so() -> None:
    drawn: Counter[str] = Counter()
    for seed in range(40):
        writing = Writing.of(ComposeRequest(style="reel", key="G", bars=16, seed=seed))
        half = next(i for i, bar in enumerate(writing.plan.bars) if bar.cadence == "half")
        drawn[_ending(writing.spec(half).rhythm.cadence[-1])] += 1
    measured = corpus_rhythm("reel")
    assert measured is not None
    assert len(drawn) >= 3  # not one ending for every tune
    assert drawn.most_common(1)[0][0] == measured["cadences"]["half"][0][0]


def test_a_tune_ends_as_the_real_tune_whose_rhythm_and_pickup_it_takes() -> None:
    measured = corpus_rhythm("reel")
    assert measured is not None
    checked: Counter[bool | None] = Counter()
    for seed in range(40):
        writing = Writing.of(ComposeRequest(style="reel", key="G", bars=16, seed=seed))
        tune = drawn_index(len(measured["bars"]), seed)
        final, pickup = measured["finals"][tune], measured["pickups"][tune]
        assert writing.plan.pickup == bool(pickup)
        ending = _ending(writing.spec(len(writing.plan.bars) - 1).rhythm.cadence[-1])
        if final is not None:
            assert ending == final
            checked[pickup != ""] += 1
        else:  # that tune's last bar gives no ending: one of the style's that balances it
            left = Cell.parse(pickup).length if pickup else 0
            balancing = {
                pattern
                for pattern, _ in measured["cadences"]["final"]
                if Cell.parse(pattern).closing_rest == left
            }
            assert ending in balancing
            checked[None] += 1
    assert checked[True]  # tunes with a pickup
    assert checked[False]  # and without
    assert checked[None]  # and with no ending of its own


def test_a_tune_whose_pickup_no_real_ending_balances_ends_on_its_longest_last_note() -> None:
    # the marches' last bars leave an eighth, a dotted eighth or a sixteenth: none a quarter
    endings = set()
    for seed in range(40):
        writing = Writing.of(ComposeRequest(style="march", key="G", bars=16, seed=seed))
        last = writing.spec(len(writing.plan.bars) - 1).rhythm.cadence[-1]
        assert last is not None
        endings.add(_ending(last))
        notes = [d for d, rest in zip(last.durations, last.rests, strict=True) if not rest]
        assert max(notes) >= Fraction(1, 2), _ending(last)  # never a sixteenth to end on
    assert len(endings) >= 2


def test_a_bar_grammar_starts_within_reach_of_the_note_before_it() -> None:
    writing = Writing.of(JIG, "abc")
    first = writing.spec(writing.plan.pickup)  # the first whole bar
    grammar = bars_gbnf([first], writing.spelling, start=Pitch.parse("A3"), max_leap=5)
    for seed in range(20):
        bar = writing.read(walk(grammar, random.Random(seed))).bars[0]
        assert bar.events[0].pitches[0].midi - Pitch.parse("A3").midi <= 5


def test_the_abc_spelling_writes_accidentals_only_on_letters_that_need_them() -> None:
    meter = meter_of("4/4")
    pitches = [Pitch.parse(name) for name in ("E4", "G4", "A4", "Bb4", "B4", "D5")]
    spelling = AbcSpelling.for_pitches(meter, 1, pitches)  # E minor: F sharp
    assert spelling.explicit == {"B"}
    assert [spelling.pitch_text(p) for p in pitches] == ["E", "G", "A", "_B", "=B", "d"]


def test_the_abc_spelling_reads_what_it_writes() -> None:
    spelling = AbcSpelling.for_pitches(meter_of("6/8"), 2, [Pitch.parse("F#4")])
    bars = spelling.read("|:dfa a>ge|(3efg ag z|\nD,3 d'3:|")
    assert [[str(e.pitches[0]) if e.pitches else "r" for e in bar.events] for bar in bars] == [
        ["D5", "F#5", "A5", "A5", "G5", "E5"],
        ["E5", "F#5", "G5", "A5", "G5", "r"],
        ["D3", "D6"],
    ]
    assert [e.duration for e in bars[0].events][3:5] == [Fraction(3, 4), Fraction(1, 4)]
    assert [spelling.write(bar) for bar in bars[:1]] == ["dfa a>ge"]


def test_a_cadence_no_pitch_can_reach_is_a_constraint_error() -> None:
    rhythm = rhythm_for(meter_of("6/8"))
    spec = BarSpec(rhythm, (Pitch.parse("A4"),), cadence=True, final=frozenset({62}))
    with pytest.raises(ConstraintError, match="no 1-bar run fits"):
        bars_gbnf([spec], NotationSpelling())


def test_the_alphabet_of_a_grammar_is_the_characters_of_its_literals() -> None:
    writing = Writing.of(JIG, "abc")
    alphabet = grammar_alphabet(grammar_for(JIG, "abc"))
    assert set("ABcfg|: 2\n") <= alphabet
    assert "#" not in alphabet  # ABC writes C sharp as c under K:Amix
    assert alphabet <= set("ABCDEFGabcdefgz',|: 0123456789/\n>(^_=")  # z: the last rest
    assert writing.spelling.name == "abc"


def test_the_lark_translation_keeps_every_rule() -> None:
    gbnf = grammar_for(JIG)
    lark = gbnf_to_lark(gbnf)
    assert len(lark.splitlines()) == len(gbnf.splitlines())
    assert lark.startswith("start: ")
    assert parse(walk(gbnf, random.Random(0)))


def test_the_lark_translation_skips_comments_and_names_the_line_it_cannot_read() -> None:
    gbnf = '# tunesmith\n\nroot ::= Xbar-X " |"\n  # a bar\nXbar-X ::= ("A4:q " | "B4:q")*'
    assert gbnf_to_lark(gbnf) == 'start: xbar_x " |"\nxbar_x: ("A4:q " | "B4:q")*'
    long = "this line has no rule in it at all, and it goes on and on"
    with pytest.raises(BackendError) as caught:
        gbnf_to_lark(f'root ::= a\n\n{long}\na ::= "x"')
    assert str(caught.value).startswith(
        "grammar line 3 is not 'name ::= ...' (received 'this line has no rule in it at all, and ')"
    )
    assert caught.value.hint == "use grammar='none' with this request"
    with pytest.raises(BackendError) as caught:
        gbnf_to_lark('root ::= a\na ::= [a-z] [0-9] [A-Z] "xyz"')
    assert str(caught.value).startswith(
        "grammar line 2: the openai grammar mode cannot translate '[a-z] [0-9] [A-Z] \"x' to Lark"
    )
    assert caught.value.hint == "use grammar='none' with this request"


def test_a_bar_with_a_contour_moves_up_down_or_repeats_where_it_says() -> None:
    rhythm = rhythm_for(meter_of("6/8"))
    contour = ((Fraction(0), 1), (Fraction(1, 2), 1), (Fraction(1), 0), (Fraction(3, 2), -1))
    spec = BarSpec(rhythm, JIG.constraints.pitches, contour=contour)
    spelling = AbcSpelling.for_pitches(rhythm.meter, 2, JIG.constraints.pitches)
    grammar = bars_gbnf([spec], spelling, start=Pitch.parse("A4"))
    judged: set[Fraction] = set()
    for seed in range(20):
        [bar] = spelling.read(walk(grammar, random.Random(seed)))
        keys, offset, moves = [69], Fraction(0), {}
        for event in bar.events:
            moves[offset] = event.pitches[0].midi - keys[-1]
            keys.append(event.pitches[0].midi)
            offset += event.duration
        for at, direction in contour:
            if at in moves:
                assert (moves[at] > 0) - (moves[at] < 0) == direction, (at, moves)
                judged.add(at)
    assert judged == {at for at, _ in contour}  # every point of the contour was sounded


@pytest.mark.parametrize(
    "request_",
    [
        ComposeRequest(style="jig", key="D", bars=16),
        ComposeRequest(style="reel", key="Bb", bars=16, chords="auto"),
        ComposeRequest(style="hornpipe", key="F#", mode="minor", bars=16, chords="auto"),
        ComposeRequest(style="waltz", key="Eb", bars=16, chords=["i", "iv", "V7", "i"]),
        ComposeRequest(meter="5/8", notes=["A", "B", "C#", "F#", "G"], bars=8),
        ComposeRequest(key="G", mode="lydian", bars=8, chords=["Gmaj7", "Bm7b5", "Dsus4", "G"]),
    ],
    ids=["jig", "reel-chords", "hornpipe-minor", "waltz-numerals", "pitch-set", "lydian"],
)
def test_abc_tune_grammars_use_only_the_characters_the_narrow_model_keeps(
    request_: ComposeRequest,
) -> None:
    # the narrow copy keeps every token made of these characters, so under a tune's
    # grammar it offers exactly the tokens the whole vocabulary would
    alphabet = grammar_alphabet(Writing.of(request_, "abc").whole_grammar())
    assert alphabet <= MUSIC_ALPHABET, sorted(alphabet - MUSIC_ALPHABET)


def test_the_alphabet_reads_a_literals_escapes_as_the_characters_they_stand_for() -> None:
    gbnf = r'root ::= "a\"b" "\\" "c\n"'  # a quote, a backslash and a newline, escaped
    assert grammar_alphabet(gbnf) == frozenset('a"b\\c\n')
