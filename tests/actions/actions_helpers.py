"""Helpers for the action tests: deployment variants of the fixture, and a steady load of
real clients against an endpoint's router that records every answer."""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PIN = "azureml-model-deployment"
MODEL_STATUS = "ms-azureml-model-error-statuscode"


def copy_fixture(name: str, target: Path) -> Path:
    """The ``shadow`` fixture under a unique endpoint ``name`` (parallel runs and other
    engineers' endpoints never collide)."""
    shutil.copytree(FIXTURES / "shadow", target)
    for spec in target.glob("*.yml"):
        text = spec.read_text().replace("name: shadow\n", f"name: {name}\n")
        spec.write_text(text.replace("endpoint_name: shadow\n", f"endpoint_name: {name}\n"))
    return target


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def variant(folder: Path, name: str, env: dict[str, str]) -> None:
    """``name``.yml: blue.yml with another name and environment variables."""
    text = (folder / "blue.yml").read_text().replace("name: blue\n", f"name: {name}\n")
    text = text.replace('  SKEW_FRACTION: "0"\n',
                        "".join(f'  {k}: "{v}"\n' for k, v in env.items()) or
                        '  SKEW_FRACTION: "0"\n')
    (folder / f"{name}.yml").write_text(text)


@dataclass
class Load:
    """``clients`` threads POSTing ``{"x": i}`` to ``url`` until stopped (at most
    ``limit_s`` seconds and ``limit`` requests, so a broken test cannot run forever)."""

    url: str
    headers: dict[str, str]
    clients: int = 2
    limit_s: float = 180.0
    limit: int = 200_000
    answers: Counter[tuple[int, str, str]] = field(default_factory=Counter)
    transport_errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> Load:
        for _ in range(self.clients):
            thread = threading.Thread(target=self._run, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    @property
    def total(self) -> int:
        return sum(self.answers.values())

    def failures(self) -> Counter[tuple[int, str, str]]:
        return Counter({k: n for k, n in self.answers.items() if k[0] != 200})

    def _run(self) -> None:
        deadline = time.monotonic() + self.limit_s
        with httpx.Client(headers=self.headers, timeout=30) as client:
            i = 0
            while not self._stop.is_set() and time.monotonic() < deadline:
                if self.total >= self.limit:
                    return
                i += 1
                try:
                    r = client.post(self.url, json={"x": i % 10})
                except httpx.HTTPError as exc:
                    with self._lock:
                        self.transport_errors.append(repr(exc))
                    continue
                key = (r.status_code, r.headers.get(PIN, ""), r.headers.get(MODEL_STATUS, ""))
                with self._lock:
                    self.answers[key] += 1


def post_many(url: str, headers: dict[str, str], count: int) -> list[httpx.Response]:
    with httpx.Client(headers=headers, timeout=30) as client:
        return [client.post(url, json={"x": i % 10}) for i in range(count)]
