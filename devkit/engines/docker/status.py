"""Reading an endpoint's state back from Docker: labels say what should run, container
state and ``GET /-/ready`` (a BYOC image: its ``readiness_route``; asked inside the
container, see :mod:`probe`) say how it runs, and the router config in the endpoint's state
folder holds the live weights and auth. Nothing here needs the spec, which is why
``status`` is true from any shell and after a reboot.

Its past comes from Docker too (:mod:`history`): ``RestartCount``, the exit codes and OOM
kills Docker recorded, and for a replica that is not ready its last log lines and a
sentence saying why (stopped from outside, restarting after a crash, not answering)."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from devkit.engines import launch, status
from devkit.engines.docker import client as dk
from devkit.engines.docker import history, probe
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
from devkit.engines.readiness import READY_PATH
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
    """One replica: its state (probed inside the container), where it answers (its host
    URL when published, else its address on the endpoint network) and its past."""
    host = view.host_url(view.serving_port)
    url = host or view.network_url()
    routes = view.routes
    # A BYOC image has no admin port (reload, debug) and answers readiness on its route.
    admin = None if routes else view.host_url(launch.ADMIN_PORT)
    container = view.container
    cause = error = None
    if container.status in ("created", "restarting"):
        state = DeploymentState.STARTING
    elif not view.running:
        state = DeploymentState.STOPPED
        error = f"container {container.name} exited ({history.exit_code(container)})"
    else:
        port = routes.readiness_route.port if routes else launch.SERVER_PORT
        path = routes.readiness_route.path if routes else READY_PATH
        found, events = probe.probe(container, port, path, routes is not None)
        state, error, cause = found.state, found.error, found.cause
    past = history.read(container, state)
    workers = events if container.status == "running" else {}
    return ReplicaStatus(view.replica, url, state, container.id or "", admin, error, cause,
                         restarts=past.restarts, last_exit_code=past.last_exit_code,
                         oom_killed=past.oom_killed, reason=past.reason,
                         last_lines=past.last_lines, url_is_host=host is not None,
                         worker_restarts=int(workers.get("worker_restarts") or 0),
                         liveness_restarts=int(workers.get("liveness_restarts") or 0),
                         last_worker_exit=workers.get("last_worker_exit"))


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
