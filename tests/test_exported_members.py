"""The public API is exactly what __all__ declares."""

import types

import tunesmith


def test_the_package_exports_exactly_the_public_api() -> None:
    exported = {
        name
        for name, value in vars(tunesmith).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert exported | {"OpenAIBackend"} == set(tunesmith.__all__)  # imported lazily
    assert tunesmith.OpenAIBackend.__name__ == "OpenAIBackend"
    assert set(tunesmith.__all__) == {
        "Backend",
        "BackendError",
        "Bar",
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
        "Score",
        "ScoreError",
        "SoundfontError",
        "Tune",
        "TunesmithError",
        "compose",
        "compose_async",
        "compose_many",
        "format",
        "parse",
        "read_score",
        "repair",
        "validate",
    }


def test_every_error_is_a_tunesmith_error() -> None:
    errors = [getattr(tunesmith, name) for name in tunesmith.__all__ if name.endswith("Error")]
    assert all(issubclass(error, tunesmith.TunesmithError) for error in errors)


def test_importing_tunesmith_does_not_import_heavy_dependencies() -> None:
    import subprocess
    import sys

    heavy = ("music21", "llama_cpp", "fluidsynth", "openai")
    code = f"import sys, tunesmith; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "[]"
