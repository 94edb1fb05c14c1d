"""A steady, bounded load of real HTTP clients against an endpoint's router that records
every answer: the fault and rollout tests count what failed while something happened.

``Load`` POSTs ``{"x": i}`` from ``clients`` threads until stopped (at most ``limit_s``
seconds and ``limit`` requests, so a broken test cannot run forever). Each answer is
counted by (status, deployment header, model error status), transport errors by their
repr; every failure is also kept with its time (``time.monotonic()``) so a fault test can
say how long healing took, and the slowest answer is kept so it can say none hung.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

PIN = "azureml-model-deployment"
MODEL_STATUS = "ms-azureml-model-error-statuscode"


@dataclass
class Load:
    """``clients`` threads POSTing ``{"x": i}`` to ``url`` until stopped."""

    url: str
    headers: dict[str, str]
    clients: int = 2
    limit_s: float = 180.0
    limit: int = 200_000
    timeout_s: float = 30.0  # per request: a hung answer shows as a transport error
    pause_s: float = 0.0  # between one client's requests (a bounded, lighter load)
    answers: Counter[tuple[int, str, str]] = field(default_factory=Counter)
    transport_errors: list[str] = field(default_factory=list)
    failure_times: list[tuple[float, int]] = field(default_factory=list)  # (when, status|0)
    slowest_s: float = 0.0
    _ok_times: list[float] = field(default_factory=list)
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
            thread.join(self.timeout_s + 5)

    @property
    def total(self) -> int:
        return sum(self.answers.values())

    def failures(self) -> Counter[tuple[int, str, str]]:
        return Counter({k: n for k, n in self.answers.items() if k[0] != 200})

    @property
    def attempts(self) -> int:
        """Every request sent: answered or failed in transport."""
        return self.total + len(self.transport_errors)

    @property
    def failed(self) -> int:
        """Non-200 answers plus transport errors."""
        return sum(self.failures().values()) + len(self.transport_errors)

    def successes_since(self, moment: float) -> int:
        """How many requests were answered 200 after ``moment`` (to wait until traffic
        flows again)."""
        with self._lock:
            return sum(1 for t in self._ok_times if t >= moment)

    def last_failure_after(self, moment: float) -> float | None:
        with self._lock:
            times = [t for t, _ in self.failure_times if t >= moment]
        return max(times) if times else None

    def _run(self) -> None:
        deadline = time.monotonic() + self.limit_s
        with httpx.Client(headers=self.headers, timeout=self.timeout_s) as client:
            i = 0
            while not self._stop.is_set() and time.monotonic() < deadline:
                if self.total >= self.limit:
                    return
                i += 1
                started = time.monotonic()
                try:
                    r = client.post(self.url, json={"x": i % 10})
                except httpx.HTTPError as exc:
                    with self._lock:
                        self.transport_errors.append(repr(exc))
                        self.failure_times.append((time.monotonic(), 0))
                        self.slowest_s = max(self.slowest_s, time.monotonic() - started)
                    if self.pause_s:  # refused at once: keep the load bounded anyway
                        self._stop.wait(self.pause_s)
                    continue
                now = time.monotonic()
                key = (r.status_code, r.headers.get(PIN, ""), r.headers.get(MODEL_STATUS, ""))
                with self._lock:
                    self.answers[key] += 1
                    self.slowest_s = max(self.slowest_s, now - started)
                    if r.status_code != 200:
                        self.failure_times.append((now, r.status_code))
                    else:
                        self._ok_times.append(now)
                if self.pause_s:
                    self._stop.wait(self.pause_s)
