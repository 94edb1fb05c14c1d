"""Shadow diff: the mirrored deployment's answers kept and compared with the live ones.

For a mirrored request the router opens a :class:`Pending` pair; the live path and the
mirror task each hand it their :class:`~devkit_runtime.router.diff.Answer`. When both are
in, the pair joins a bounded queue that a loop callback drains in batches
``DRAIN_DELAY_S`` later, long after the live response went out, so comparing never sits
on the live answer's path. A full queue drops the pair (counted as ``dropped``) rather
than let memory grow or the comparing fall behind the live traffic. Agreeing bodies are
settled by one bytes comparison, without parsing.

Comparing also has a CPU budget (``COMPARE_BUDGET`` of one core, with a short burst
allowance): under more mirrored traffic than that pays for, new pairs are not opened
(counted as ``skipped``) until the budget has refilled. The router shares its core with
the live path, so an unbounded diff would slow every live answer at high load; skipping
by time, not by content, keeps the compared pairs a fair sample (agreement rates and
field counts stay unbiased, over fewer pairs).

Per live/shadow pair (:class:`PairStats`) the router keeps: compared / agreed counts,
status and body mismatches, the JSON fields that differ most often (a bounded counter),
error counts and latency histograms of each side, and the last ``RECENT`` disagreements
with their request ids. Everything is fixed-size, whatever the traffic.

When data collection is on for a deployment of the endpoint (its data folder is
``<data>/<endpoint>/<deployment>``), each disagreement is also appended as one JSON line
to ``<data>/<endpoint>/shadow/<live>-vs-<shadow>.jsonl``; a ``log_dir`` in the config's
``shadow`` section overrides the folder. Otherwise disagreements stay in memory only.

Exposed as ``GET /-/shadow.json`` and as ``devkit_router_shadow_*`` series in ``/metrics``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from devkit_runtime.router.config import RouterConfig, ShadowSettings
from devkit_runtime.router.diff import Answer, Verdict, compare
from devkit_runtime.router.metrics import BUCKETS_S, Histogram
from devkit_runtime.router.proxy import ERROR_STATUS, Outgoing
from devkit_runtime.router.upstream import UpstreamResponse

log = logging.getLogger("devkit.router")

RECENT = 20  # disagreements kept per pair
MAX_FIELDS = 200  # distinct differing fields counted per pair; later ones go to "(other)"
MAX_QUEUE = 1024  # pairs waiting to be compared
BATCH = 64  # pairs compared per loop turn, so a burst never stalls the loop for long
# Pairs wait this long to be compared together: one callback per batch instead of one per
# pair, and always after the live answers of the batch went out.
DRAIN_DELAY_S = 0.005
# The share of one core comparing may use on average, and the seconds of comparing that
# may be spent at once before the budget applies (a test's or a replay's burst fits).
COMPARE_BUDGET = 0.02
BUDGET_BURST_S = 0.05
# What the router answers itself when no answer came from the replica (CONTRACT.md §3).
ROUTER_FAILURES = frozenset({408, 429, 502, 503})


def live_answer(outgoing: Outgoing, seconds: float) -> Answer:
    """The live side as the replica answered it: a 424 is read back to the model's own
    status, so both sides are compared on what the replicas said."""
    content_type, model_status = b"", None
    for name, value in outgoing.headers:  # one pass, no dict: this runs per request
        if name == b"content-type":
            content_type = value
        elif name == ERROR_STATUS:
            model_status = value
    body = None if outgoing.stream is not None else outgoing.body
    failure = "streamed" if body is None else ""
    kind = content_type.decode("latin-1")
    if model_status is not None:
        return Answer(int(model_status), body, kind, seconds, failure)
    if outgoing.status in ROUTER_FAILURES:
        return Answer(outgoing.status, None, seconds=seconds, failure="no answer")
    return Answer(outgoing.status, body, kind, seconds, failure)


def upstream_answer(response: UpstreamResponse, seconds: float) -> Answer:
    for name, value in response.headers:
        if name == b"content-type":
            return Answer(response.status, response.body, value.decode("latin-1"), seconds)
    return Answer(response.status, response.body, "", seconds)


def failed_answer(status: int, why: str, seconds: float) -> Answer:
    return Answer(status, None, seconds=seconds, failure=why)


def with_data_dir(config: RouterConfig) -> ShadowSettings:
    """The config's shadow settings, logging next to the endpoint's collected data when a
    deployment collects and the config names no ``log_dir`` of its own."""
    settings = config.shadow
    if settings.log_dir is not None:
        return settings
    for route in config.deployments:
        if route.data_collection is not None:
            return replace(settings, log_dir=route.data_collection.dir.parent / "shadow")
    return settings


class Side:
    """Errors and latency of one side of a pair."""

    def __init__(self) -> None:
        self.errors = 0
        self.latency = Histogram()

    def observe(self, answer: Answer) -> None:
        self.errors += answer.is_error
        self.latency.observe(answer.seconds)

    def as_json(self, compared: int) -> dict[str, Any]:
        return {"errors": self.errors, "error_rate": _rate(self.errors, compared),
                "p50_ms": _ms(self.latency.quantile(0.5)),
                "p99_ms": _ms(self.latency.quantile(0.99))}


class Disagreement:
    """One disagreement, kept as found; its JSON is built only when someone reads it (the
    last RECENT are kept, and most are overwritten before anyone asks)."""

    __slots__ = ("time", "request_id", "live_name", "shadow_name", "verdict", "live",
                 "shadow")

    def __init__(self, when: float, request_id: str, live_name: str, shadow_name: str,
                 verdict: Verdict, live: Answer, shadow: Answer) -> None:
        self.time, self.request_id = when, request_id
        self.live_name, self.shadow_name = live_name, shadow_name
        self.verdict, self.live, self.shadow = verdict, live, shadow

    def as_json(self) -> dict[str, Any]:
        verdict, live, shadow = self.verdict, self.live, self.shadow
        return {"time": self.time, "request_id": self.request_id, "live": self.live_name,
                "shadow": self.shadow_name, "kind": verdict.kind,
                "live_status": live.status, "shadow_status": shadow.status,
                "live_ms": round(live.seconds * 1000, 3),
                "shadow_ms": round(shadow.seconds * 1000, 3),
                "differences": [d.as_json() for d in verdict.differences],
                "more_differences": verdict.more}


class PairStats:
    """Everything kept about one live/shadow pair of deployments."""

    def __init__(self, live: str, shadow: str) -> None:
        self.live_name, self.shadow_name = live, shadow
        self.compared = self.agreed = 0
        self.status_mismatches = self.body_mismatches = 0
        self.dropped = 0
        self.skipped = 0  # pairs not opened: comparing was over its CPU budget
        self.fields: Counter[str] = Counter()
        self.live, self.shadow = Side(), Side()
        self.recent: deque[Disagreement] = deque(maxlen=RECENT)

    def record(self, verdict: Verdict, live: Answer, shadow: Answer,
               request_id: str) -> Disagreement | None:
        """Count one comparison; the disagreement when they differ."""
        self.compared += 1
        self.live.observe(live)
        self.shadow.observe(shadow)
        if verdict.agrees:
            self.agreed += 1
            return None
        if verdict.status_differs:
            self.status_mismatches += 1
        else:
            self.body_mismatches += 1
        for name in verdict.fields:
            key = name if name in self.fields or len(self.fields) < MAX_FIELDS else "(other)"
            self.fields[key] += 1
        entry = Disagreement(time.time(), request_id, self.live_name, self.shadow_name,
                             verdict, live, shadow)
        self.recent.append(entry)
        return entry

    def as_json(self) -> dict[str, Any]:
        return {
            "live_deployment": self.live_name, "shadow_deployment": self.shadow_name,
            "compared": self.compared, "agreed": self.agreed,
            "agreement_rate": _rate(self.agreed, self.compared),
            "status_mismatches": self.status_mismatches,
            "body_mismatches": self.body_mismatches, "dropped": self.dropped,
            "skipped": self.skipped,
            "fields": [{"path": p, "count": n} for p, n in self.fields.most_common(10)],
            "live": self.live.as_json(self.compared),
            "shadow": self.shadow.as_json(self.compared),
            "recent": [entry.as_json() for entry in self.recent],
        }


class Pending:
    """One mirrored request waiting for both answers."""

    __slots__ = ("book", "live_name", "shadow_name", "request_id", "live", "shadow")

    def __init__(self, book: ShadowBook, live: str, shadow: str, request_id: str) -> None:
        self.book = book
        self.live_name, self.shadow_name, self.request_id = live, shadow, request_id
        self.live: Answer | None = None
        self.shadow: Answer | None = None

    def live_done(self, answer: Answer) -> None:
        self.live = answer
        if self.shadow is not None:
            self.book.ready(self)

    def shadow_done(self, answer: Answer) -> None:
        self.shadow = answer
        if self.live is not None:
            self.book.ready(self)


class ShadowBook:
    """All pairs' statistics, and the queue of pairs waiting to be compared."""

    def __init__(self, settings: ShadowSettings | None = None) -> None:
        self.settings = settings or ShadowSettings()
        self.pairs: dict[tuple[str, str], PairStats] = {}
        self._queue: deque[Pending] = deque()
        self._scheduled = False
        self.compare_seconds = 0.0  # time spent comparing, for the benchmark and /metrics
        self._credit = BUDGET_BURST_S  # seconds of comparing the budget allows right now
        self._credit_at = time.perf_counter()

    def configure(self, settings: ShadowSettings) -> None:
        self.settings = settings

    def begin(self, live: str, shadow: str, request_id: bytes) -> Pending | None:
        """A pair for a mirrored request, or None when comparing is switched off."""
        if not self.settings.compare:
            return None
        if self._credit <= 0.0:  # one float test on the live path while within budget
            self._refill(time.perf_counter())
            if self._credit <= 0.0:
                self.stats(live, shadow).skipped += 1
                return None
        return Pending(self, live, shadow, request_id.decode("latin-1"))

    def stats(self, live: str, shadow: str) -> PairStats:
        pair = self.pairs.get((live, shadow))
        if pair is None:
            pair = self.pairs[(live, shadow)] = PairStats(live, shadow)
        return pair

    def ready(self, pending: Pending) -> None:
        if len(self._queue) >= MAX_QUEUE:
            self.stats(pending.live_name, pending.shadow_name).dropped += 1
            return
        self._queue.append(pending)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_later(DRAIN_DELAY_S, self._drain)

    def _refill(self, now: float) -> None:
        self._credit = min(BUDGET_BURST_S,
                           self._credit + (now - self._credit_at) * COMPARE_BUDGET)
        self._credit_at = now

    def _drain(self) -> None:
        started = time.perf_counter()
        for _ in range(min(BATCH, len(self._queue))):
            self._compare(self._queue.popleft())
        finished = time.perf_counter()
        self.compare_seconds += finished - started
        self._refill(finished)
        self._credit -= finished - started
        if self._queue:
            asyncio.get_running_loop().call_soon(self._drain)
        else:
            self._scheduled = False

    def _compare(self, pending: Pending) -> None:
        live, shadow = pending.live, pending.shadow
        assert live is not None and shadow is not None
        verdict = compare(live, shadow, self.settings.tolerance)
        entry = self.stats(pending.live_name, pending.shadow_name).record(
            verdict, live, shadow, pending.request_id)
        if entry is not None and self.settings.log_dir is not None:
            self._log(entry)

    def _log(self, entry: Disagreement) -> None:
        folder = self.settings.log_dir
        assert folder is not None
        target = folder / f"{entry.live_name}-vs-{entry.shadow_name}.jsonl"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with target.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry.as_json()) + "\n")
        except OSError as exc:  # a full disk must not stop comparing; say it once per line
            log.warning("cannot append the shadow disagreement to %s: %s", target, exc)

    def as_json(self, endpoint: str) -> dict[str, Any]:
        return {"endpoint": endpoint, "compare": self.settings.compare,
                "tolerance": self.settings.tolerance.as_json(),
                "log_dir": str(self.settings.log_dir) if self.settings.log_dir else None,
                "queued": len(self._queue),
                "compare_seconds": round(self.compare_seconds, 6),
                "pairs": [p.as_json() for _, p in sorted(self.pairs.items())]}

    def prometheus(self, endpoint: str) -> str:
        return "\n".join(_series(endpoint, list(self.pairs.values()))) + "\n"


