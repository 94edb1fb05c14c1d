"""Per-deployment request metrics: Prometheus text for scrapers, JSON for the TUI.

Counters live per deployment name and survive config reloads (a traffic change must not
reset the TUI's sparklines). Requests refused before a deployment is chosen (401, 404)
are counted under the pseudo-deployment ``""`` and shown as ``deployment=""``.
Latency uses fixed histogram buckets; p50/p99 in the JSON are estimated from them the way
Prometheus' ``histogram_quantile`` would, which is all a dashboard needs.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Sequence
from typing import Any

BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Histogram:
    """Latency in the fixed ``BUCKETS_S`` buckets (one overflow bucket past the last)."""

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS_S) + 1)
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        self.sum += seconds
        self.counts[bisect.bisect_left(BUCKETS_S, seconds)] += 1

    def quantile(self, q: float) -> float | None:
        return quantile_of(self.counts, q)

    def prometheus(self, name: str, labels: str) -> list[str]:
        lines = []
        cumulative = 0
        for index, bound in enumerate(BUCKETS_S):
            cumulative += self.counts[index]
            lines.append(f'{name}_bucket{{{labels},le="{bound}"}} {cumulative}')
        cumulative += self.counts[-1]
        lines.append(f'{name}_bucket{{{labels},le="+Inf"}} {cumulative}')
        lines.append(f"{name}_sum{{{labels}}} {self.sum:.6f}")
        lines.append(f"{name}_count{{{labels}}} {cumulative}")
        return lines


def quantile_of(counts: Sequence[int], q: float) -> float | None:
    """Estimated quantile in seconds from per-bucket ``counts`` (``BUCKETS_S`` plus the
    overflow), or None when they are all 0. Also used on the difference of two snapshots,
    which is how ``devkit rollout`` gets the latency of one window."""
    total = sum(counts)
    if not total:
        return None
    rank = q * total
    seen = 0
    lower = 0.0
    for index, count in enumerate(counts):
        upper = BUCKETS_S[index] if index < len(BUCKETS_S) else BUCKETS_S[-1]
        if count and seen + count >= rank:
            return lower + (upper - lower) * (rank - seen) / count
        seen += count
        lower = upper
    return BUCKETS_S[-1]


class DeploymentMetrics:
    """Counters of one deployment."""

    def __init__(self) -> None:
        self.by_status: Counter[int] = Counter()
        self.latency = Histogram()
        self.in_flight = 0
        self.mirrored = 0
        self.mirror_failed = 0
        self.mirror_dropped = 0
        self.streams_cut = 0  # streamed responses ended early (timeout, replica dropped)

    def observe(self, status: int, seconds: float) -> None:
        self.by_status[status] += 1
        latency = self.latency  # Histogram.observe, inlined: this runs per request
        latency.sum += seconds
        latency.counts[bisect.bisect_left(BUCKETS_S, seconds)] += 1

    @property
    def requests(self) -> int:
        return sum(self.by_status.values())

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.by_status.items() if status >= 400)

    def quantile(self, q: float) -> float | None:
        """Estimated latency quantile in seconds, or None before the first request."""
        return self.latency.quantile(q)

    def as_json(self) -> dict[str, Any]:
        p50, p99 = self.quantile(0.5), self.quantile(0.99)
        return {
            "requests": self.requests, "errors": self.errors,
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "in_flight": self.in_flight,
            "p50_ms": None if p50 is None else round(p50 * 1000, 3),
            "p99_ms": None if p99 is None else round(p99 * 1000, 3),
            "mirrored": self.mirrored, "mirror_failed": self.mirror_failed,
            "mirror_dropped": self.mirror_dropped, "streams_cut": self.streams_cut,
            "bucket_counts": list(self.latency.counts),
        }


class RouterMetrics:
    """All deployments' counters, by name."""

    def __init__(self) -> None:
        self.deployments: dict[str, DeploymentMetrics] = {}

    def of(self, deployment: str) -> DeploymentMetrics:
        metrics = self.deployments.get(deployment)
        if metrics is None:
            metrics = self.deployments[deployment] = DeploymentMetrics()
        return metrics

    def as_json(self) -> dict[str, Any]:
        return {name: m.as_json() for name, m in sorted(self.deployments.items())}

    def prometheus(self, endpoint: str) -> str:
        lines = [
            "# HELP devkit_router_requests_total Requests answered by the router.",
            "# TYPE devkit_router_requests_total counter",
        ]
        for name, m in sorted(self.deployments.items()):
            for status, count in sorted(m.by_status.items()):
                lines.append(f'devkit_router_requests_total{{{_labels(endpoint, name)},'
                             f'code="{status}"}} {count}')
        lines += ["# HELP devkit_router_request_duration_seconds Time to answer a request.",
                  "# TYPE devkit_router_request_duration_seconds histogram"]
        for name, m in sorted(self.deployments.items()):
            lines += _histogram(_labels(endpoint, name), m)
        lines += _gauges(endpoint, self.deployments)
        return "\n".join(lines) + "\n"


def _labels(endpoint: str, deployment: str) -> str:
    return f'endpoint="{endpoint}",deployment="{deployment}"'


def _histogram(labels: str, m: DeploymentMetrics) -> list[str]:
    return m.latency.prometheus("devkit_router_request_duration_seconds", labels)


def _gauges(endpoint: str, deployments: dict[str, DeploymentMetrics]) -> list[str]:
    series = [
        ("devkit_router_in_flight", "gauge", "Requests being forwarded now.", "in_flight"),
        ("devkit_router_mirrored_total", "counter", "Mirror copies sent.", "mirrored"),
        ("devkit_router_mirror_failed_total", "counter", "Mirror copies that failed.",
         "mirror_failed"),
        ("devkit_router_mirror_dropped_total", "counter",
         "Mirror copies dropped because too many were in flight.", "mirror_dropped"),
        ("devkit_router_streams_cut_total", "counter",
         "Streamed responses cut off (request_timeout_ms, replica or client gone).", "streams_cut"),
    ]
    lines = []
    for metric, kind, help_text, attr in series:
        lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} {kind}"]
        for name, m in sorted(deployments.items()):
            lines.append(f"{metric}{{{_labels(endpoint, name)}}} {getattr(m, attr)}")
    return lines
