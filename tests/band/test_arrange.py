"""The band: chords, bass and drums parts played from the harmony lane in each style's patterns.

Checked where a DAW reads them: the MIDI file read back with mido, track by track, and
FluidSynth's render of each part.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from band_checks import GrammarBound, assert_the_melody_fits_its_chords, chord_at, tracks
from tunesmith import ComposeRequest, ConstraintError, RequestError, compose
from tunesmith.band.arrange import BASS_RANGE, CHORD_RANGE, accompany, band_style
from tunesmith.io.audio import render_audio
from tunesmith.io.midi import DRUM_CHANNEL, midi_bytes
from tunesmith.model.notation import parse
from tunesmith.model.score import Score
from tunesmith.music.rhythm import meter_of
from tunesmith.requests.presets import style_presets

FLUIDR3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
LEAD_SHEET = parse(
    """meter: 6/8
key: D major
tempo: q.=116

D4:e F#4:e A4:e G4:q. | F#4:q. E4:q. | D4:e F#4:e A4:e B4:q. | A4:q. D4:q. |

harmony:
D:q. G:q. | D:q. A:q. | D:q. G:q. | A:q. D:q. |
"""
)


def band(style: str = "jig", **options: object) -> Score:
    return accompany(LEAD_SHEET, style=style, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("style", sorted(style_presets()))
def test_every_style_has_a_band_file_whose_patterns_fill_its_bars(style: str) -> None:
    meter = meter_of(style_presets()[style]["meter"])
    found = band_style(style, meter)
    steps = meter.bar_length / found.step
    for row in [found.chords, found.bass, *found.drums.values()]:
        assert len(row) % steps == 0, (style, row)
    assert found.drums, "every style has a drum pattern"


def test_a_meter_no_band_file_has_gets_a_pattern_from_its_beats() -> None:
    found = band_style("jig", meter_of("7/8"))  # the jig's file is in 6/8
    assert (found.bass, found.chords) == ("1-5-5--", ".x.x.xx")  # bass on 2+2+3, chords between
    assert found.drums["kick"] == "x.x.x.."


def test_one_midi_track_per_part_the_drums_on_channel_10() -> None:
    found = tracks(midi_bytes(band()))
    names = [track.name for track in found]
    assert names == ["Acoustic Grand Piano", "Acoustic Guitar (steel)", "Acoustic Bass", "Drums"]
    channels = [track.channel for track in found]
    assert channels[-1] == DRUM_CHANNEL
    assert DRUM_CHANNEL not in channels[:-1]
    assert len(set(channels)) == len(channels)
    assert [track.program for track in found[1:]] == [25, 32, 0]


def test_drums_alone_play_under_a_tune_without_chords_a_pickup_as_well() -> None:
    composition = compose(style="jig", key="D", bars=16, seed=2, parts=["melody", "drums"])
    melody, drums = composition.score.parts
    assert (drums.role, composition.score.harmony) == ("drums", ())
    assert [bar.duration for bar in drums.bars] == [bar.duration for bar in melody.bars]
    assert melody.bars[0].duration == Fraction(1, 2)  # its real tune's pickup
    assert tracks(composition.to_midi_bytes())[-1].channel == DRUM_CHANNEL
    with pytest.raises(ConstraintError, match="no chords to accompany"):
        accompany(composition.score, ("bass",))


def test_the_chords_part_plays_the_chord_sounding_there_voiced_close_and_smoothly() -> None:
    score = band()
    chords = tracks(midi_bytes(score))[1]
    by_onset = itertools.groupby(sorted(chords.notes, key=lambda n: n[1]), key=lambda n: n[1])
    voicings = []
    for onset, notes in by_onset:
        keys = sorted(key for key, _, _, _ in notes)
        assert {key % 12 for key in keys} <= chord_at(score.harmony, onset).semitones
        assert CHORD_RANGE[0] <= keys[0]
        assert keys[-1] <= CHORD_RANGE[1]
        assert keys[-1] - keys[0] <= 12, "close position"
        voicings.append(keys)
    for before, after in itertools.pairwise(voicings):  # smooth: no voice leaps a fifth
        assert all(abs(a - b) <= 7 for a, b in zip(before, after, strict=False)), (before, after)


def test_the_bass_plays_in_the_bass_range_on_the_chords_roots_on_strong_beats() -> None:
    score = band()
    bass = tracks(midi_bytes(score))[2]
    assert all(BASS_RANGE[0] <= key <= BASS_RANGE[1] for key, _, _, _ in bass.notes)
    for key, onset, _, _ in bass.notes:
        chord = chord_at(score.harmony, onset)
        if onset % 3 == 0:  # each bar's downbeat: the root
            assert key % 12 == chord.root.semitone


def test_the_bass_steps_onto_the_next_bars_root() -> None:
    bass = tracks(midi_bytes(band()))[2]  # the jig's bass: 1-.5-a
    approach = next(key for key, onset, _, _ in bass.notes if onset == Fraction(5, 2))
    downbeat = next(key for key, onset, _, _ in bass.notes if onset == 3)
    assert 1 <= abs(approach - downbeat) <= 2


def test_the_drums_play_the_styles_general_midi_kit() -> None:
    waltz = parse("meter: 3/4\n\nF4:h A4:q | C5:h. |\n\nharmony:\nF:h. | F:h. |\n")
    drums = tracks(midi_bytes(accompany(waltz, style="waltz")))[-1]
    assert drums.program == 40  # the brush kit
    assert {key for key, _, _, _ in drums.notes} >= {36, 38}  # kick and snare


def test_levels_keep_the_melody_in_front() -> None:
    melody, *accompaniment = tracks(midi_bytes(band()))
    loudness = {onset: velocity for _, onset, _, velocity in melody.notes}
    together = [
        (velocity, loudness[onset])
        for track in accompaniment
        for _, onset, _, velocity in track.notes
        if onset in loudness
    ]
    assert together
    assert all(velocity < melody for velocity, melody in together)


def test_the_last_bar_holds_its_chord_to_the_end() -> None:
    score = band()
    last = score.parts[1].bars[-1]
    assert [event.duration for event in last.events] == [Fraction(3, 2), Fraction(3, 2)]


def test_instruments_and_parts_are_chosen_by_name() -> None:
    score = band(parts=("chords", "bass"), instruments={"chords": "accordion", "bass": "cello"})
    assert [(part.role, part.program) for part in score.parts] == [
        ("melody", 0),
        ("chords", 21),
        ("bass", 42),
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"parts": ("chords", "flute")}, "unknown part 'flute': the band's parts are chords"),
        ({"instruments": {"chords": "kazooo"}}, "the chords part: unknown instrument 'kazooo'"),
        ({"instruments": {"drums": "tabla"}}, "unknown drum kit 'tabla' for the drums part"),
    ],
)
def test_an_unknown_part_or_instrument_is_a_request_error_naming_it(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(RequestError, match=message):
        band(**options)


def test_a_score_without_chords_has_nothing_to_accompany() -> None:
    with pytest.raises(RequestError, match="no chords to accompany"):
        accompany(Score(LEAD_SHEET.header, LEAD_SHEET.parts))


# -- the band in compose() ------------------------------------------------------------------


def test_band_true_is_melody_chords_bass_and_drums_under_auto_chords() -> None:
    request = ComposeRequest(style="reel", key="G", band=True)
    assert request.part_names == ("melody", "chords", "bass", "drums")
    assert request.progression == "auto"
    composition = compose(request, backend=GrammarBound(seed=4))
    found = tracks(composition.to_midi_bytes())
    assert [track.name for track in found] == [
        "Violin",
        "Acoustic Guitar (steel)",
        "Acoustic Bass",
        "Drums",
    ]
    assert found[-1].channel == DRUM_CHANNEL
    assert_the_melody_fits_its_chords(composition)
    assert composition.score.expanded().bar_count == 32  # the band plays the repeats too


def test_parts_and_instruments_choose_the_band() -> None:
    composition = compose(
        style="waltz",
        key="F",
        bars=16,
        parts=["melody", "chords", "bass"],
        instruments={"chords": "accordion"},
        backend=GrammarBound(seed=5),
    )
    assert [(p.role, p.program) for p in composition.score.parts] == [
        ("melody", 21),
        ("chords", 21),
        ("bass", 32),
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"parts": ["melody", "tuba"]}, "unknown part 'tuba': the parts are melody, chords"),
        ({"parts": ["bass"]}, "parts must include 'melody'"),
        ({"instruments": {"bass": "cello"}}, "names the part 'bass', which is not asked for"),
        ({"band": True, "instruments": {"bass": "kazooo"}}, "the bass part: unknown instrument"),
        ({"band": True, "instruments": {"melody": "flute"}}, "give the melody's as instrument="),
        ({"band": True, "instruments": "bass"}, "instruments must pair parts with instruments"),
    ],
)
def test_a_bad_band_option_is_a_request_error_saying_what_to_change(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(RequestError, match=message):
        ComposeRequest(**options)


# -- audio ------------------------------------------------------------------------------------


def spectrum(score: Score) -> npt.NDArray[np.float64]:
    mono = render_audio(midi_bytes(score), soundfont=FLUIDR3, reverb=False).mean(axis=1)
    magnitude = np.abs(np.fft.rfft(mono[: 4 * 44100]))
    return np.asarray(magnitude / magnitude.sum(), dtype=np.float64)


@pytest.mark.skipif(not FLUIDR3.is_file(), reason="apt-get install fluid-soundfont-gm")
def test_fluidsynth_renders_each_part_audibly_and_each_sounds_different() -> None:
    score = band()
    alone = {part.role: Score(score.header, (part,)) for part in score.parts}
    spectra = {}
    for role, single in alone.items():
        samples = render_audio(midi_bytes(single), soundfont=FLUIDR3)
        assert float(np.sqrt(np.mean(np.square(samples)))) > 0.01, f"{role} is audible"
        spectra[role] = spectrum(single)
    for first, second in itertools.combinations(spectra, 2):
        assert np.abs(spectra[first] - spectra[second]).sum() > 0.3, (first, second)
