"""The HTTP surface of docs/contract.md §2 as a raw ASGI application (no framework: this is
the hot path, and a framework's routing and request objects cost more than the contract).

Routes: ``/`` (liveness after init, azmlinfsrv's ``Healthy``), ``/score``, ``/swagger.json``,
``/-/live``, ``/-/ready``, ``/metrics``. Every answer carries the request-id headers and
the server version; error bodies are JSON ``{"message": ...}``. A run() result that is an
iterator (or a response over one) is streamed by :mod:`devkit_runtime.streaming`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

from devkit_runtime import __version__
from devkit_runtime.collection import monitoring, writer
from devkit_runtime.cors import Cors
from devkit_runtime.executor import RunFailed, RunTimeout
from devkit_runtime.ids import new_request_id
from devkit_runtime.logs import AccessLog
from devkit_runtime.metrics import CONTENT_TYPE as METRICS_TYPE
from devkit_runtime.oneshot import write_whole
from devkit_runtime.scoring import InputError, Request
from devkit_runtime.state import Health, WorkerState
from devkit_runtime.streaming import chunks_of, send_stream
from devkit_runtime.swagger import SwaggerNotFound

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

HEADER_LIMIT = 100
JSON = b"application/json"
HTML = b"text/html; charset=utf-8"
NOT_FOUND = ("The requested URL was not found on the server. If you entered the URL manually "
             "please check your spelling and try again.")
NOT_ALLOWED = "The method is not allowed for the requested URL."
RUN_FAILED = "An unexpected error occurred in scoring script. Check the logs for more info."
INTERNAL = "An unexpected internal error occurred. Check the logs for more info."
FALSE, TRUE = b"False", b"True"
# The server sets these itself: the length from the body it sends, the failure flag from
# the status and the response's own flag.
_PASSTHROUGH_DROP = frozenset(("x-ms-run-function-failed", "content-length"))
_JSON_TYPES = frozenset((dict, list, str, int, float, bool, type(None)))  # never responses

log = logging.getLogger("devkit_runtime")


class TooLarge(Exception):
    """The request body exceeds the configured limit."""


class Reply:
    """One response being assembled: status, headers, body; or, for a streamed response,
    the iterator of its parts and the response object to close (see :mod:`streaming`)."""

    __slots__ = ("status", "headers", "body", "parts", "source")

    def __init__(self, status: int, body: bytes, content_type: bytes | None = JSON,
                 failed: bytes | None = FALSE) -> None:
        self.status = status
        self.body = body
        self.parts: Iterator[Any] | None = None
        self.source: Any = None
        self.headers: Headers = []
        if content_type is not None:
            self.headers.append((b"content-type", content_type))
        if failed is not None:
            self.headers.append((b"x-ms-run-function-failed", failed))


def error(status: int, message: str, failed: bytes = FALSE) -> Reply:
    return Reply(status, json.dumps({"message": message}).encode() + b"\n", JSON, failed)


def json_reply(status: int, value: Any) -> Reply:
    return Reply(status, json.dumps(value).encode() + b"\n", JSON, None)


class App:
    """ASGI callable for one worker; ``state`` holds the live script."""

    def __init__(self, state: WorkerState,
                 on_startup: Callable[[], Awaitable[None]] | None = None) -> None:
        self.state = state
        self.config = state.config
        self.on_startup = on_startup
        self.version = (self.config.server_version or f"devkit-runtime/{__version__}").encode()
        self.cors = Cors(self.config.cors_origins)
        self.access = AccessLog()
        self.routes: dict[str, Callable[[Scope, Receive], Awaitable[Reply]]] = {
            "/score": self.score, "/": self.health, "/swagger.json": self.swagger,
            "/-/live": self.live, "/-/ready": self.ready, "/metrics": self.metrics,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self.lifespan(receive, send)

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.on_startup is not None:
                    await self.on_startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.state.pool.close()
                self.access.flush()
                writer.close_all()  # what score.py collected reaches its files
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = time.perf_counter()
        metrics = self.state.metrics
        metrics.in_flight += 1
        path = scope["path"]
        ids = request_ids(scope["headers"])
        complete = True
        try:
            if isinstance(ids, Reply):
                reply = ids
            else:
                reply = await self.route(path, scope, receive)
                reply.headers.extend(ids)
            reply.headers.append((b"x-ms-server-version", self.version))
            if self.cors:
                reply.headers += self.cors.headers(scope["method"], scope["headers"])
            if reply.parts is None:
                await send_reply(send, reply)
            else:
                complete = await send_stream(send, receive, reply.status, reply.headers,
                                             reply.parts, reply.source, self.state.pool,
                                             self.config.scoring_timeout_ms)
        finally:
            metrics.in_flight -= 1
        if not complete:
            metrics.stream_failures += 1
        elapsed = time.perf_counter() - start
        metrics.observe(path if path in self.routes else "other", reply.status, elapsed)
        if self.access.enabled:
            self.access.line(scope["method"], path, reply.status, elapsed * 1000)

    async def route(self, path: str, scope: Scope, receive: Receive) -> Reply:
        handler = self.routes.get(path)
        if handler is None:
            return error(404, NOT_FOUND)
        try:
            return await handler(scope, receive)
        except Exception:  # a server bug must still answer in the contract's shape
            log.exception("internal error answering %s %s", scope["method"], path)
            return error(500, INTERNAL)

    async def score(self, scope: Scope, receive: Receive) -> Reply:
        method = scope["method"]
        if method == "OPTIONS":
            return Reply(200, b"", HTML)
        if method not in ("GET", "POST"):
            return error(405, NOT_ALLOWED)
        try:
            body = await read_body(scope, receive, self.config.max_body_bytes)
        except TooLarge:
            return error(413, f"Request body exceeds the limit of {self.config.max_body_bytes}"
                              " bytes (DEVKIT_MAX_BODY_BYTES)")
        state = self.state
        if state.health is not Health.READY:
            await state.wait_settled()
            if state.script is None:
                return self.not_ready()
        script = state.script
        assert script is not None
        request = Request(method, scope["path"], scope["query_string"].decode("latin-1"),
                          scope["headers"], body, scope.get("client"), scope.get("server"))
        run = script.run
        if monitoring.active():  # score.py's Collector joins rows by this request's id
            run = monitoring.around(run, _header(scope["headers"], b"x-request-id") or b"")
        try:
            kwargs = script.arguments(request)
            result, elapsed_ms = await state.pool.call(run, kwargs,
                                                       self.config.scoring_timeout_ms)
        except InputError as exc:
            return error(exc.status, exc.message)
        except RunTimeout as exc:
            state.metrics.timeouts += 1
            log.error("run() did not finish within %d ms (SCORING_TIMEOUT_MS); answered 500 "
                      "and moved on to a fresh thread", exc.timeout_ms)
            return error(500, str(exc), TRUE)
        except RunFailed as exc:
            log.error("run() raised:", exc_info=exc.error)
            return error(500, RUN_FAILED, TRUE)
        reply = to_reply(result)
        reply.headers.append((b"x-ms-run-fn-exec-ms", b"%.3f" % elapsed_ms))
        return reply

    async def health(self, scope: Scope, receive: Receive) -> Reply:
        if scope["method"] not in ("GET", "HEAD"):
            return error(405, NOT_ALLOWED)
        await self.state.wait_settled()
        if self.state.script is None:
            return self.not_ready()
        return Reply(200, b"Healthy", HTML, None)

    async def swagger(self, scope: Scope, receive: Receive) -> Reply:
        if scope["method"] not in ("GET", "HEAD"):
            return error(405, NOT_ALLOWED)
        await self.state.wait_settled()
        version = _query_value(scope["query_string"], "version")
        try:
            document = self.state.docs.get(version)
        except SwaggerNotFound as exc:
            return error(404, str(exc))
        return Reply(200, json.dumps(document).encode() + b"\n")

    async def live(self, scope: Scope, receive: Receive) -> Reply:
        reason = self.state.liveness()
        if reason is not None:  # what a kubelet's (or the supervisor's) probe restarts for
            return json_reply(503, {"live": False, "pid": self.state.metrics.pid,
                                    "reason": reason})
        return json_reply(200, {"live": True, "pid": self.state.metrics.pid})

    async def ready(self, scope: Scope, receive: Receive) -> Reply:
        status, body = self.state.readiness()
        return json_reply(status, body)

    async def metrics(self, scope: Scope, receive: Receive) -> Reply:
        return Reply(200, self.state.metrics.render().encode(), METRICS_TYPE.encode(), None)

    def not_ready(self) -> Reply:
        failure = self.state.failure
        reason = failure.error if failure else "the scoring script is not loaded"
        return error(503, f"The scoring script is not ready: {reason}. "
                          "See GET /-/ready and the server log for the traceback.")


def to_reply(result: Any) -> Reply:
    """run()'s return value as a response: an AMLResponse (or any Flask-like response)
    passes through; an iterator streams (**devkit:** azmlinfsrv answers 500, as it cannot
    JSON-encode one, so a bare generator is treated as ``AMLResponse(generator, 200)``);
    anything else is JSON, None becoming ``{}``."""
    if type(result) not in _JSON_TYPES:
        if hasattr(result, "status_code") and hasattr(result, "get_data"):
            return _passthrough(result)
        parts = chunks_of(result)
        if parts is not None:
            reply = Reply(200, b"", HTML)
            reply.parts = parts
            return reply
    try:
        body = b"{}" if result is None else json.dumps(result).encode()
    except (TypeError, ValueError) as exc:
        log.error("run() returned a value JSON cannot encode (%s: %s); return lists, dicts, "
                  "strings and numbers, or an AMLResponse", type(exc).__name__, exc)
        return error(500, INTERNAL)
    return Reply(200, body + b"\n")


def _passthrough(result: Any) -> Reply:
    status = int(result.status_code)
    parts = chunks_of(result)
    reply = Reply(status, b"" if parts is not None else bytes(result.get_data()), None, None)
    reply.parts, reply.source = parts, result
    failed = status >= 500 or bool(getattr(result, "run_function_failed", False))
    headers = result.headers
    pairs = headers if isinstance(headers, list) else list(headers.items())
    for name, value in pairs:
        if name.lower() not in _PASSTHROUGH_DROP:
            reply.headers.append((name.encode("latin-1"), str(value).encode("latin-1")))
    reply.headers.append((b"x-ms-run-function-failed", TRUE if failed else FALSE))
    return reply


def request_ids(raw: Headers) -> Headers | Reply:
    """The request-id headers to echo (azmlinfsrv's rules), or a 431 reply."""
    request_id = legacy = client = trace = b""
    for name, value in raw:
        if name == b"x-request-id":
            request_id = value
        elif name == b"x-ms-request-id":
            legacy = value
        elif name == b"x-ms-client-request-id":
            client = value
        elif name == b"traceid":
            trace = value
    if not request_id:
        request_id = new_request_id()
    elif len(request_id) > HEADER_LIMIT:
        refused = error(431, f"x-request-id must not exceed {HEADER_LIMIT} characters")
        if trace:
            refused.headers.append((b"TraceId", trace))
        return refused
    if legacy:
        client = client or legacy
    else:
        legacy = client or request_id
    if len(legacy) > HEADER_LIMIT or len(client) > HEADER_LIMIT:
        refused = error(431, f"x-ms-request-id and x-ms-client-request-id must not exceed "
                             f"{HEADER_LIMIT} characters")
        refused.headers.append((b"x-request-id", request_id))  # as azmlinfsrv: still traceable
        if trace:
            refused.headers.append((b"TraceId", trace))
        return refused
    ids = [(b"x-request-id", request_id), (b"x-ms-request-id", legacy)]
    if client:
        ids.append((b"x-ms-client-request-id", client))
    if trace:  # Office services' own tracing header, echoed as azmlinfsrv does
        ids.append((b"TraceId", trace))
    return ids


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The whole request body, or TooLarge as soon as it is known to exceed ``limit``."""
    declared = _header(scope["headers"], b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge  # before receive(): a client sending Expect: 100-continue never uploads
    message = await receive()
    chunk: bytes = message.get("body", b"")
    if len(chunk) > limit:
        raise TooLarge
    if not message.get("more_body", False):
        return chunk  # the usual case: the body arrived with the headers
    chunks = [chunk] if chunk else []
    size = len(chunk)
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise TooLarge
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def send_reply(send: Send, reply: Reply) -> None:
    reply.headers.append((b"content-length", b"%d" % len(reply.body)))
    if reply.source is None and write_whole(send, reply.status, reply.headers, reply.body):
        return  # one write; a script's own response headers keep uvicorn's checks below
    await send({"type": "http.response.start", "status": reply.status,
                "headers": reply.headers})
    await send({"type": "http.response.body", "body": reply.body})


def _header(raw: Headers, name: bytes) -> bytes | None:
    for key, value in raw:
        if key == name:
            return value
    return None


def _query_value(query: bytes, name: str) -> str | None:
    from urllib.parse import parse_qsl

    for key, value in parse_qsl(query.decode("latin-1")):
        if key == name:
            return value
    return None
