"""The public API is exactly what __all__ declares."""

import types

import pytest

import tunesmith


def test_the_package_exports_exactly_the_public_api() -> None:
    exported = {
        name
        for name, value in vars(tunesmith).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert exported == set(tunesmith.__all__)
    assert tunesmith.OpenAIBackend.__name__ == "OpenAIBackend"
    assert set(tunesmith.__all__) == {
        "Backend",
        "BackendError",
        "Bar",
        "ChordError",
        "ChordSymbol",
        "ComposeRequest",
        "Composition",
        "CompositionError",
        "ConstraintError",
        "DependencyError",
        "Drum",
        "Event",
        "ExportError",
        "GrammarError",
        "Header",
        "Key",
        "LocalBackend",
        "NotationError",
        "NoteNameError",
        "OpenAIBackend",
        "Part",
        "Pitch",
        "PitchClass",
        "ReadError",
        "Repeat",
        "Report",
        "RequestError",
        "RequestTypeError",
        "Score",
        "ScoreError",
        "SoundfontError",
        "TunesmithError",
        "compose",
        "compose_async",
        "compose_many",
        "continue_score",
        "harmonise",
        "infill",
        "interpret",
        "parse",
        "read_score",
        "repair",
        "unparse",
        "validate",
        "vary",
        "write_score",
    }


def test_a_renamed_public_name_says_what_replaces_it() -> None:
    with pytest.raises(AttributeError, match=r"tunesmith.format is gone: use tunesmith.unparse"):
        tunesmith.format  # noqa: B018 - the attribute access is the test
    with pytest.raises(AttributeError, match=r"tunesmith.Tune is gone: the data model is the Sc"):
        tunesmith.Tune  # noqa: B018 - the attribute access is the test


def test_every_error_is_a_tunesmith_error() -> None:
    errors = [getattr(tunesmith, name) for name in tunesmith.__all__ if name.endswith("Error")]
    assert all(issubclass(error, tunesmith.TunesmithError) for error in errors)


def test_every_error_is_also_the_built_in_error_whose_meaning_it_shares() -> None:
    expected = {
        "RequestError": ValueError,
        "RequestTypeError": TypeError,
        "NoteNameError": ValueError,
        "ConstraintError": ValueError,
        "ChordError": ValueError,
        "GrammarError": ValueError,
        "NotationError": ValueError,
        "BackendError": RuntimeError,
        "DependencyError": ImportError,
        "CompositionError": RuntimeError,
        "ExportError": OSError,
        "SoundfontError": OSError,
    }
    for name, built_in in expected.items():
        assert issubclass(getattr(tunesmith, name), built_in), name
    assert not issubclass(tunesmith.DependencyError, tunesmith.BackendError)  # FluidSynth too
    assert tunesmith.DependencyError("x", hint="pip install y").hint == "pip install y"


def test_importing_tunesmith_does_not_import_heavy_dependencies() -> None:
    import subprocess
    import sys

    heavy = ("music21", "llama_cpp", "fluidsynth", "openai", "pretty_midi")
    code = f"import sys, tunesmith; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "[]"


def test_a_first_request_warns_about_nothing() -> None:
    import subprocess
    import sys

    code = "from tunesmith import ComposeRequest; ComposeRequest(instrument='flute', key='D')"
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True)


def test_nothing_but_the_tune_reaches_stdout_even_where_ci_is_set() -> None:
    """pyfluidsynth, which pretty_midi imports, prints where it found libfluidsynth if $CI."""
    import os
    import subprocess
    import sys

    code = (
        "from tunesmith import parse; from tunesmith.requests.presets import gm_instruments; "
        "from tunesmith.io.midi import midi_bytes; "
        "gm_instruments(); midi_bytes(parse('A4:q B4:q C5:h |'))"
    )
    env = {**os.environ, "CI": "true"}
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert output.stdout == ""
