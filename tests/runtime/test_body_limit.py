"""The body limit (DEVKIT_MAX_BODY_BYTES) on every way a body can arrive: declared with
Content-Length (refused before the upload when the client waits for 100-continue),
streamed in chunks without a length, and a chunked body under the limit reassembled."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from runtime_server import SCRIPTS, RunningServer, devkit_server

LIMIT = 1000


@pytest.fixture(scope="module")
def echo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    tmp: Path = tmp_path_factory.mktemp("body-limit")
    with devkit_server(SCRIPTS / "score_echo.py", tmp,
                       env={"DEVKIT_MAX_BODY_BYTES": str(LIMIT)}) as server:
        yield server


def _exchange(port: int, head: bytes, chunks: Sequence[bytes] = ()) -> tuple[int, bytes]:
    """Send a raw request (head, then each chunk), return the status and the body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        for chunk in chunks:
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        if chunks:
            sock.sendall(b"0\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(65536)
        head_part, _, body = answer.partition(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head_part.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        while len(body) < length:
            body += sock.recv(65536)
        return int(head_part.split(b" ")[1]), body


def test_a_declared_length_over_the_limit_is_refused_before_the_upload(
        echo: RunningServer) -> None:
    head = (b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 5000000\r\nExpect: 100-continue\r\n\r\n")
    status, body = _exchange(echo.port, head)  # no body sent: a 100 Continue would hang
    assert status == 413
    assert "DEVKIT_MAX_BODY_BYTES" in json.loads(body)["message"]


def test_a_chunked_body_over_the_limit_is_413(echo: RunningServer) -> None:
    head = b"POST /score HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    status, body = _exchange(echo.port, head, [b"x" * 600, b"y" * 600])
    assert status == 413
    assert "1000 bytes" in json.loads(body)["message"]


def test_a_chunked_body_under_the_limit_reaches_run_whole(echo: RunningServer) -> None:
    head = b"POST /score HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    status, body = _exchange(echo.port, head, [b"a" * 300, b"b" * 300, b"c" * 300])
    assert status == 200
    assert json.loads(body) == {"echo": "a" * 300 + "b" * 300 + "c" * 300}
