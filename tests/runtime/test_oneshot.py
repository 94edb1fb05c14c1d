"""One-write responses (devkit_runtime.oneshot) on a real uvicorn server on loopback: the
fast path is taken for the server's own answers, keeps HTTP's rules (keep-alive, a
requested close, HEAD without a body, uvicorn's date header) and steps aside for anything
that is not uvicorn's own ``send`` (a middleware wrapping it), on both event loops."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from devkit_runtime.oneshot import write_whole

BODY = b'{"ok": true}\n'
HEADERS = [(b"content-type", b"application/json"), (b"X-Ms-Request-Id", b"abc"),
           (b"content-length", str(len(BODY)).encode())]


class Recorder:
    """An ASGI app answering every request with write_whole, remembering what it returned;
    ``wrap`` passes it a wrapped ``send`` as a middleware would."""

    def __init__(self, wrap: bool = False) -> None:
        self.wrap = wrap
        self.outcomes: list[bool] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await receive()
        target = send
        if self.wrap:
            async def target(message: dict[str, Any]) -> None:
                await send(message)
        done = write_whole(target, 200, list(HEADERS), BODY)
        self.outcomes.append(done)
        if not done:
            await target({"type": "http.response.start", "status": 200,
                          "headers": list(HEADERS)})
            await target({"type": "http.response.body", "body": BODY})


@pytest.fixture(params=["asyncio", "uvloop"])
def loop_name(request: pytest.FixtureRequest) -> str:
    if request.param == "uvloop":
        pytest.importorskip("uvloop")
    return str(request.param)


@pytest.fixture
def serve(loop_name: str) -> Iterator[Any]:
    servers: list[uvicorn.Server] = []
    threads: list[threading.Thread] = []

    def start(app: Recorder) -> int:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(app, http="httptools", loop=loop_name, lifespan="off",
                                log_config=None, access_log=False)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start in 10 s"
            time.sleep(0.01)
        servers.append(server)
        threads.append(thread)
        return int(sock.getsockname()[1])

    yield start
    for server in servers:
        server.should_exit = True
    for thread in threads:
        thread.join(timeout=10)


def exchange(sock: socket.socket, request: bytes) -> bytes:
    """Send one request and read exactly one response (head + content-length body)."""
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed mid-response: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    if b"HEAD " in request[:5]:
        length = 0
    while len(rest) < length:
        rest += sock.recv(65536)
    return head + b"\r\n\r\n" + rest


def outcomes(app: Recorder, count: int) -> list[bool]:
    """The app's outcomes once it recorded ``count`` (it records after its write, in the
    server's thread, so the client can see the answer first)."""
    deadline = time.monotonic() + 10
    while len(app.outcomes) < count and time.monotonic() < deadline:
        time.sleep(0.005)
    return app.outcomes


def test_keep_alive_answers_in_one_write(serve: Any) -> None:
    app = Recorder()
    port = serve(app)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for _ in range(3):
            reply = exchange(sock, b"POST /score HTTP/1.1\r\nHost: x\r\n"
                                   b"Content-Length: 2\r\n\r\n{}")
            head, _, body = reply.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            assert lines[0] == b"HTTP/1.1 200 OK"
            names = [line.split(b":", 1)[0] for line in lines[1:]]
            assert b"date" in names  # uvicorn's default header is kept
            assert b"x-ms-request-id" in names  # names lower-cased, as uvicorn writes them
            assert b"connection" not in names
            assert body == BODY
    assert outcomes(app, 3) == [True, True, True]


def test_a_requested_close_is_honoured(serve: Any) -> None:
    app = Recorder()
    port = serve(app)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        reply = exchange(sock, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert b"\r\nconnection: close\r\n" in reply
        assert reply.endswith(BODY)
        assert sock.recv(1) == b""  # the server closed its side
    assert outcomes(app, 1) == [True]


def test_head_gets_the_length_but_no_body(serve: Any) -> None:
    app = Recorder()
    port = serve(app)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        reply = exchange(sock, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert reply.endswith(b"\r\n\r\n")
        assert f"content-length: {len(BODY)}".encode() in reply
        # the connection stays usable: the next answer is not preceded by a stray body
        second = exchange(sock, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert second.startswith(b"HTTP/1.1 200 OK") and second.endswith(BODY)
    assert outcomes(app, 2) == [True, True]


def test_a_wrapped_send_takes_the_asgi_path(serve: Any) -> None:
    app = Recorder(wrap=True)
    port = serve(app)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        reply = exchange(sock, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 200 OK") and reply.endswith(BODY)
    assert outcomes(app, 1) == [False]


def test_not_a_uvicorn_send() -> None:
    async def send(message: dict[str, Any]) -> None:
        raise AssertionError("write_whole must not call send")

    assert asyncio.run(_not_taken(send)) is False


async def _not_taken(send: Any) -> bool:
    return write_whole(send, 200, list(HEADERS), BODY)
