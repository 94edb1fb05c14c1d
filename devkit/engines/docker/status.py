"""Reading an endpoint's state back from Docker: labels say what should run, container
state and ``GET /-/ready`` (a BYOC image: its ``readiness_route``) say how it runs, and
the router config in the endpoint's state folder holds the live weights and auth. Nothing here
needs the spec, which is why ``status`` is true from any shell and after a reboot."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from devkit.engines import launch, status
from devkit.engines.docker import client as dk
from devkit.engines.docker.containers import (
    EGRESS,
    ENV_HASH,
    GPU,
    IMAGE,
    INSTANCES,
    REPLICA_ROLE,
    SPEC_HASH,
    ReplicaView,
)
from devkit.engines.readiness import probe_once, probe_route
from devkit.engines.record import Running
from devkit.engines.routing import LiveView
from devkit.engines.status import DeploymentState, DeploymentStatus, ReplicaStatus


def group(views: Iterable[ReplicaView]) -> dict[str, dict[str, list[ReplicaView]]]:
    """endpoint → deployment → replicas (by index)."""
    grouped: dict[str, dict[str, list[ReplicaView]]] = defaultdict(lambda: defaultdict(list))
    for v in views:
        if v.labels.get(dk.ROLE) == REPLICA_ROLE:
            grouped[v.endpoint][v.deployment].append(v)
    for deployments in grouped.values():
        for replicas in deployments.values():
            replicas.sort(key=lambda r: r.replica)
    return grouped


def running(replicas: list[ReplicaView]) -> Running:
    labels = replicas[0].labels
    return Running(
        name=replicas[0].deployment,
        spec_hash=labels.get(SPEC_HASH, ""),
        env_hash=labels.get(ENV_HASH, ""),
        gpu=labels.get(GPU) == "1",
        healthy_count=sum(1 for r in replicas if r.running),
        replica_count=int(labels.get(INSTANCES, "1")),
    )


def replica_status(view: ReplicaView) -> ReplicaStatus:
    url = view.host_url(view.serving_port) or ""
    routes = view.routes
    # A BYOC image has no admin port (reload, debug) and answers readiness on its route.
    admin = None if routes else view.host_url(launch.ADMIN_PORT)
    container = view.container
    cause = None
    if container.status in ("created", "restarting"):
        state, error = DeploymentState.STARTING, None
    elif not view.running or not url:
        code = container.attrs.get("State", {}).get("ExitCode")
        state, error = DeploymentState.STOPPED, f"container {container.name} exited ({code})"
    elif routes is not None:
        ready = routes.readiness_route
        probe = probe_route(view.host_url(ready.port) or url, ready.path)
        state, error = probe.state, probe.error
    else:
        probe = probe_once(url)
        state, error, cause = probe.state, probe.error, probe.cause
    return ReplicaStatus(view.replica, url, state, container.id or "", admin, error, cause)


def deployment_status(name: str, replicas: list[ReplicaView],
                      live: LiveView) -> DeploymentStatus:
    with ThreadPoolExecutor(max_workers=8) as pool:
        states = list(pool.map(replica_status, replicas))
    labels = replicas[0].labels
    image = labels.get(IMAGE, replicas[0].container.attrs["Config"]["Image"])
    found = status.deployment_status(name, states, image, labels.get(ENV_HASH, ""),
                                     live.traffic, live.mirror)
    egress = "disabled" if labels.get(EGRESS) == "disabled" else "enabled"
    return dataclasses.replace(found, egress=egress)
