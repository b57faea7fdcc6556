"""The openai SDK, loaded on first use, and the clients that OpenAIBackend makes from it.

:func:`load_openai` imports the SDK (and filters its HTTP stack's loggers);
:func:`client_options` turns a base URL and key into the SDK's client options, SDK retries
off; :func:`async_client` makes an ``AsyncOpenAI`` that keeps no connection alive.
"""

from __future__ import annotations

import functools
import os
import urllib.parse
from typing import Any

from tunesmith.backends.secrets import protect
from tunesmith.errors import BackendError, DependencyError

__all__ = ["async_client", "client_options", "load_openai"]


@functools.cache
def load_openai() -> Any:
    """The openai module; a DependencyError that says how to install it if it is missing."""
    try:
        import openai  # noqa: PLC0415 - only for this backend
    except ImportError as error:
        raise DependencyError(
            "the openai package is not installed", hint="pip install openai"
        ) from error
    protect(())  # the SDK's HTTP stack exists now: filter its loggers
    return openai


def client_options(
    base_url: str | None, api_key: str | None, timeout: float
) -> tuple[dict[str, Any], str | None]:
    """The SDK client's options, and the API key among them if it is a real one.

    A server given by URL (or ``$OPENAI_BASE_URL``) that needs no key gets a placeholder;
    OpenAI itself with no key is a BackendError.
    """
    options: dict[str, Any] = {"timeout": timeout, "max_retries": 0}
    if base_url:
        # the SDK appends each path to base_url as it is, after any query: the query
        # goes apart, and the SDK adds it to every request
        url = urllib.parse.urlsplit(base_url)
        options["base_url"] = url._replace(query="").geturl()
        if url.query:
            options["default_query"] = dict(
                urllib.parse.parse_qsl(url.query, keep_blank_values=True)
            )
    key = api_key or os.environ.get("OPENAI_API_KEY")
    secret = key or None
    if key:
        protect([key])
    elif base_url or os.environ.get("OPENAI_BASE_URL"):
        key = "not-needed"  # local servers take any key; the SDK insists on one
    else:
        raise BackendError(
            "no API key for OpenAI",
            hint="set OPENAI_API_KEY, pass api_key=, or give base_url= for a local server",
        )
    options["api_key"] = key
    return options, secret


def async_client(options: dict[str, Any]) -> Any:
    """An ``openai.AsyncOpenAI`` without keep-alive: nothing is left open when its loop ends."""
    openai = load_openai()
    limits = type(openai.DEFAULT_CONNECTION_LIMITS)(
        max_connections=1000, max_keepalive_connections=0
    )
    return openai.AsyncOpenAI(**options, http_client=openai.DefaultAsyncHttpxClient(limits=limits))
