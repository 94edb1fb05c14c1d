"""Prometheus text-format metrics of one worker process, cheap enough for the hot path.

Counters are plain dicts and a fixed-bucket histogram: recording a request is a few
dictionary operations, no locks (everything runs on the worker's event loop). With several
workers each answers for itself; the ``pid`` label tells them apart.
"""

from __future__ import annotations

import bisect
import os

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
           10.0, 30.0, 60.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """Request counts by route and status, a latency histogram, in-flight and reloads."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, int], int] = {}
        self.bucket_counts = [0] * (len(BUCKETS) + 1)
        self.latency_sum = 0.0
        self.latency_count = 0
        self.in_flight = 0
        self.reloads: dict[str, int] = {"ok": 0, "error": 0}
        self.timeouts = 0
        self.stream_failures = 0
        self.pid = os.getpid()

    def observe(self, route: str, status: int, seconds: float) -> None:
        key = (route, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        self.bucket_counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.latency_sum += seconds
        self.latency_count += 1

    def render(self) -> str:
        pid = f'pid="{self.pid}"'
        lines = ["# HELP devkit_requests_total HTTP requests answered, by route and status.",
                 "# TYPE devkit_requests_total counter"]
        for (route, status), count in sorted(self.requests.items()):
            lines.append(f'devkit_requests_total{{{pid},route="{route}",status="{status}"}} '
                         f"{count}")
        lines += ["# HELP devkit_request_duration_seconds Time to answer a request.",
                  "# TYPE devkit_request_duration_seconds histogram"]
        running = 0
        for index, bound in enumerate((*BUCKETS, "+Inf")):
            running += self.bucket_counts[index]
            lines.append(f'devkit_request_duration_seconds_bucket{{{pid},le="{bound}"}} '
                         f"{running}")
        lines += [f"devkit_request_duration_seconds_sum{{{pid}}} {self.latency_sum:.6f}",
                  f"devkit_request_duration_seconds_count{{{pid}}} {self.latency_count}",
                  "# HELP devkit_requests_in_flight Requests being answered now.",
                  "# TYPE devkit_requests_in_flight gauge",
                  f"devkit_requests_in_flight{{{pid}}} {self.in_flight}",
                  "# HELP devkit_reloads_total Reloads of the scoring module, by outcome.",
                  "# TYPE devkit_reloads_total counter"]
        for outcome, count in sorted(self.reloads.items()):
            lines.append(f'devkit_reloads_total{{{pid},outcome="{outcome}"}} {count}')
        lines += ["# HELP devkit_run_timeouts_total run() calls that hit the scoring timeout.",
                  "# TYPE devkit_run_timeouts_total counter",
                  f"devkit_run_timeouts_total{{{pid}}} {self.timeouts}",
                  "# HELP devkit_stream_failures_total Streamed responses cut off (the "
                  "iterator raised or timed out, or the client left).",
                  "# TYPE devkit_stream_failures_total counter",
                  f"devkit_stream_failures_total{{{pid}}} {self.stream_failures}"]
        return "\n".join(lines) + "\n"
