"""What one deployment did between two reads of the router's metrics.

The router's counters only grow (they survive config reloads), so the difference of two
``/-/metrics.json`` reads is exactly the traffic of that window: requests, errors (any
status >= 400 the router answered for the deployment: model errors as 424, timeouts 408,
overload 429, crashes 502, no replica 503) and the latency histogram, from which the
window's p99 is estimated the way Prometheus' ``histogram_quantile`` would. A router
that restarted in between (counts went down) makes the later read the whole window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devkit_runtime.router.metrics import quantile_of


@dataclass(frozen=True)
class Counts:
    """One deployment's cumulative counters at one read."""

    requests: int = 0
    errors: int = 0
    buckets: tuple[int, ...] = ()

    @classmethod
    def from_json(cls, raw: Mapping[str, Any] | None) -> Counts:
        if not raw:
            return cls()
        return cls(int(raw.get("requests", 0)), int(raw.get("errors", 0)),
                   tuple(int(n) for n in raw.get("bucket_counts", ())))


@dataclass(frozen=True)
class Window:
    """A deployment's traffic between two reads."""

    requests: int
    errors: int
    buckets: tuple[int, ...]

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    def p99_ms(self) -> float | None:
        found = quantile_of(self.buckets, 0.99)
        return None if found is None else found * 1000

    def as_json(self) -> dict[str, Any]:
        p99 = self.p99_ms()
        return {"requests": self.requests, "errors": self.errors,
                "error_rate": round(self.error_rate, 6),
                "p99_ms": None if p99 is None else round(p99, 3)}


def read_counts(metrics: Mapping[str, Any]) -> dict[str, Counts]:
    """Every deployment's counters from a ``/-/metrics.json`` document."""
    deployments = metrics.get("deployments") or {}
    return {name: Counts.from_json(raw) for name, raw in deployments.items() if name}


def window(before: Counts, after: Counts) -> Window:
    if after.requests < before.requests or len(before.buckets) != len(after.buckets):
        before = Counts(buckets=tuple(0 for _ in after.buckets))  # the router restarted
    return Window(after.requests - before.requests, after.errors - before.errors,
                  _minus(after.buckets, before.buckets))


def _minus(after: Sequence[int], before: Sequence[int]) -> tuple[int, ...]:
    return tuple(a - b for a, b in zip(after, before, strict=True))
