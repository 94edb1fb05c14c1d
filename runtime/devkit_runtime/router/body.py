"""A streamed upstream body, and the upstream errors (see :mod:`upstream`).

Kept apart from the connection pool so each module stays small; :mod:`upstream` re-exports
them, where the rest of the router imports them from.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable

# A streamed body buffered beyond HIGH bytes (the client reads slower than the replica
# writes) pauses reading from the replica until it is down to LOW.
STREAM_HIGH, STREAM_LOW = 1 << 20, 1 << 18


class UpstreamError(Exception):
    """A request to a replica failed before a complete response arrived."""


class ConnectFailed(UpstreamError):
    """No connection could be opened to the replica. ``sent``: the request had already
    been written to a reused connection that the replica closed without answering (so
    it may have run; :mod:`health` retries only requests that were never sent)."""

    sent = False


class ConnectionDropped(UpstreamError):
    """The replica closed the connection (or sent an unparsable answer) mid-request."""


class BodyStream:
    """The body of a streamed response, read part by part with :meth:`read`."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._parts: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._paused = False
        self._wake = asyncio.Event()
        self._error: UpstreamError | None = None
        self.finished = False
        self._on_close: Callable[[bool], None] | None = None

    def feed(self, data: bytes) -> None:
        self._parts.append(data)
        self._buffered += len(data)
        self._wake.set()
        if self._buffered > STREAM_HIGH and not self._paused:
            self._paused = True
            self._transport.pause_reading()

    def finish(self) -> None:
        self.finished = True
        self._wake.set()

    def fail(self, error: UpstreamError) -> None:
        self._error = error
        self._wake.set()

    async def read(self) -> bytes:
        """The next part, or ``b""`` once the body is complete; raises ConnectionDropped."""
        while not self._parts:
            if self._error is not None:
                raise self._error
            if self.finished:
                return b""
            self._wake.clear()
            await self._wake.wait()
        part = self._parts.popleft()
        self._buffered -= len(part)
        if self._paused and self._buffered < STREAM_LOW:
            self._paused = False
            self._transport.resume_reading()
        return part

    def on_close(self, callback: Callable[[bool], None]) -> None:
        self._on_close = callback

    def close(self) -> None:
        """Give the connection back: reusable only if the whole body was read."""
        callback, self._on_close = self._on_close, None
        if callback is not None:
            callback(self.finished and self._error is None and not self._parts)
