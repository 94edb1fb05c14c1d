"""Helpers for router tests: real upstream HTTP servers on loopback and a real router
process (``python -m devkit_runtime.router``) in front of them.

The upstream is a tiny keep-alive HTTP/1.1 server on its own event loop in a thread. It
answers ``{"deployment": NAME}`` and obeys an ``x-behave`` request header so a test can
make it slow (``slow=MS``), fail (``status=CODE``), crash (``crash``: close the
connection without answering) or stream events HTTP/1.0 style (``stream10``: the last one
only once the test sets ``gate``). It counts what it received, so tests can check where
requests (and mirror copies) actually landed; the router's readiness probes
(``GET /-/ready``) are answered ``ready_status`` and counted apart, in ``probes``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx


def find_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Upstream:
    """One fake deployment replica serving on 127.0.0.1:port in a background thread."""

    def __init__(self, name: str, port: int | None = None) -> None:
        self.name = name
        self.port = port or find_free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.count = 0
        self.last_headers: dict[str, str] = {}
        self.connections = 0
        self.probes = 0
        self.ready_status = 200
        self.gate = threading.Event()  # the ``stream10`` behaviour's handshake
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._handlers: set[asyncio.Task[None]] = set()

    def start(self) -> Upstream:
        self._thread.start()
        self._ready.wait(5)
        return self

    def stop(self) -> None:
        if not self._thread.is_alive():  # stopped already (a test took it down itself)
            return
        self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(5)

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self._ready.set()
        await self._stopping.wait()
        server.close()
        for task in self._handlers:
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self._handlers.discard(task)

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in
                   (line.partition(":") for line in lines if line)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        if request_line.startswith("GET /-/ready "):
            self.probes += 1
            self.connections -= 1  # a probe's connection is not one requests travel on
            writer.write(b"HTTP/1.1 %d Probe\r\ncontent-length: 0\r\nconnection: close"
                         b"\r\n\r\n" % self.ready_status)
            await writer.drain()
            return False
        self.count += 1
        self.last_headers = headers
        behave = headers.get("x-behave", "")
        if behave == "crash":
            return False
        if behave == "http10":  # no content-length: the body ends when the connection does
            writer.write(b"HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nold style")
            await writer.drain()
            return False
        if behave == "stream10":  # events HTTP/1.0 style; the last one after ``gate`` is set
            writer.write(b"HTTP/1.0 200 OK\r\ncontent-type: text/event-stream\r\n\r\n"
                         b"data: first\n\n")
            await writer.drain()
            opened = await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, 30)
            writer.write(b"data: last\n\n" if opened else b"data: the gate never opened\n\n")
            await writer.drain()
            return False
        status = 200
        if behave.startswith("slow="):
            await asyncio.sleep(int(behave[5:]) / 1000)
        elif behave.startswith("status="):
            status = int(behave[7:])
        payload = json.dumps({"deployment": self.name, "line": request_line,
                              "body": body.decode("utf-8", "replace")}).encode()
        writer.write(b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\n"
                     b"content-length: %d\r\nx-upstream: %s\r\n\r\n%s" % (
                         status, b"OK" if status == 200 else b"Teapot Trouble", len(payload),
                         self.name.encode(), payload))
        await writer.drain()
        return True


class RouterProcess:
    """A real router subprocess reading ``config_path``."""

    def __init__(self, config_path: Path) -> None:
        self.config_path = config_path
        self.port = find_free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = config_path.parent / "router.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devkit_runtime.router", "--config", str(config_path),
             "--port", str(self.port), "--log-level", "warning"],
            stdout=self._log, stderr=subprocess.STDOUT)

    def wait_ready(self, generation: int | None = None, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"router exited: {self.log_path.read_text()}")
            try:
                answer = httpx.get(f"{self.url}/-/config", timeout=1)
                if answer.status_code == 200 and (
                        generation is None or answer.json()["generation"] == generation):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"router not ready in {timeout} s: {self.log_path.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self._log.close()


def deployment_entry(name: str, upstreams: list[Upstream], weight: int = 0, mirror: int = 0,
                     **settings: Any) -> dict[str, Any]:
    """A config entry; concurrency defaults high so load tests measure routing, not 429s."""
    settings.setdefault("max_concurrent_requests_per_instance", 16)
    return {"name": name, "replicas": [u.url for u in upstreams], "weight": weight,
            "mirror": mirror, **settings}


def write_config(path: Path, deployments: list[dict[str, Any]], generation: int = 1,
                 auth: dict[str, Any] | None = None, endpoint: str = "test-ep",
                 shadow: dict[str, Any] | None = None) -> None:
    """Write a router config atomically, as the host side does."""
    raw: dict[str, Any] = {"version": 1, "generation": generation, "endpoint": endpoint,
                           "auth": auth or {"mode": "none"}, "deployments": deployments}
    if shadow is not None:
        raw["shadow"] = shadow
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(json.dumps(raw))
    temp.replace(path)

