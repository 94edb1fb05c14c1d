"""Helpers of the promote tests (imported by name): bounded request loads against a
router on loopback, a free port."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

REQUEST = json.loads((Path(__file__).resolve().parents[2] / "samples" / "regression" /
                      "sample-request.json").read_text())


def find_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(client: httpx.Client, url: str, headers: Mapping[str, str]) -> tuple[int, str]:
    try:
        answer = client.post(url, json=REQUEST, headers=dict(headers), timeout=30)
    except httpx.HTTPError as exc:
        return 0, type(exc).__name__
    return answer.status_code, answer.headers.get("azureml-model-deployment", "")


def burst(url: str, headers: Mapping[str, str], count: int,
          concurrency: int) -> list[tuple[int, str]]:
    """``count`` requests, ``concurrency`` at a time; (status, deployment) each."""
    local = threading.local()
    clients: list[httpx.Client] = []

    def one(_: int) -> tuple[int, str]:
        if not hasattr(local, "client"):
            local.client = httpx.Client()
            clients.append(local.client)
        return call(local.client, url, headers)

    try:
        with ThreadPoolExecutor(concurrency) as pool:
            return list(pool.map(one, range(count)))
    finally:
        for client in clients:
            client.close()


class SteadyLoad:
    """Requests from ``workers`` threads until stopped (at most ``limit`` or 180 s)."""

    def __init__(self, url: str, headers: Mapping[str, str], workers: int = 4,
                 limit: int = 20_000) -> None:
        self.url, self.headers, self.limit = url, dict(headers), limit
        self.results: list[tuple[int, str]] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True)
                         for _ in range(workers)]

    def __enter__(self) -> SteadyLoad:
        for thread in self._threads:
            thread.start()
        time.sleep(0.5)
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.5)
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _run(self) -> None:
        deadline = time.monotonic() + 180
        with httpx.Client() as client:
            while (not self._stop.is_set() and len(self.results) < self.limit
                   and time.monotonic() < deadline):
                self.results.append(call(client, self.url, self.headers))

    @property
    def failures(self) -> list[tuple[int, str]]:
        return [r for r in self.results if r[0] != 200]
