"""Keeping secrets out of errors and logs: API keys, and keys written into a base URL.

A backend registers its secrets with :func:`protect`; from then on they are replaced by
``***`` in :func:`redact`'s text and in every log record of the HTTP stack (httpx, httpcore
and the openai SDK log request URLs and, at DEBUG, response headers a server may echo a key
in). :func:`scrub` masks them in an exception and every exception chained to it, so that
no traceback shows them.
"""

from __future__ import annotations

import logging
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterable

__all__ = ["display_url", "protect", "redact", "scrub", "url_secrets"]

MASK = "***"
MIN_SECRET_LENGTH = 8
"""Shorter strings are not treated as secrets: masking "x" everywhere would hide nothing."""
LOGGERS = ("httpx", "httpcore", "openai")
"""Prefixes of the loggers filtered (they match httpx2 and httpcore2 too)."""
_KNOWN = [
    *(f"{core}.{part}" for core in ("httpcore", "httpcore2") for part in
      ("connection", "connection_pool", "http11", "http2", "proxy", "socks")),
    "httpx", "httpx2", "openai", "openai._base_client",
]  # fmt: skip
"""Loggers the HTTP stack makes when its modules load, some only on the first request:
made here first, so that they carry the filter from the start."""
_SECRET_NAME = re.compile(r"key|token|secret|passw|sig|auth|credential", re.IGNORECASE)

_secrets: frozenset[str] = frozenset()
"""Replaced whole, never changed in place: the log filter reads it without a lock, since a
garbage-collected client's ``close`` logs from inside whatever code the collector
interrupted, possibly a holder of that lock on the same thread."""
_adding = threading.Lock()


def url_secrets(url: str | None) -> list[str]:
    """The secrets in a URL: the password, and query values whose names say they are keys."""
    if not url:
        return []
    parts = urllib.parse.urlsplit(url)
    found = [parts.password] if parts.password else []
    for name, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        if value and _SECRET_NAME.search(name):
            found += [value, urllib.parse.quote(value, safe="")]
    return found


def display_url(url: str) -> str:
    """The URL with its secrets masked, for messages and ``repr``."""
    for secret in url_secrets(url):
        url = url.replace(secret, MASK)
    return url


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with ``secrets`` and every registered secret masked."""
    known = _secrets | {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}
    for secret in sorted(known, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def scrub(error: BaseException, mask: Callable[[str], str] = redact) -> None:
    """Mask the secrets in ``error`` and in every exception chained to it, in place.

    The openai SDK's exceptions carry the server's answer, which may echo the key, and
    httpx's carry the request's URL: a traceback prints each of them, causes and contexts
    alike, so each one's text is masked.
    """
    pending: list[BaseException | None] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.args = tuple(mask(arg) if isinstance(arg, str) else arg for arg in current.args)
        if isinstance(message := getattr(current, "message", None), str):
            current.message = mask(message)  # type: ignore[attr-defined] # the SDK's APIError
        if notes := getattr(current, "__notes__", None):
            current.__notes__ = [mask(note) if isinstance(note, str) else note for note in notes]
        pending += [current.__cause__, current.__context__]


class _RedactingFilter(logging.Filter):
    """Masks the registered secrets in a log record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _secrets:
            return True
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


_filter = _RedactingFilter()


def protect(secrets: Iterable[str]) -> None:
    """Register secrets, and filter the HTTP stack's loggers (those that exist now)."""
    global _secrets  # noqa: PLW0603 # replaced whole: see _secrets
    added = frozenset(s for s in secrets if len(s) >= MIN_SECRET_LENGTH)
    with _adding:
        _secrets = _secrets | added
    made = list(logging.root.manager.loggerDict)  # one step: other threads may add loggers
    names = [name for name in made if name.startswith(LOGGERS)]
    for name in {*_KNOWN, *names}:
        log = logging.getLogger(name)
        if _filter not in log.filters:
            log.addFilter(_filter)
