"""How one completion of :class:`~tunesmith.backends.openai.OpenAIBackend` travels.

:class:`Call` holds one completion's retry policy (tenacity: exponential backoff with jitter,
``Retry-After`` honoured, a bounded number of attempts, a total deadline) and reads each
answer's body, sync or async, capped at what ``max_tokens`` can hold and cut at the deadline.
A failure of the SDK is handed to the backend's classifier: a transient marker to retry, or
the :class:`~tunesmith.errors.BackendError` to raise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import tenacity

from tunesmith.backends.openai_answers import TransientError, waiting
from tunesmith.errors import BackendError

__all__ = ["BODY_ENVELOPE", "BYTES_PER_TOKEN", "Call"]

logger = logging.getLogger("tunesmith.backends.openai")
BODY_ENVELOPE = 64 * 1024
"""Bytes of an answer's JSON besides its tokens (ids, usage, what a server adds)."""
BYTES_PER_TOKEN = 1024
"""Bytes of JSON one token may take: its text, escaped, and its logprobs if asked for."""


class Call:
    """One completion: its attempts, its deadline, and the reading of each answer's body.

    ``classify`` turns a failure of the SDK into a transient marker to retry, or the
    BackendError to raise; ``where`` names the server in messages (" at URL", or "").
    """

    def __init__(
        self,
        *,
        timeout: float,
        max_attempts: int,
        deadline: float,
        max_tokens: int,
        where: str,
        classify: Callable[[Exception], Exception],
    ) -> None:
        self.started = time.perf_counter()
        self.attempts = 0
        self._timeout, self._max_attempts, self._deadline = timeout, max_attempts, deadline
        self._max_tokens = max_tokens
        self._limit = BODY_ENVELOPE + BYTES_PER_TOKEN * max_tokens
        self._where = where
        self._classify = classify

    def retrying(self) -> dict[str, Any]:
        """The arguments of ``tenacity.Retrying`` and ``tenacity.AsyncRetrying``."""
        return {
            "retry": tenacity.retry_if_exception_type(TransientError),
            # stop_before_delay: never start a wait that would end past the deadline
            "stop": tenacity.stop_after_attempt(self._max_attempts)
            | tenacity.stop_before_delay(self._deadline),
            "wait": waiting(
                tenacity.wait_exponential_jitter(multiplier=0.25, max=8.0, jitter=0.25)
            ),
            "reraise": True,
            "before_sleep": lambda state: logger.info(
                "attempt %d failed (%s); retrying in %.2f s",
                state.attempt_number,
                state.outcome.exception(),
                state.upcoming_sleep,
            ),
        }

    def give_up(self, error: TransientError) -> BackendError:
        """The error to raise once the attempts or the deadline are spent."""
        elapsed = time.perf_counter() - self.started
        reason = str(error)
        if error.retry_after and elapsed + error.retry_after >= self._deadline:
            reason += f" (asked to wait {error.retry_after:g} s, past the deadline)"
        attempts = self.attempts
        return BackendError(
            f"gave up after {attempts} attempt{'s' if attempts != 1 else ''} "
            f"in {elapsed:.1f} s: {reason}",
            retryable=True,
            hint="the server may be overloaded or down; try again later, or raise deadline= "
            "or max_attempts=",
        )

    def post(self, client: Any, request: dict[str, Any]) -> bytes:
        """The answer's body, read in a worker thread so that the deadline cuts any wait.

        httpx's timeouts bound each read, not the whole body: a server that sends a byte
        now and then would hold the call for as long as it likes. The worker stops reading
        once the deadline has passed; the caller does not wait for it.
        """
        left = self._left()
        outcome: dict[str, Any] = {}
        done, late = threading.Event(), threading.Event()

        def read() -> None:
            try:
                outcome["body"] = self._read(
                    lambda: client.chat.completions.with_streaming_response.create(
                        **request, timeout=min(self._timeout, left)
                    ),
                    late,
                )
            except BaseException as error:  # handed to the caller
                outcome["error"] = error
            finally:
                done.set()

        threading.Thread(target=read, name="tunesmith-openai", daemon=True).start()
        if not done.wait(left):
            late.set()
            raise self._late()
        if "error" in outcome:
            raise outcome["error"]
        body: bytes = outcome["body"]
        return body

    def _read(self, create: Callable[[], Any], late: threading.Event) -> bytes:
        with self._classified(), create() as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                if late.is_set():
                    raise self._late()
                self._add(body, chunk)
            return bytes(body)

    async def apost(self, client: Any, request: dict[str, Any]) -> bytes:
        """The answer's body; the deadline cancels the whole call, body included."""
        left = self._left()
        with self._classified():
            try:
                async with asyncio.timeout(left):
                    create = client.chat.completions.with_streaming_response.create
                    async with create(**request, timeout=min(self._timeout, left)) as response:
                        body = bytearray()
                        async for chunk in response.iter_bytes():
                            self._add(body, chunk)
                        return bytes(body)
            except TimeoutError as error:
                raise self._late() from error

    def _add(self, body: bytearray, chunk: bytes) -> None:
        body += chunk
        if len(body) > self._limit:
            raise BackendError(
                f"the answer from the server{self._where} is longer than {self._limit} bytes, "
                f"more than max_tokens={self._max_tokens} can hold: the server did not stop "
                "at max_tokens",
                hint="check the server's settings (it must honour max_tokens), "
                "or try another model",
            )

    @contextlib.contextmanager
    def _classified(self) -> Iterator[None]:
        """Let tunesmith's own errors through; classify any other."""
        try:
            yield
        except (TransientError, BackendError):
            raise
        except Exception as error:
            raise self._classify(error) from error

    def _left(self) -> float:
        """Seconds left of the deadline (a little, at least, to make the call)."""
        return max(0.05, self._deadline - (time.perf_counter() - self.started))

    def _late(self) -> TransientError:
        return TransientError(f"the server{self._where} did not answer in time")
