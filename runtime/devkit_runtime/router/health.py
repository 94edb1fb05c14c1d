"""Which replicas get requests: passive ejection and active readiness checks.

A managed endpoint's front end stops sending a replica requests the moment it is gone and
until its readiness probe passes again; so does this router, two ways:

- **Passive**: a request whose connection to a replica could not be opened takes that
  replica out of rotation at once (:func:`send`), and is sent once more to another ready
  replica of the same deployment. Only then: a request that could not connect was never
  sent, so the other replica is the first to run it; one whose bytes went out may have run
  (and a replica that died mid-request may have half-done it), so it is never retried and
  answers 502.
- **Active**: :class:`HealthChecker` polls every replica's readiness route on the
  deployment's ``readiness_probe`` (``period``, ``timeout``; ``failure_threshold`` failed
  probes in a row take a ready replica out, ``success_threshold`` passed ones put it back).
  A probe that cannot connect at all takes it out at once, like a failed request: there is
  no replica there to wait for. A replica out of rotation is probed every
  ``min(period, RECHECK_S)`` so it is back within about a second of being ready.

A deployment with no ready replica answers 503, as the front end does for "not ready".

The hot path pays one attribute read per candidate (``pool.ready`` in
:meth:`Balancer.pick`) and nothing else unless a request fails (:func:`elsewhere`,
:func:`failed`); the probes run on the checker's own tasks.
Each pool's :class:`ReplicaHealth` is what ``/-/health.json``, ``/-/metrics.json`` and
``/metrics`` show: ready or not, why, since when, how often it was taken out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from devkit_runtime.router.config import DeploymentRoute, ReadinessSettings
from devkit_runtime.router.upstream import (
    Balancer,
    ConnectFailed,
    ReplicaPool,
    UpstreamError,
    UpstreamResponse,
    within,
)

log = logging.getLogger("devkit.router")

TICK_S = 0.1  # how often the checker looks for replicas due a probe
RECHECK_S = 1.0  # the most a replica out of rotation waits for its next probe

# What the checker probes: per deployment, its readiness settings and replica pools.
Targets = Callable[[], Iterable[tuple[DeploymentRoute, Sequence[ReplicaPool]]]]


@dataclass
class ReplicaHealth:
    """What the router knows of one replica's readiness."""

    reason: str = ""  # why it is out of rotation ("" while ready)
    since: float = 0.0  # wall time of the last change in or out of rotation
    fails: int = 0  # failed probes in a row
    passes: int = 0  # passed probes in a row
    ejections: int = 0  # times it was taken out of rotation
    probing: bool = False
    next_probe: float = 0.0  # loop time


def health_of(pool: ReplicaPool) -> ReplicaHealth:
    health = pool.health
    if not isinstance(health, ReplicaHealth):
        health = pool.health = ReplicaHealth(since=time.time())
    return health


def take_out(pool: ReplicaPool, reason: str) -> None:
    """Out of rotation now (a request or probe found it gone), probed again soon."""
    health = health_of(pool)
    if pool.ready:
        pool.ready = False
        health.ejections += 1
        health.since = time.time()
        log.warning("replica %s out of rotation: %s", pool.replica.url, reason)
    health.reason, health.passes, health.next_probe = reason, 0, 0.0


def put_back(pool: ReplicaPool) -> None:
    health = health_of(pool)
    if not pool.ready:
        pool.ready = True
        health.since = time.time()
        log.warning("replica %s back in rotation (ready again)", pool.replica.url)
    health.reason, health.fails = "", 0


def elsewhere(balancer: Balancer, pool: ReplicaPool, failed: ConnectFailed) -> ReplicaPool:
    """After a connection to ``pool`` could not be opened: take it out of rotation, and
    return another ready replica to send the request to, or raise ``failed`` again when
    there is none or the request may have been sent already (see the module docstring).
    The live path calls this only on failure: a request that succeeds pays nothing."""
    take_out(pool, str(failed))
    other = None if failed.sent else balancer.pick()
    if other is None:
        raise failed
    return other


def failed(pool: ReplicaPool, error: UpstreamError) -> None:
    """A request to ``pool`` failed for good: a refused connection takes it out; one cut
    off mid-request (it may still be there) gets a readiness probe at once."""
    if isinstance(error, ConnectFailed):
        take_out(pool, str(error))
    else:
        probe_soon(pool)


async def send(balancer: Balancer, pool: ReplicaPool, data: Sequence[bytes],
               deadline: float, stream: bool = False) -> UpstreamResponse:
    """``pool.request``, taking the replica out of rotation when no connection to it
    could be opened, and then (only if nothing was sent: see the module docstring)
    trying once more on another ready replica of the deployment."""
    try:
        return await pool.request(data, deadline, stream)
    except ConnectFailed as exc:
        take_out(pool, str(exc))
        other = None if exc.sent else balancer.pick()
        if other is None:
            raise
    try:
        return await other.request(data, deadline, stream)
    except ConnectFailed as exc:
        take_out(other, str(exc))
        raise


