"""Finding the soundfont to render with: explicit, the environment, a folder, the system.

:func:`find_soundfont` picks one, in the order its docstring gives; :func:`soundfont_candidates`
lists every soundfont the search would consider, with where each came from.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path

from tunesmith.errors import SoundfontError

__all__ = [
    "INSTALL_SOUNDFONT",
    "SOUNDFONT_SUFFIXES",
    "SYSTEM_SOUNDFONTS",
    "find_soundfont",
    "soundfont_candidates",
]

SYSTEM_SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/soundfonts/*.sf2",
    "/usr/share/sounds/sf3/*.sf3",
)
"""Where the system's soundfonts are looked for, in order (glob patterns)."""
SOUNDFONT_SUFFIXES = (".sf2", ".sf3")
"""The suffixes of the soundfont files looked for in a folder."""
INSTALL_SOUNDFONT = (
    "install a General MIDI soundfont with `apt-get install fluid-soundfont-gm`, put a .sf2 "
    "or .sf3 file in the soundfonts folder, set TUNESMITH_SOUNDFONT, or pass soundfont="
)
"""How to get a soundfont, for the end of an error that found none it could use."""


def _soundfont_folder() -> Path:
    """The project's soundfont folder: $TUNESMITH_SOUNDFONT_DIR, else ./soundfonts."""
    return Path(os.environ.get("TUNESMITH_SOUNDFONT_DIR") or Path.cwd() / "soundfonts")


def _folder_fonts(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.iterdir()
        if path.suffix.lower() in SOUNDFONT_SUFFIXES and path.is_file()
    )


def _matches(pattern: str) -> list[Path]:
    return [path for path in map(Path, sorted(glob.glob(pattern))) if path.is_file()]


def soundfont_candidates(*, system: Sequence[str] = SYSTEM_SOUNDFONTS) -> list[tuple[str, Path]]:
    """Every soundfont the search would consider, in order, with where it came from.

    ``system`` replaces the system's places (glob patterns), like ``shutil.which``'s
    ``path``.
    """
    found: list[tuple[str, Path]] = []
    if value := os.environ.get("TUNESMITH_SOUNDFONT"):
        found.append(("TUNESMITH_SOUNDFONT", Path(value)))
    found += [("soundfonts folder", path) for path in _folder_fonts(_soundfont_folder())]
    for pattern in system:
        found += [("system", path) for path in _matches(pattern) if ("system", path) not in found]
    return found


def find_soundfont(
    explicit: str | os.PathLike[str] | None = None, *, system: Sequence[str] = SYSTEM_SOUNDFONTS
) -> Path:
    """The soundfont to render with.

    The search order: ``explicit``; ``$TUNESMITH_SOUNDFONT``; the project's soundfont
    folder (``$TUNESMITH_SOUNDFONT_DIR``, else ``./soundfonts``), its first ``*.sf2`` or
    ``*.sf3``; then the system's places, :data:`SYSTEM_SOUNDFONTS` (or ``system``).
    A path given explicitly or in the environment must exist: a typo is an error, not a
    reason to quietly use another soundfont.

    Raises
    ------
    SoundfontError
        Naming the missing path, or every place tried and how to install a soundfont.
    """
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise SoundfontError(
                f"soundfont {path} does not exist (given as soundfont=); "
                "pass the path of a .sf2 or .sf3 file"
            )
        return path
    if value := os.environ.get("TUNESMITH_SOUNDFONT"):
        if not Path(value).is_file():
            raise SoundfontError(
                f"TUNESMITH_SOUNDFONT={value} does not exist; "
                "point it at a .sf2 or .sf3 file, or unset it"
            )
        return Path(value)
    if candidates := soundfont_candidates(system=system):
        return candidates[0][1]
    tried = ["soundfont= (not given)", "TUNESMITH_SOUNDFONT (not set)"]
    tried += [f"{_soundfont_folder() / '*'}{suffix}" for suffix in SOUNDFONT_SUFFIXES]
    tried += system
    raise SoundfontError(f"no soundfont found; tried {', '.join(tried)}; {INSTALL_SOUNDFONT}")
