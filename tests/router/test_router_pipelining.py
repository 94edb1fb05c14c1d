"""Requests pipelined on one connection, over a raw socket: answered in order, each
once, none after a ``Connection: close`` (server.py answers them one at a time, the
next on the loop turn after the last: eager.py)."""

from __future__ import annotations

import re
import socket
import time

from router_helpers import deployment_entry


def exchange(port: int, data: bytes, until: int) -> bytes:
    """Send ``data`` in one write; read until ``until`` answers came or the router closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as client:
        client.sendall(data)
        received = b""
        deadline = time.monotonic() + 20
        while received.count(b"HTTP/1.1 ") < until and time.monotonic() < deadline:
            chunk = client.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def test_a_burst_of_pipelined_local_answers_all_come_back(upstreams, router) -> None:
    proc = router([deployment_entry("blue", [upstreams("blue")], 100)])
    count = 2000  # each is answered at once: they must not nest (recursion) or reorder
    received = exchange(proc.port, b"GET /-/live HTTP/1.1\r\nhost: x\r\n\r\n" * count, count)
    assert received.count(b"HTTP/1.1 200 OK\r\n") == count
    assert received.count(b'{"status": "live"}') == count


def test_pipelined_scoring_calls_are_answered_in_order(upstreams, router) -> None:
    proc = router([deployment_entry("blue", [upstreams("blue")], 100)])
    requests = b"".join(b"POST /score HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n"
                        b"x-ms-client-request-id: call-%d\r\n\r\n{}" % n for n in range(20))
    received = exchange(proc.port, requests, 20)
    assert re.findall(rb"x-ms-client-request-id: (call-\d+)", received) == \
        [b"call-%d" % n for n in range(20)]


def test_nothing_is_answered_after_connection_close(upstreams, router) -> None:
    proc = router([deployment_entry("blue", [upstreams("blue")], 100)])
    for first in (b"GET /-/live", b"POST /score"):  # answered at once, and proxied
        received = exchange(proc.port, first + b" HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n"
                            b"connection: close\r\n\r\nGET /-/live HTTP/1.1\r\nhost: x\r\n\r\n", 2)
        assert received.count(b"HTTP/1.1 ") == 1, received
        assert b"connection: close" in received