def probe_soon(pool: ReplicaPool) -> None:
    """A request to it was cut off: check its readiness now rather than next period."""
    health_of(pool).next_probe = 0.0


class HealthChecker:
    """Probes every replica of the applied config on its deployment's readiness settings."""

    def __init__(self, targets: Targets) -> None:
        self._targets = targets
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                now = loop.time()
                for route, pools in self._targets():
                    for pool in pools:
                        health = health_of(pool)
                        if not health.probing and now >= health.next_probe:
                            health.probing = True
                            task = asyncio.create_task(self._check(route.readiness, pool))
                            self._tasks.add(task)
                            task.add_done_callback(self._tasks.discard)
                await asyncio.sleep(TICK_S)
        finally:
            for task in list(self._tasks):
                task.cancel()

    async def _check(self, settings: ReadinessSettings, pool: ReplicaPool) -> None:
        health = health_of(pool)
        unreachable = False
        try:
            failure = await within(settings.timeout_s, _probe(pool, settings))
        except asyncio.TimeoutError:
            failure = (f"its readiness route GET {settings.path} did not answer within "
                       f"{settings.timeout_s:g} s")
        except OSError as exc:
            failure = f"cannot connect to {pool.replica.url}: {exc.strerror or exc}"
            unreachable = True
        finally:
            health.probing = False
        record(pool, settings, failure, unreachable)

    def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()


def record(pool: ReplicaPool, settings: ReadinessSettings, failure: str | None,
           unreachable: bool = False) -> None:
    """Count one probe's outcome against the thresholds; schedule the next probe."""
    health = health_of(pool)
    if failure is None:
        health.fails = 0
        health.passes += 1
        if not pool.ready and health.passes >= settings.success_threshold:
            put_back(pool)
    else:
        health.passes = 0
        health.fails += 1
        said = failure if unreachable else f"{failure} ({health.fails} probes in a row)"
        if pool.ready and (unreachable or health.fails >= settings.failure_threshold):
            take_out(pool, said)
        elif not pool.ready:
            health.reason = said
    period = settings.period_s if pool.ready else min(settings.period_s, RECHECK_S)
    health.next_probe = asyncio.get_running_loop().time() + period


async def _probe(pool: ReplicaPool, settings: ReadinessSettings) -> str | None:
    """One ``GET`` of the readiness route on a fresh connection: None when it answered
    2xx, else what it answered."""
    replica = pool.replica
    reader, writer = await asyncio.open_connection(replica.host,
                                                   settings.port or replica.port)
    try:
        writer.write(b"GET %s HTTP/1.1\r\nhost: router\r\nconnection: close\r\n"
                     b"user-agent: devkit-router-health\r\n\r\n" % settings.path.encode())
        line = await reader.readline()
    finally:
        writer.close()
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[1].isdigit():
        return f"its readiness route GET {settings.path} sent no HTTP answer"
    status = int(parts[1])
    if 200 <= status < 300:
        return None
    return f"its readiness route GET {settings.path} answered {status}"


def describe(pools: Sequence[ReplicaPool]) -> list[dict[str, Any]]:
    """Each replica's health, as the router's JSON shows it."""
    found = []
    for pool in pools:
        health = health_of(pool)
        found.append({
            "url": pool.replica.url, "ready": pool.ready,
            "state": "ready" if pool.ready else "ejected",
            "reason": health.reason or None,
            "since": datetime.fromtimestamp(health.since, timezone.utc).isoformat(
                timespec="seconds"),
            "ejections": health.ejections, "in_flight": pool.in_flight,
        })
    return found


def not_ready_sentence(name: str, pools: Sequence[ReplicaPool]) -> str:
    """The 503 body of a deployment with no ready replica: which, and why."""
    if not pools:
        return f"Deployment '{name}' has no ready replica; check `devkit status`."
    why = "; ".join(f"{p.replica.url}: {health_of(p).reason or 'not ready'}" for p in pools)
    return f"Deployment '{name}' has no ready replica ({why}); check `devkit status`."


def prometheus(endpoint: str, balancers: dict[str, Balancer]) -> str:
    lines = ["# HELP devkit_router_replica_ready 1 while a replica is in rotation.",
             "# TYPE devkit_router_replica_ready gauge"]
    ejections = ["# HELP devkit_router_replica_ejections_total Times a replica was taken "
                 "out of rotation.", "# TYPE devkit_router_replica_ejections_total counter"]
    for name, balancer in sorted(balancers.items()):
        for pool in balancer.pools:
            labels = (f'endpoint="{endpoint}",deployment="{name}",'
                      f'replica="{pool.replica.url}"')
            lines.append(f"devkit_router_replica_ready{{{labels}}} {int(pool.ready)}")
            ejections.append(f"devkit_router_replica_ejections_total{{{labels}}} "
                             f"{health_of(pool).ejections}")
    return "\n".join(lines + ejections) + "\n"
