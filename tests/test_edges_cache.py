"""The model cache at its edges: damaged, copied or read-only, it never changes a tune.

Issue 20, item 17. Each test copies a healthy cache (the embedded model, its narrow copy and
a prefix state, made once per module) into a folder of its own, named by ``TUNESMITH_CACHE``,
and damages the copy: a damaged file is made again (and the log says so), never used; a
cache that cannot be written still composes; the same seed gives the same tune throughout.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tunesmith.backends.local import LocalBackend, embedded_model_path
from tunesmith.decoding.narrow import narrow_model

pytestmark = pytest.mark.model

COMPOSE = [
    *("compose", "--notes", "A B C# F# G", "--meter", "6/8", "--bars", "2"),
    *("--low", "A4", "--high", "A5", "--seed", "7", "--text", "tune.txt"),
]
MODEL = "gemma-3-270m-q4_k_m.gguf"
"""The embedded model's file in the cache (253,113,024 bytes)."""


@dataclass(frozen=True)
class Healthy:
    """A cache as tunesmith leaves it, and the tune it composes (``COMPOSE``)."""

    cache: Path
    narrow: Path
    """The narrow copy in ``cache``."""
    tune: str


def tunesmith(cache: Path, cwd: Path, *prefix: str) -> subprocess.CompletedProcess[str]:
    """``tunesmith COMPOSE`` in a process of its own on ``cache`` (after ``prefix``, if any)."""
    return subprocess.run(
        [*prefix, sys.executable, "-m", "tunesmith.app.cli", *COMPOSE],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        timeout=600,
        env={**os.environ, "TUNESMITH_CACHE": str(cache)},
    )


def composed(result: subprocess.CompletedProcess[str], cwd: Path) -> str:
    """The tune a run wrote, checked to have run without a traceback."""
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return (cwd / "tune.txt").read_text()


@pytest.fixture(scope="module")
def llm() -> Any:
    """The embedded model, loaded as the decoding loop loads it."""
    return LocalBackend(adapter=None).llama


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory, llm: Any) -> Healthy:
    """The embedded model and its narrow copy (checked, from the default cache), and the
    prefix state and tune of one composition in a cache of their own.
    """
    folder = tmp_path_factory.mktemp("healthy")
    cache = folder / "cache"
    cache.mkdir()
    source = embedded_model_path()
    copy = narrow_model(source, llm, source.parent)
    assert copy is not None
    for made in (source, copy.path, copy.path.with_suffix(".npz")):
        shutil.copy(made, cache)
    tune = composed(tunesmith(cache, folder), folder)
    assert len(list((cache / "prefixes").glob("*.state"))) == 1
    return Healthy(cache, cache / copy.path.name, tune)


def copy_of(healthy: Healthy, folder: Path) -> Path:
    """A copy of the healthy cache in ``folder``: new paths, new times, the same bytes."""
    return Path(shutil.copytree(healthy.cache, folder / "cache", copy_function=shutil.copy))


def files(cache: Path) -> list[str]:
    return sorted(str(path.relative_to(cache)) for path in cache.rglob("*") if path.is_file())


def test_a_copied_cache_is_used_as_it_is_and_composes_the_same_tune(
    healthy: Healthy, tmp_path: Path
) -> None:
    cache = copy_of(healthy, tmp_path)
    before = {name: (cache / name).stat().st_mtime_ns for name in files(cache)}
    assert composed(tunesmith(cache, tmp_path), tmp_path) == healthy.tune
    # no new narrow copy or prefix state: they are named by content, not by path or time
    assert files(cache) == files(healthy.cache)
    assert (cache / healthy.narrow.name).stat().st_mtime_ns == before[healthy.narrow.name]