_COUNTERS: tuple[tuple[str, str, Callable[[PairStats], int]], ...] = (
    ("compared", "Mirrored requests whose two answers were compared.", lambda p: p.compared),
    ("agreed", "Compared requests whose answers agreed.", lambda p: p.agreed),
    ("status_mismatch", "Compared requests answered with different statuses.",
     lambda p: p.status_mismatches),
    ("body_mismatch", "Compared requests with the same status and different bodies.",
     lambda p: p.body_mismatches),
    ("dropped", "Pairs not compared because the compare queue was full.",
     lambda p: p.dropped),
    ("skipped", "Mirrored requests not compared because comparing was over its CPU budget.",
     lambda p: p.skipped),
)


def _series(endpoint: str, pairs: list[PairStats]) -> list[str]:
    lines: list[str] = []
    for suffix, help_text, read in _COUNTERS:
        metric = f"devkit_router_shadow_{suffix}_total"
        lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} counter"]
        lines += [f"{metric}{{{_labels(endpoint, p)}}} {read(p)}" for p in pairs]
    metric = "devkit_router_shadow_errors_total"
    lines += [f"# HELP {metric} Compared answers that were errors, by side.",
              f"# TYPE {metric} counter"]
    for p in pairs:
        lines.append(f'{metric}{{{_labels(endpoint, p)},side="live"}} {p.live.errors}')
        lines.append(f'{metric}{{{_labels(endpoint, p)},side="shadow"}} {p.shadow.errors}')
    metric = "devkit_router_shadow_field_mismatch_total"
    lines += [f"# HELP {metric} Disagreements by differing JSON field (top 20).",
              f"# TYPE {metric} counter"]
    for p in pairs:
        for path, count in p.fields.most_common(20):
            lines.append(f'{metric}{{{_labels(endpoint, p)},path="{_escape(path)}"}} {count}')
    metric = "devkit_router_shadow_duration_seconds"
    lines += [f"# HELP {metric} Latency of the compared answers, by side.",
              f"# TYPE {metric} histogram"]
    for p in pairs:
        for side, data in (("live", p.live), ("shadow", p.shadow)):
            lines += data.latency.prometheus(metric, f'{_labels(endpoint, p)},side="{side}"')
    return lines


def _labels(endpoint: str, pair: PairStats) -> str:
    return (f'endpoint="{endpoint}",live="{_escape(pair.live_name)}",'
            f'shadow="{_escape(pair.shadow_name)}"')


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


__all__ = ["BUCKETS_S", "PairStats", "Pending", "ShadowBook", "ShadowSettings"]
