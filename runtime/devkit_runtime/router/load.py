"""How loaded each deployment is: the counters local autoscaling reads, published by the
router at ``GET /-/load.json`` and as gauges in ``/metrics``.

Utilization is computed as Azure's Kubernetes front end does: requests in flight plus
queued, over ``replicas x max_concurrent_requests_per_instance``. The router forwards a
request at once (it has no queue of its own: past ``2 x max_concurrent x instance_count``
it answers 429), so what waits does so inside a replica and is still in flight here: the
deployment's in-flight count is "in flight + queued".

An instant reading of that count is noisy, so the router also samples it every
:data:`SAMPLE_INTERVAL_S` in a background task and keeps, per deployment, the number of
samples and their sum; a reader polling every N seconds takes the difference of two
readings and gets the mean over its own interval. Sampling off the request path keeps
the hot path exactly as it was (no clock read per request).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devkit_runtime.router.config import DeploymentRoute, RouterConfig
from devkit_runtime.router.metrics import RouterMetrics
from devkit_runtime.router.upstream import PoolRegistry

SAMPLE_INTERVAL_S = 0.1


@dataclass
class Sampled:
    """One deployment's running tally of in-flight samples."""

    samples: int = 0
    total: int = 0


class LoadBook:
    """Samples every deployment's in-flight count; renders the load of each."""

    def __init__(self, metrics: RouterMetrics, pools: PoolRegistry) -> None:
        self._metrics = metrics
        self._pools = pools
        self._tally: dict[str, Sampled] = {}

    def sample(self, config: RouterConfig | None) -> None:
        for route in config.deployments if config is not None else ():
            tally = self._tally.setdefault(route.name, Sampled())
            tally.samples += 1
            tally.total += self._metrics.of(route.name).in_flight

    async def run(self, config: Callable[[], RouterConfig | None]) -> None:
        while True:
            await asyncio.sleep(SAMPLE_INTERVAL_S)
            self.sample(config())

    def deployment(self, route: DeploymentRoute) -> dict[str, Any]:
        in_flight = self._metrics.of(route.name).in_flight
        active = len(route.active)
        capacity = active * route.max_concurrent_requests_per_instance
        tally = self._tally.get(route.name, Sampled())
        return {
            "in_flight": in_flight,  # in flight + queued (see the module docstring)
            "active": active,
            "draining": len(route.draining),
            "max_concurrent_requests_per_instance": route.max_concurrent_requests_per_instance,
            "utilization": round(in_flight / capacity, 4) if capacity else None,
            "samples": tally.samples,
            "in_flight_sum": tally.total,
            "replicas": [{"url": r.url, "in_flight": self._pools.in_flight(r.url),
                          "draining": r.url in route.draining} for r in route.replicas],
        }

    def as_json(self, config: RouterConfig | None) -> dict[str, Any]:
        return {"endpoint": config.endpoint if config else None,
                "generation": config.generation if config else None,
                "sample_interval_s": SAMPLE_INTERVAL_S,
                "deployments": {d.name: self.deployment(d)
                                for d in (config.deployments if config else ())}}

    def prometheus(self, config: RouterConfig | None) -> str:
        if config is None:
            return ""
        lines = ["# HELP devkit_router_replicas Replicas by state (draining: no new requests).",
                 "# TYPE devkit_router_replicas gauge"]
        labels = {d.name: f'endpoint="{config.endpoint}",deployment="{d.name}"'
                  for d in config.deployments}
        for d in config.deployments:
            lines.append(f'devkit_router_replicas{{{labels[d.name]},state="active"}} '
                         f'{len(d.active)}')
            lines.append(f'devkit_router_replicas{{{labels[d.name]},state="draining"}} '
                         f'{len(d.draining)}')
        lines += ["# HELP devkit_router_utilization In flight + queued over active replicas "
                  "x max_concurrent_requests_per_instance.",
                  "# TYPE devkit_router_utilization gauge"]
        for d in config.deployments:
            value = self.deployment(d)["utilization"]
            lines.append(f"devkit_router_utilization{{{labels[d.name]}}} "
                         f"{'NaN' if value is None else value}")
        lines += ["# HELP devkit_router_replica_in_flight Requests a replica serves now.",
                  "# TYPE devkit_router_replica_in_flight gauge"]
        for d in config.deployments:
            for r in d.replicas:
                lines.append(f'devkit_router_replica_in_flight{{{labels[d.name]},'
                             f'replica="{r.url}"}} {self._pools.in_flight(r.url)}')
        return "\n".join(lines) + "\n"