def truncate(gguf: Path, facts: Path) -> None:
    gguf.write_bytes(gguf.read_bytes()[: gguf.stat().st_size // 2])


def overwrite_16_bytes(gguf: Path, facts: Path) -> None:
    # in a layer's weights: llama.cpp loads the copy without a word, and seed 7 composes
    # another tune on it
    with gguf.open("r+b") as file:
        file.seek(gguf.stat().st_size // 2)
        file.write(bytes(range(16)))


def garbage_facts(gguf: Path, facts: Path) -> None:
    facts.write_bytes(bytes(range(256)) * 20)


def empty_facts(gguf: Path, facts: Path) -> None:
    facts.write_bytes(b"")


@pytest.mark.parametrize(
    "damage",
    [truncate, overwrite_16_bytes, garbage_facts, empty_facts],
    ids=["truncated", "16 bytes overwritten", "facts not an npz", "facts empty"],
)
def test_a_damaged_narrow_copy_is_made_again_not_used(
    healthy: Healthy,
    tmp_path: Path,
    llm: Any,
    caplog: pytest.LogCaptureFixture,
    damage: Callable[[Path, Path], None],
) -> None:
    cache = copy_of(healthy, tmp_path)
    gguf = cache / healthy.narrow.name
    damage(gguf, gguf.with_suffix(".npz"))
    with caplog.at_level(logging.WARNING, logger="tunesmith.decoding.narrow"):
        copy = narrow_model(cache / MODEL, llm, cache)
    assert copy is not None
    assert copy.path == gguf
    assert f"making the narrow copy of {cache / MODEL} again" in caplog.text
    assert gguf.read_bytes() == healthy.narrow.read_bytes()  # the same copy, whole again
    assert files(cache) == files(healthy.cache)  # and no other


def test_a_new_narrow_copy_removes_the_ones_made_before_from_the_same_model(
    healthy: Healthy, tmp_path: Path, llm: Any
) -> None:
    cache = copy_of(healthy, tmp_path)
    gguf = cache / healthy.narrow.name
    stem = MODEL.removesuffix(".gguf")
    # as an older llama.cpp would have named it; and a copy whose facts were lost
    gguf.rename(cache / f"{stem}.narrow-0123456789abcdef.gguf")
    gguf.with_suffix(".npz").rename(cache / f"{stem}.narrow-0123456789abcdef.npz")
    (cache / f"{stem}.narrow-fedcba9876543210.gguf").write_bytes(b"GGUF" + bytes(60))
    copy = narrow_model(cache / MODEL, llm, cache)
    assert copy is not None
    assert files(cache) == files(healthy.cache)


def zero_8_bytes(path: Path) -> None:
    # in the prompt's KV state, which llama.cpp loads without a word (before states were
    # checked, 8 bytes zeroed there gave seed 7 another tune)
    with path.open("r+b") as file:
        file.seek(path.stat().st_size // 2)
        file.write(bytes(8))


def test_prefix_states_with_bytes_zeroed_are_evaluated_again_and_the_tune_is_the_same(
    healthy: Healthy, tmp_path: Path
) -> None:
    cache = copy_of(healthy, tmp_path)
    [state] = (cache / "prefixes").glob("*.state")
    zero_8_bytes(state)
    result = tunesmith(cache, tmp_path)
    assert composed(result, tmp_path) == healthy.tune
    assert f"evaluating the prompt prefix again: {state} is damaged" in result.stderr
    assert state.read_bytes() == (healthy.cache / "prefixes" / state.name).read_bytes()


def test_a_truncated_model_is_assembled_again_and_the_tune_is_the_same(
    healthy: Healthy, tmp_path: Path
) -> None:
    cache = copy_of(healthy, tmp_path)
    model = cache / MODEL
    model.write_bytes(model.read_bytes()[:1_000_000])
    result = tunesmith(cache, tmp_path)
    assert composed(result, tmp_path) == healthy.tune
    assert f"assembled the embedded model again: {model} was truncated" in result.stderr
    assert model.read_bytes() == (healthy.cache / MODEL).read_bytes()
    assert files(cache) == files(healthy.cache)


@pytest.fixture
def read_only() -> Iterator[Callable[[Path], list[str]]]:
    """Makes a cache read-only for a command: a command prefix to run it under.

    Root passes every permission check, so for root the cache is bound read-only in a mount
    namespace of the command's own (``unshare``); for others its folders lose write
    permission (given back after the test).
    """
    folders: list[Path] = []

    def make(cache: Path) -> list[str]:
        if os.geteuid() != 0:
            folders.extend([cache, *(path for path in cache.rglob("*") if path.is_dir())])
            for folder in folders:
                folder.chmod(0o555)
            return []
        if shutil.which("unshare") is None:
            pytest.skip("root without unshare(1) cannot make a read-only cache")
        probe = subprocess.run(
            ["unshare", "-m", "sh", "-c", 'mount --bind -o ro "$0" "$0"', str(cache)],
            capture_output=True,
            check=False,
        )
        if probe.returncode:
            pytest.skip(f"root cannot make a read-only mount here: {probe.stderr!r}")
        mount = 'mount --bind -o ro "$0" "$0" && exec "$@"'
        return ["unshare", "-m", "sh", "-c", mount, str(cache)]

    yield make
    for folder in folders:
        folder.chmod(0o755)


def test_a_read_only_cache_without_prefix_states_composes_the_same_tune(
    healthy: Healthy, tmp_path: Path, read_only: Callable[[Path], list[str]]
) -> None:
    cache = copy_of(healthy, tmp_path)
    for state in (cache / "prefixes").glob("*.state"):
        state.unlink()
    before = files(cache)
    result = tunesmith(cache, tmp_path, *read_only(cache))
    assert composed(result, tmp_path) == healthy.tune
    assert files(cache) == before


def test_a_damaged_narrow_copy_in_a_read_only_cache_is_not_used(
    healthy: Healthy, tmp_path: Path, read_only: Callable[[Path], list[str]]
) -> None:
    cache = copy_of(healthy, tmp_path)
    overwrite_16_bytes(cache / healthy.narrow.name, cache / "unused")
    result = tunesmith(cache, tmp_path, *read_only(cache))
    assert composed(result, tmp_path) == healthy.tune  # on the whole vocabulary: slower
    assert "is damaged" in result.stderr
    assert "decoding on the whole vocabulary" in result.stderr


def test_a_truncated_model_in_a_read_only_cache_says_in_one_line_what_to_do(
    healthy: Healthy, tmp_path: Path, read_only: Callable[[Path], list[str]]
) -> None:
    cache = copy_of(healthy, tmp_path)
    model = cache / MODEL
    model.write_bytes(model.read_bytes()[:1_000_000])
    result = tunesmith(cache, tmp_path, *read_only(cache))
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(
        f"tunesmith: error: {model} is truncated or grown (1,000,000 bytes, not 253,113,024), "
        f"and the embedded model cannot be assembled in {cache}: "
    )
    assert "set TUNESMITH_CACHE to a writable folder" in result.stderr
    assert "overwrite=True" not in result.stderr
