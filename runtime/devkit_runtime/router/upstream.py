"""A small asyncio HTTP/1.1 client with a keep-alive connection pool per replica.

Why not a library: the router's dependencies must stay uvicorn + httptools (werkzeug is the
scoring server's, for scripts), and a proxy lives or dies by upstream keep-alive (nginx
loses 60% of its throughput without it). The client speaks just what the router needs:
one buffered request and, parsed by httptools' C parser, one response on connections
reused until the server closes them. The response is buffered, except that the live path
(``stream=True``) gets one of unknown length (chunked, or ended by the server closing) as
soon as its headers arrive, its body as a :class:`BodyStream` (token streaming must reach
the client part by part); the connection returns to the pool when that stream is closed.

Failures are typed so the router can map them to the front end's status codes:
:class:`ConnectFailed` (nothing listens: 502) and :class:`ConnectionDropped` (the server
closed or sent garbage mid-request: 502). A request's deadline (``request_timeout_ms``) is
kept by :class:`~devkit_runtime.router.deadlines.Deadlines`, one timer for all requests;
it fails the request with ``TimeoutError``, and a connection interrupted by it is closed,
never reused.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import TypeVar, cast

import httptools

from devkit_runtime.router.body import (
    BodyStream,
    ConnectFailed,
    ConnectionDropped,
    UpstreamError,
)
from devkit_runtime.router.config import Replica
from devkit_runtime.router.deadlines import Deadlines

__all__ = ["Balancer", "BodyStream", "ConnectFailed", "ConnectionDropped", "PoolRegistry",
           "ReplicaPool", "UpstreamError", "UpstreamResponse", "within"]

MAX_IDLE_PER_REPLICA = 64
_NO_BODY = frozenset((204, 304))  # never a body, whatever the headers say (RFC 9110)
_FRAMING = frozenset((b"content-length", b"transfer-encoding"))
T = TypeVar("T")


async def within(seconds: float, awaitable: Awaitable[T]) -> T:
    """Await with a deadline; raises ``asyncio.TimeoutError``. ``asyncio.timeout`` avoids
    the extra task ``wait_for`` costs, but only exists from Python 3.11 on."""
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await awaitable
    return await asyncio.wait_for(awaitable, seconds)


@dataclass
class UpstreamResponse:
    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    stream: BodyStream | None = None


class _Connection(asyncio.Protocol):
    """One TCP connection to a replica, carrying one request at a time."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self.deadline = 0.0  # loop time; kept by Deadlines while a request waits
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[UpstreamResponse] | None = None
        self._reason = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._headers_done = False
        self._has_length = False  # a content-length or transfer-encoding header came
        self._chunked = False
        self._may_stream = False
        self._stream: BodyStream | None = None
        self.received_any = False
        self.keep_alive = True
        self.closed = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport; they implement it
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.received_any = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ConnectionDropped(f"the replica sent an invalid HTTP response: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._headers_done and not self._has_length:
            # A response without length or chunking ends when the server closes (HTTP/1.0
            # style, seen in some bring-your-own-container servers).
            self.keep_alive = False
            if self._stream is not None:
                self._stream.finish()
            else:
                self._finish(self._parser.get_status_code())
        if self._stream is not None and not self._stream.finished:
            self._stream.fail(ConnectionDropped("the replica closed the connection in the "
                                                "middle of a streamed response"))
        self._fail(ConnectionDropped("the replica closed the connection before answering"))

    # httptools callbacks
    def on_status(self, status: bytes) -> None:
        self._reason = status

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name in _FRAMING:  # noted here: no second pass over the headers
            self._has_length = True
            if name == b"transfer-encoding" and value.lower().find(b"chunked") >= 0:
                self._chunked = True
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._headers_done = True
        # Chunked, or delimited by the server closing: a body of unknown length, which may
        # be a stream (a BYOC server streaming events HTTP/1.0 style is one).
        if self._may_stream and (self._chunked or not self._has_length) \
                and self._parser.get_status_code() not in _NO_BODY:
            assert self._transport is not None
            self._stream = BodyStream(self._transport)
            self._finish(self._parser.get_status_code())

    def on_body(self, body: bytes) -> None:
        if self._stream is not None:
            self._stream.feed(body)
        else:
            self._body.append(body)

    def on_message_complete(self) -> None:
        self.keep_alive = self._parser.should_keep_alive()
        if self._stream is not None:
            self._stream.finish()
        else:
            self._finish(self._parser.get_status_code())

    def _finish(self, status: int) -> None:
        response = UpstreamResponse(status, self._reason, self._headers, b"".join(self._body),
                                    self._stream)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(response)

    # client side
    async def request(self, data: Sequence[bytes], stream: bool, deadline: float,
                      deadlines: Deadlines) -> UpstreamResponse:
        """Send ``data``; the response, or ``TimeoutError`` once loop time ``deadline``
        passed without one."""
        if self._transport is None or self.closed:
            raise ConnectionDropped("the connection to the replica is closed")
        self._reason, self._headers, self._body = b"", [], []
        self._headers_done = self.received_any = self._has_length = self._chunked = False
        self._may_stream, self._stream = stream, None
        self._waiter = waiter = asyncio.get_running_loop().create_future()
        self._transport.writelines(data)
        deadlines.watch(self, deadline)
        return await waiter

    @property
    def waiting(self) -> bool:
        return self._waiter is not None and not self._waiter.done()

    def expire(self) -> None:
        """The request's deadline passed (see Deadlines): it fails, the connection closes."""
        self._fail(asyncio.TimeoutError())
        self.close()

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()

    def _fail(self, error: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)


class ReplicaPool:
    """Idle keep-alive connections to one replica, and how many requests it is serving."""

    def __init__(self, replica: Replica, deadlines: Deadlines | None = None) -> None:
        self.replica = replica
        self.deadlines = deadlines or Deadlines()
        self.in_flight = 0
        # Kept by devkit_runtime.router.health: False takes it out of rotation.
        self.ready = True
        self.health: object | None = None
        self._idle: list[_Connection] = []
        self._closed = False

    async def request(self, data: Sequence[bytes], deadline: float,
                      stream: bool = False) -> UpstreamResponse:
        """Send one request (already serialised) and return the response: buffered, or
        with ``stream`` one of unknown length as soon as its headers arrive (the caller must
        close ``response.stream``; the request counts as in flight until then). Raises
        ``TimeoutError`` when no response came by ``deadline`` (loop time)."""
        self.in_flight += 1
        response: UpstreamResponse | None = None
        try:
            connection = self._take_idle()
            if connection is not None:
                try:
                    response = await self._exchange(connection, data, stream, deadline)
                    return response
                except ConnectionDropped:
                    # A reused connection may have been closed by the server's keep-alive
                    # timeout just as we wrote; if it said nothing, try once on a fresh one.
                    if connection.received_any:
                        raise
                try:
                    fresh = await self._connect(deadline)
                except ConnectFailed as exc:
                    exc.sent = True
                    raise
            else:
                fresh = await self._connect(deadline)
            response = await self._exchange(fresh, data, stream, deadline)
            return response
        finally:
            if response is None or response.stream is None:
                self.in_flight -= 1

    async def _exchange(self, connection: _Connection, data: Sequence[bytes],
                        stream: bool, deadline: float) -> UpstreamResponse:
        try:
            response = await connection.request(data, stream, deadline, self.deadlines)
        except BaseException:
            connection.close()  # interrupted (timeout, drop): its state is unknown
            raise
        if response.stream is not None:
            response.stream.on_close(lambda whole: self._release(connection, whole))
        else:
            self._release(connection, True, counted=False)
        return response

    def _release(self, connection: _Connection, reusable: bool, counted: bool = True) -> None:
        """Back to the idle list if it can carry another request, else closed. ``counted``:
        the request ends here (a stream), so it stops counting as in flight."""
        if counted:
            self.in_flight -= 1
        if (reusable and connection.keep_alive and not connection.closed and not self._closed
                and len(self._idle) < MAX_IDLE_PER_REPLICA):
            self._idle.append(connection)
        else:
            connection.close()

    def _take_idle(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed:
                return connection
        return None

    async def _connect(self, deadline: float) -> _Connection:
        """A fresh connection, opened by ``deadline`` (rare once the pool is warm: the
        per-call timeout here is not on the hot path)."""
        # wait_for, not asyncio.timeout: the answer that connects is not a Task (eager.py)
        return await asyncio.wait_for(self._open(),
                                      max(deadline - asyncio.get_running_loop().time(), 0.0))

    async def _open(self) -> _Connection:
        try:
            _, protocol = await asyncio.get_running_loop().create_connection(
                _Connection, self.replica.host, self.replica.port)
        except OSError as exc:  # here, so that only the deadline's own TimeoutError is a 408
            raise ConnectFailed(f"cannot connect to {self.replica.url}: {exc.strerror or exc}"
                                ) from exc
        return protocol

    def close(self) -> None:
        """Close idle connections; busy ones close when their request ends."""
        self._closed = True
        while self._idle:
            self._idle.pop().close()


class Balancer:
    """Least in-flight across a deployment's ready replicas, round robin among equals
    (``ready`` is kept by :mod:`devkit_runtime.router.health`)."""

    def __init__(self, pools: Sequence[ReplicaPool]) -> None:
        self.pools = list(pools)
        self._next = 0

    def pick(self) -> ReplicaPool | None:
        """The replica for the next request; None when none is ready."""
        pools = self.pools
        count = len(pools)
        if count == 1:  # one replica: no rotation to keep
            return pools[0] if pools[0].ready else None
        if not count:
            return None
        start = self._next
        self._next = (start + 1) % count
        best: ReplicaPool | None = None
        for offset in range(count):
            pool = pools[(start + offset) % count]
            if pool.ready and (best is None or pool.in_flight < best.in_flight):
                best = pool
        return best


class PoolRegistry:
    """Pools by replica URL, kept across config reloads so connections survive them."""

    def __init__(self) -> None:
        self._pools: dict[str, ReplicaPool] = {}
        self.deadlines = Deadlines()  # one timer for every pool's request_timeout_ms

    def balancer(self, replicas: Sequence[Replica]) -> Balancer:
        return Balancer([self._pool(replica) for replica in replicas])

    def _pool(self, replica: Replica) -> ReplicaPool:
        pool = self._pools.get(replica.url)
        if pool is None:
            pool = self._pools[replica.url] = ReplicaPool(replica, self.deadlines)
        return pool

    def in_flight(self, url: str) -> int:
        """Requests the replica at ``url`` is serving now (0 for one without a pool)."""
        pool = self._pools.get(url)
        return pool.in_flight if pool is not None else 0

    def retain(self, urls: set[str]) -> None:
        """Close and forget pools of replicas no longer in the config."""
        for url in list(self._pools):
            if url not in urls:
                self._pools.pop(url).close()

    def close(self) -> None:
        self.retain(set())
        self.deadlines.close()
