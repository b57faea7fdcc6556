"""What the MCP server's tools may write and take: the output folder and argument checks.

:class:`OutputFolder` is the one folder the tools write in: a name that is empty, absolute,
climbs out with ``..``, leads out through a symbolic link or has a suffix no writer takes is
refused, as are more than :data:`MAX_FILES` files in one call. :func:`check_arguments`
refuses an argument a tool does not take, or one of another JSON type than its schema says.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from tunesmith.errors import RequestError, RequestTypeError
from tunesmith.io.write import FORMATS

__all__ = ["MAX_FILES", "SUFFIXES", "OutputFolder", "check_arguments"]

MAX_NAME = 200
"""The longest file name a tool takes, in characters."""
MAX_FILES = 16
"""The most files one call writes."""
_JSON_TYPES: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "string": ("a string", lambda value: isinstance(value, str)),
    "integer": ("an integer", lambda value: type(value) is int),
    "number": ("a number", lambda value: type(value) in {int, float}),
    "boolean": ("a boolean", lambda value: isinstance(value, bool)),
    "array": ("an array", lambda value: isinstance(value, list) or _json_array(value)),
    "object": ("an object", lambda value: isinstance(value, dict)),
    "null": ("null", lambda value: value is None),
}
"""Each JSON schema type: its name in words, and whether a value is of it."""
SUFFIXES = tuple(FORMATS)
"""The suffixes a file may end in (each picks the format it writes)."""


class OutputFolder:
    """The one folder the server writes in; every name is checked to stay inside it."""

    def __init__(self, root: str | Path) -> None:
        folder = Path(root)
        if not folder.is_dir():
            raise RequestError(f"the output folder {folder} does not exist; create it first")
        self.root = folder.resolve()

    def path(self, name: str) -> Path:
        """The place of ``name`` inside the folder, its parent folders made.

        Raises :class:`RequestError` for an empty, absolute or escaping name, a symbolic
        link that leads out, or a suffix no writer takes.
        """
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
            raise RequestError(f"a file name is 1-{MAX_NAME} characters, e.g. 'jig.mid'")
        if any(ord(character) < 32 for character in name):
            raise RequestError(f"the file name {name!r} holds control characters")
        posix, windows = PurePosixPath(name), PureWindowsPath(name)
        if posix.is_absolute() or windows.is_absolute() or windows.drive or name.startswith("~"):
            raise RequestError(
                f"{name!r} is an absolute path: give a name inside the output folder, "
                "e.g. 'jig.mid' or 'set/jig.mid'"
            )
        if ".." in posix.parts or ".." in windows.parts:
            raise RequestError(f"{name!r} climbs out of the output folder ('..'): remove it")
        if posix.suffix.lower() not in SUFFIXES:
            raise RequestError(
                f"cannot write {name!r}: the suffix picks the format, one of {', '.join(SUFFIXES)}"
            )
        target = (self.root / posix).resolve()
        if not target.is_relative_to(self.root):
            raise RequestError(f"{name!r} leads out of the output folder through a symbolic link")
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.parent.resolve().is_relative_to(self.root):  # a link made meanwhile
            raise RequestError(f"{name!r} leads out of the output folder through a symbolic link")
        return target

    def paths(self, names: list[str]) -> list[Path]:
        """The places of ``names`` (see :meth:`path`), at most :data:`MAX_FILES` of them."""
        if len(names) > MAX_FILES:
            raise RequestError(
                f"{len(names):,} files asked for; one call writes at most {MAX_FILES}: "
                "ask for the others in another call"
            )
        return [self.path(name) for name in names]

    def relative(self, path: Path) -> str:
        """A written path as the client named it: relative to the folder."""
        return path.relative_to(self.root).as_posix()


def _json_array(value: Any) -> bool:
    """A JSON array written as text: the SDK reads it (some clients send lists so)."""
    if not isinstance(value, str):
        return False
    try:
        return isinstance(json.loads(value), list)
    except (ValueError, RecursionError):
        return False


def check_arguments(tool: str, arguments: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    """Refuse an argument the tool does not take, or one of a JSON type its schema does not allow.

    The SDK drops an unknown argument and reads the text "8" as the number 8: an agent's typo
    would pass unnoticed, so the arguments are checked against the tool's input schema first.
    """
    properties: Mapping[str, Any] = schema.get("properties", {})
    unknown = [name for name in arguments if name not in properties]
    if unknown:
        raise RequestError(
            f"{tool} takes no argument {', '.join(map(repr, unknown))}: "
            f"it takes {', '.join(properties)}"
        )
    for name, value in arguments.items():
        kinds = [option.get("type") for option in properties[name].get("anyOf", [properties[name]])]
        if not all(kind in _JSON_TYPES for kind in kinds):
            continue  # a schema this check does not read: the SDK's validation decides
        if not any(_JSON_TYPES[kind][1](value) for kind in kinds):
            allowed = " or ".join(_JSON_TYPES[kind][0] for kind in kinds if kind != "null")
            raise RequestTypeError(f"{name} must be {allowed} (received {value!r})")
