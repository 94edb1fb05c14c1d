"""Rolling series for the sparklines: requests per second and p99 per deployment.

The router reports cumulative counters; a rate needs two samples and their times, so the
main screen feeds every poll's metrics here with the poll's clock. Pure data, no Textual,
so the arithmetic is tested without a terminal.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from devkit.tui.views import Metrics

SAMPLES = 60  # one minute at the default 1 s poll


@dataclass
class Series:
    """One deployment's recent history and its latest counters."""

    rps: deque[float] = field(default_factory=lambda: deque(maxlen=SAMPLES))
    p99: deque[float] = field(default_factory=lambda: deque(maxlen=SAMPLES))
    latest: Metrics | None = None
    _last: tuple[float, int] | None = None

    def add(self, metrics: Metrics, now: float) -> None:
        if self._last is not None and now > self._last[0]:
            delta = max(metrics.requests - self._last[1], 0)
            self.rps.append(delta / (now - self._last[0]))
        self.p99.append(metrics.p99_ms or 0.0)
        self._last = (now, metrics.requests)
        self.latest = metrics

    @property
    def current_rps(self) -> float:
        return self.rps[-1] if self.rps else 0.0


class MetricsHistory:
    """Series by (endpoint, deployment)."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, str], Series] = {}

    def record(self, endpoint: str, metrics: dict[str, Metrics], now: float) -> None:
        for deployment, sample in metrics.items():
            if deployment:  # "" counts requests refused before routing (401/404)
                self.of(endpoint, deployment).add(sample, now)

    def of(self, endpoint: str, deployment: str) -> Series:
        return self._series.setdefault((endpoint, deployment), Series())
