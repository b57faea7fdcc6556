"""The kind of a request's options, and pydantic's errors as one :class:`RequestError`.

Numbers and switches (:data:`KINDS`) are refused as text, as compose's own options are,
unless the request is read from text (:func:`from_text`). :func:`request_error` turns a
``pydantic.ValidationError`` into one readable message, keeping tunesmith's own error types.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pydantic
import pydantic_core
from pydantic_core.core_schema import ErrorType

from tunesmith.errors import RequestError, RequestTypeError

__all__ = ["KINDS", "from_text", "refuse_other_kind", "request_error"]

KINDS: dict[str, tuple[type, ErrorType]] = {
    "bars": (int, "int_type"),
    "seed": (int, "int_type"),
    "tempo": (float, "float_type"),
    "band": (bool, "bool_type"),
}
"""Options that are numbers or switches, and the error for a value of another kind: given
as text ("8", "yes") they are refused, as compose's own options are, unless the request is
read from text (:meth:`~tunesmith.requests.request.ComposeRequest.model_validate_strings`)."""


def refuse_other_kind(name: str, value: Any) -> Any:
    """The value of option ``name`` (one of :data:`KINDS`) as itself, never as text.

    ``True`` is no count.
    """
    if isinstance(value, bool) and name in {"bars", "seed"}:  # an int, but never a count
        raise RequestTypeError(f"{name} must be a whole number (received {value})")
    if isinstance(value, str) or isinstance(value, bool) != (name == "band"):
        raise pydantic_core.PydanticKnownError(KINDS[name][1])
    return value


def from_text(name: str, value: Any) -> Any:
    """A number or switch read from its text as pydantic reads text; other values as given."""
    if name not in KINDS or not isinstance(value, str):
        return value
    try:
        return pydantic.TypeAdapter(KINDS[name][0]).validate_strings(value)
    except pydantic.ValidationError:
        return value  # refused with the option's name


def request_error(error: pydantic.ValidationError, fields: Iterable[str]) -> RequestError:
    """One readable message from pydantic's errors, keeping our own error types.

    A value of the wrong type (pydantic's ``*_type`` errors, or ours) is a
    :class:`RequestTypeError`; one kind of our errors alone keeps its kind. ``fields`` are
    the request's options, named in the message for an unknown one.
    """
    messages, kinds = [], set()
    items = error.errors()
    cause = items[0].get("ctx", {}).get("error") if len(items) == 1 else None
    if isinstance(cause, RequestError) and not items[0]["loc"]:
        return cause  # one error of the whole request: as raised, with its attributes
    for item in items:
        field = ".".join(str(part) for part in item["loc"])
        cause = item.get("ctx", {}).get("error")
        cause = cause if isinstance(cause, Exception) else None
        if isinstance(cause, RequestError):
            kinds.add(type(cause))
        elif item["type"].endswith("_type"):
            kinds.add(RequestTypeError)
        if item["type"] == "extra_forbidden":
            allowed = ", ".join(fields)
            messages.append(f"unknown option {field!r}: the options are {allowed}")
        elif cause is not None:
            messages.append(f"{field}: {cause}" if field else str(cause))
        else:
            received = f" (received {item['input']!r})" if field else ""
            reason = item["msg"][:1].lower() + item["msg"][1:]
            messages.append(f"{field or 'request'}: {reason}{received}")
    kind = kinds.pop() if len(kinds) == 1 else RequestError
    return kind("; ".join(messages))
