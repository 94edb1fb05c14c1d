"""The router's HTTP/1.1 front end: an asyncio Protocol over httptools' C parser.

Why hand-written rather than uvicorn: the router's whole job is to pass a request on, so
its own cost per request is what users pay (issue 17: < 50 µs added at p50, >= 0.95x the
replica's throughput). Under uvicorn, each proxied request went through ASGI: a scope
dict, receive/send message dicts, uvicorn's header validation and lower-casing, two
``transport.write`` calls per response and a per-request ``RequestResponseCycle``. Here a
request is parsed straight into a small :class:`Request`, handed to
:meth:`Router.handle <devkit_runtime.router.app.Router.handle>`, and the answer goes out
in one ``transport.write`` (head and body joined). The protocol is still httptools — the
parser uvicorn used — so what is accepted on the wire does not change.

What it does besides: keep-alive (HTTP/1.1 default, HTTP/1.0 on request), requests
pipelined on one connection answered in order, ``Expect: 100-continue``, chunked request
bodies (httptools decodes them), 400 on an unparsable request, 500 if the handler raises,
streamed (chunked) answers with write flow control and disconnect detection (see
:class:`ClientStream`), idle connections closed after ``KEEP_ALIVE_S``, and a graceful
stop on SIGTERM/SIGINT: stop accepting, let requests in flight finish for up to
``GRACEFUL_S``, then :meth:`Router.shutdown`.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import logging
import signal
from collections import deque
from typing import TYPE_CHECKING, cast
from urllib.parse import unquote

import httptools

from devkit_runtime.router.eager import Eager

if TYPE_CHECKING:
    from devkit_runtime.router.app import Router
    from devkit_runtime.router.proxy import Outgoing

log = logging.getLogger("devkit.router")
access = logging.getLogger("devkit.router.access")

KEEP_ALIVE_S = 30.0  # idle client connections close after this (longer than client pools)
GRACEFUL_S = 10.0  # requests in flight get this long to finish on a stop
SWEEP_S = 5.0  # how often idle connections are checked
Headers = list[tuple[bytes, bytes]]
# Bytes tested by value: ``63 in data`` is a byte compare, while ``b"?" in data`` first
# tries the operand as an int and raises (and clears) a TypeError, on every request.
_PERCENT, _QUESTION, _HASH = ord("%"), ord("?"), ord("#")


def _status_line(status: int) -> bytes:
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    return f"HTTP/1.1 {status} {reason}\r\n".encode("latin-1")


_STATUS_LINES = {status: _status_line(status) for status in range(100, 600)}


class Request:
    """One parsed client request, body included (the router forwards whole bodies)."""

    __slots__ = ("method", "path", "raw_path", "query", "headers", "body", "keep_alive")

    def __init__(self, method: str, raw_path: bytes, query: bytes, headers: Headers,
                 body: bytes, keep_alive: bool) -> None:
        self.method = method
        self.raw_path = raw_path
        self.path = unquote(raw_path.decode("latin-1")) if _PERCENT in raw_path \
            else raw_path.decode("latin-1")
        self.query = query
        self.headers = headers
        self.body = body
        self.keep_alive = keep_alive


def response_head(status: int, headers: Headers, length: int | None, close: bool) -> bytes:
    """Status line and headers; ``length`` None means a chunked body follows."""
    parts = [_STATUS_LINES.get(status) or _status_line(status)]
    for name, value in headers:
        parts += (name, b": ", value, b"\r\n")
    if length is None:
        parts.append(b"transfer-encoding: chunked\r\n")
    else:
        parts += (b"content-length: ", str(length).encode("ascii"), b"\r\n")
    if close:
        parts.append(b"connection: close\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)


class ClientStream:
    """The client side of a streamed answer: chunks written as they come, with flow
    control (``write`` waits while the client's socket buffer is full) and ``gone``, a
    future that completes when the client disconnects."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.gone = connection.gone_future()

    async def start(self, status: int, headers: Headers) -> None:
        connection = self._connection
        connection.write(response_head(status, headers, None, not connection.keep_alive))
        await connection.drain()

    async def write(self, part: bytes) -> None:
        if part:
            self._connection.write(b"%x\r\n%s\r\n" % (len(part), part))
            await self._connection.drain()

    async def end(self) -> None:
        self._connection.write(b"0\r\n\r\n")
        await self._connection.drain()

    def abort(self) -> None:
        """End the response broken: the client sees no final chunk, never a whole body."""
        self._connection.abort()


class Connection(asyncio.Protocol):
    """One client connection: parses requests and answers them in order."""

    def __init__(self, server: RouterServer) -> None:
        self.server = server
        self.router = server.router
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.keep_alive = True
        self.idle_since: float | None = None
        self._url = b""
        self._headers: Headers = []
        self._body: list[bytes] = []
        self._queue: deque[Request] = deque()
        self._busy = False
        self._answering: Eager | None = None  # the answer in progress
        self._closing = False  # the transport is being closed: no more requests
        self._closed = False
        self._paused_writing = False
        self._drained: asyncio.Future[None] | None = None
        self._gone: asyncio.Future[None] | None = None

    # asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport; they implement it
        self.transport = cast(asyncio.Transport, transport)
        self.idle_since = self.server.loop.time()
        self.server.connections.add(self)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            pass  # no upgrades (websockets): the request was answered as a plain one
        except httptools.HttpParserError as exc:
            log.debug("unparsable request: %s", exc)
            self.keep_alive = False
            if not self._busy:  # else it closes once the answer in flight went out
                self._write_error(400, b'{"message": "Invalid HTTP request."}\n')
                assert self.transport is not None
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        if not self._busy:  # else once its answer is done: a stop waits for that answer
            self.server.connections.discard(self)
        if self._gone is not None and not self._gone.done():
            self._gone.set_result(None)
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def pause_writing(self) -> None:
        self._paused_writing = True

    def resume_writing(self) -> None:
        self._paused_writing = False
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    # httptools callbacks ----------------------------------------------------------

    def on_message_begin(self) -> None:
        self._url, self._headers, self._body = b"", [], []
        self.idle_since = None

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        for name, value in self._headers:  # the version only then: it costs a string
            if name == b"expect" and value.lower() == b"100-continue" \
                    and self.parser.get_http_version() == "1.1":
                assert self.transport is not None
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._closing:  # pipelined behind the last answer (Connection: close, or a stop)
            return
        url = self._url
        if url[:1] == b"/" and _QUESTION not in url and _HASH not in url:
            path, query = url, b""  # a plain path (/score): nothing for parse_url to split
        else:
            parsed = httptools.parse_url(url)
            path, query = parsed.path or b"/", parsed.query or b""
        body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        request = Request(self.parser.get_method().decode("ascii"), path, query,
                          self._headers, body, self.parser.should_keep_alive())
        if self._busy:  # pipelined: answered after the one in flight, in order
            self._queue.append(request)
            assert self.transport is not None
            self.transport.pause_reading()
        else:
            self._start(request)

    # answering ------------------------------------------------------------------------

    def _start(self, request: Request) -> None:
        self._busy = True
        if not request.keep_alive or self.server.stopping:
            self.keep_alive = False
        # Run at once, without a Task (see eager.py), and tracked as the connection's: a
        # stop finds the answers in flight through the server's connections.
        self._answering = Eager(self._answer(request), self.server.loop)

    async def _answer(self, request: Request) -> None:
        try:
            outgoing = await self.router.handle(request)
            if outgoing.stream is None:
                self._write_response(request, outgoing)
            else:
                await self.router.relay(ClientStream(self), outgoing)
        except Exception:  # a bug in the router must not take the connection's peers down
            log.exception("error answering %s %s", request.method, request.path)
            self.keep_alive = False
            self._write_error(500, b'{"message": "Internal router error."}\n')
        finally:
            self._done()

    def _write_response(self, request: Request, outgoing: Outgoing) -> None:
        body = outgoing.body
        head = response_head(outgoing.status, outgoing.headers, len(body), not self.keep_alive)
        self.write(head if request.method == "HEAD" or not body else head + body)
        if self.server.access_log:
            access.info('"%s %s" %d', request.method, request.path, outgoing.status)

    def _write_error(self, status: int, body: bytes) -> None:
        self.write(response_head(status, [(b"content-type", b"application/json")],
                                 len(body), True) + body)

    def _done(self) -> None:
        self._answering = None
        if self._closed:
            self._busy = False
            self.server.connections.discard(self)
        elif not self.keep_alive:
            self._busy, self._closing = False, True
            assert self.transport is not None
            self.transport.close()
        elif self._queue:  # still busy: the next one starts on the next turn, not nested
            # here (answers that finish at once, e.g. /-/live, would recurse per request)
            self.server.loop.call_soon(self._next)
        else:
            self._busy = False
            self.idle_since = self.server.loop.time()

    def _next(self) -> None:
        if self._closed:
            self._busy = False
            self.server.connections.discard(self)
            return
        request = self._queue.popleft()
        if not self._queue:
            assert self.transport is not None
            self.transport.resume_reading()
        self._start(request)

    # used by ClientStream and the server --------------------------------------------

    def write(self, data: bytes) -> None:
        if not self._closed:
            assert self.transport is not None
            self.transport.write(data)

    async def drain(self) -> None:
        if self._paused_writing and not self._closed:
            self._drained = self.server.loop.create_future()
            await self._drained

    def gone_future(self) -> asyncio.Future[None]:
        if self._gone is None:
            self._gone = self.server.loop.create_future()
            if self._closed:
                self._gone.set_result(None)
        return self._gone

    def abort(self) -> None:
        self.keep_alive = False
        if self.transport is not None:
            self.transport.abort()

    @property
    def busy(self) -> bool:
        return self._busy

    def cancel(self) -> None:
        """Cancel the answer in progress (at a stop, past GRACEFUL_S)."""
        if self._answering is not None:
            self._answering.cancel()

    def close_if_idle(self, older_than: float) -> None:
        if not self._busy and self.idle_since is not None and self.idle_since <= older_than:
            assert self.transport is not None
            self.transport.close()


class RouterServer:
    """Serves one :class:`Router` on host:port until SIGTERM/SIGINT (or :meth:`stop`)."""

    def __init__(self, router: Router, host: str, port: int, access_log: bool = False) -> None:
        self.router = router
        self.host, self.port = host, port
        self.access_log = access_log
        self.started = False
        self.stopping = False
        # Open connections, and closed ones until the answer in progress is done.
        self.connections: set[Connection] = set()
        self._stop: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop  # set by serve(), before any connection

    def stop(self) -> None:
        """Stop as a signal would (call it on the server's loop)."""
        if self._stop is not None:
            self._stop.set()

    async def serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = stop = asyncio.Event()
        await self.router.startup()
        server = await self.loop.create_server(lambda: Connection(self), self.host,
                                               self.port, backlog=2048)
        for sig in (signal.SIGTERM, signal.SIGINT):
            # not the main thread (tests): stop() is the way
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                self.loop.add_signal_handler(sig, stop.set)
        self.started = True
        self.router.listening()
        log.info("router listening on http://%s:%d", self.host, self.port)
        sweeper = self.loop.create_task(self._sweep())
        try:
            await stop.wait()
        finally:
            sweeper.cancel()
            await self._drain(server)
            await self.router.shutdown()

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_S)
            older_than = self.loop.time() - KEEP_ALIVE_S
            for connection in list(self.connections):
                connection.close_if_idle(older_than)

    async def _drain(self, server: asyncio.AbstractServer) -> None:
        """Stop accepting, close idle connections, give requests in flight GRACEFUL_S."""
        self.stopping = True
        server.close()
        for connection in list(self.connections):
            connection.keep_alive = False
            connection.close_if_idle(float("inf"))
        deadline = self.loop.time() + GRACEFUL_S
        while any(connection.busy for connection in self.connections) \
                and self.loop.time() < deadline:
            await asyncio.sleep(0.01)  # answers are not Tasks (eager.py): polled, at a stop
        for connection in list(self.connections):
            connection.cancel()
            connection.abort()
