"""A small asyncio HTTP/1.1 client with a keep-alive connection pool per replica.

Why not a library: the runtime's dependencies must stay uvicorn + httptools, and a proxy
lives or dies by upstream keep-alive (nginx loses 60% of its throughput without it). The
client speaks just what the router needs: one buffered request, one buffered response,
parsed by httptools' C parser, on connections reused until the server closes them.

Failures are typed so the router can map them to the front end's status codes:
:class:`ConnectFailed` (nothing listens: 502) and :class:`ConnectionDropped` (the server
closed or sent garbage mid-request: 502). Timeouts are the caller's (``asyncio.timeout``);
a connection interrupted by one is closed, never reused.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import httptools

from devkit_runtime.router.config import Replica

MAX_IDLE_PER_REPLICA = 64
T = TypeVar("T")


async def within(seconds: float, awaitable: Awaitable[T]) -> T:
    """Await with a deadline; raises ``asyncio.TimeoutError``. ``asyncio.timeout`` avoids
    the extra task ``wait_for`` costs, but only exists from Python 3.11 on."""
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await awaitable
    return await asyncio.wait_for(awaitable, seconds)


class UpstreamError(Exception):
    """A request to a replica failed before a complete response arrived."""


class ConnectFailed(UpstreamError):
    """No connection could be opened to the replica."""


class ConnectionDropped(UpstreamError):
    """The replica closed the connection (or sent an unparsable answer) mid-request."""


@dataclass
class UpstreamResponse:
    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes


class _Connection(asyncio.Protocol):
    """One TCP connection to a replica, carrying one request at a time."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[UpstreamResponse] | None = None
        self._reason = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._headers_done = False
        self.received_any = False
        self.keep_alive = True
        self.closed = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self.received_any = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ConnectionDropped(f"the replica sent an invalid HTTP response: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._headers_done and not self._has_length():
            # A response without length or chunking ends when the server closes (HTTP/1.0
            # style, seen in some bring-your-own-container servers).
            self.keep_alive = False
            self._finish(self._parser.get_status_code())
        self._fail(ConnectionDropped("the replica closed the connection before answering"))

    # httptools callbacks
    def on_status(self, status: bytes) -> None:
        self._reason = status

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        self.keep_alive = self._parser.should_keep_alive()
        self._finish(self._parser.get_status_code())

    def _finish(self, status: int) -> None:
        response = UpstreamResponse(status, self._reason, self._headers, b"".join(self._body))
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(response)

    def _has_length(self) -> bool:
        return any(name in (b"content-length", b"transfer-encoding") for name, _ in self._headers)

    # client side
    async def request(self, data: Sequence[bytes]) -> UpstreamResponse:
        if self._transport is None or self.closed:
            raise ConnectionDropped("the connection to the replica is closed")
        self._reason, self._headers, self._body = b"", [], []
        self._headers_done = self.received_any = False
        self._waiter = asyncio.get_running_loop().create_future()
        self._transport.writelines(data)
        return await self._waiter

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()

    def _fail(self, error: UpstreamError) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)


class ReplicaPool:
    """Idle keep-alive connections to one replica, and how many requests it is serving."""

    def __init__(self, replica: Replica) -> None:
        self.replica = replica
        self.in_flight = 0
        self._idle: list[_Connection] = []
        self._closed = False

    async def request(self, data: Sequence[bytes]) -> UpstreamResponse:
        """Send one request (already serialised) and return the buffered response."""
        self.in_flight += 1
        try:
            connection = self._take_idle()
            if connection is not None:
                try:
                    return await self._exchange(connection, data)
                except ConnectionDropped:
                    # A reused connection may have been closed by the server's keep-alive
                    # timeout just as we wrote; if it said nothing, try once on a fresh one.
                    if connection.received_any:
                        raise
            return await self._exchange(await self._connect(), data)
        finally:
            self.in_flight -= 1

    async def _exchange(self, connection: _Connection, data: Sequence[bytes]) -> UpstreamResponse:
        try:
            response = await connection.request(data)
        except BaseException:
            connection.close()  # interrupted (timeout, drop): its state is unknown
            raise
        if connection.keep_alive and not self._closed and len(self._idle) < MAX_IDLE_PER_REPLICA:
            self._idle.append(connection)
        else:
            connection.close()
        return response

    def _take_idle(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed:
                return connection
        return None

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, protocol = await loop.create_connection(
                _Connection, self.replica.host, self.replica.port)
        except OSError as exc:
            raise ConnectFailed(f"cannot connect to {self.replica.url}: {exc.strerror or exc}"
                                ) from exc
        return protocol

    def close(self) -> None:
        """Close idle connections; busy ones close when their request ends."""
        self._closed = True
        while self._idle:
            self._idle.pop().close()


class Balancer:
    """Least in-flight across a deployment's replicas, round robin among equals."""

    def __init__(self, pools: Sequence[ReplicaPool]) -> None:
        self.pools = list(pools)
        self._next = 0

    def pick(self) -> ReplicaPool | None:
        if not self.pools:
            return None
        count = len(self.pools)
        start = self._next
        self._next = (start + 1) % count
        best = self.pools[start]
        for offset in range(1, count):
            pool = self.pools[(start + offset) % count]
            if pool.in_flight < best.in_flight:
                best = pool
        return best


class PoolRegistry:
    """Pools by replica URL, kept across config reloads so connections survive them."""

    def __init__(self) -> None:
        self._pools: dict[str, ReplicaPool] = {}

    def balancer(self, replicas: Sequence[Replica]) -> Balancer:
        return Balancer([self._pool(replica) for replica in replicas])

    def _pool(self, replica: Replica) -> ReplicaPool:
        pool = self._pools.get(replica.url)
        if pool is None:
            pool = self._pools[replica.url] = ReplicaPool(replica)
        return pool

    def retain(self, urls: set[str]) -> None:
        """Close and forget pools of replicas no longer in the config."""
        for url in list(self._pools):
            if url not in urls:
                self._pools.pop(url).close()

    def close(self) -> None:
        self.retain(set())
