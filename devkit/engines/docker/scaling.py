"""One replica more or less of a running deployment, for local autoscaling.

A new replica is a sibling of the running ones: the same image, hashes and labels (so
``up`` sees one deployment and keeps it), the next free index, created as ``up`` creates
them (:mod:`devkit.engines.docker.containers`), and removed again when it does not get
ready. Joining the router and draining are the caller's (``devkit.autoscale``).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from devkit.engines.base import Progress, ScaledReplica
from devkit.engines.docker import containers as ct
from devkit.engines.docker import router as rt
from devkit.engines.record import Wanted
from devkit.engines.settings import ReplicaRun
from devkit.engines.status import DeploymentState
from devkit.errors import EngineError
from devkit.spec.model import DeploymentSpec

if TYPE_CHECKING:
    from devkit.engines.docker.engine import DockerEngine


def router_url(engine: DockerEngine, name: str) -> str | None:
    router = rt.find(engine.client, name)
    if router is None or router.status != "running":
        return None
    return rt.host_url(router)


def scaled_replicas(engine: DockerEngine, name: str, deployment: str) -> list[ScaledReplica]:
    views = engine._replica_views(name).get(deployment, [])
    return [ScaledReplica(v.replica, _route_url(v), v.running) for v in views]


def add_replica(engine: DockerEngine, spec: DeploymentSpec, run: ReplicaRun,
                progress: Progress) -> ScaledReplica:
    siblings = engine._replica_views(spec.endpoint_name).get(spec.name, [])
    if not siblings:
        raise EngineError(f"Deployment '{spec.name}' of endpoint '{spec.endpoint_name}' has "
                          "no replica to add one beside; run `devkit up` first.")
    labels = siblings[0].labels
    # Labelled as its siblings, with the count `up` started them with: `up` compares
    # hashes, not counts, so it keeps the deployment whatever the loop made of it.
    started_with = int(labels.get(ct.INSTANCES, "1"))
    want = Wanted(dataclasses.replace(spec, instance_count=started_with),
                  labels.get(ct.SPEC_HASH, ""), labels.get(ct.ENV_HASH, ""),
                  labels.get(ct.GPU) == "1")
    image = labels.get(ct.IMAGE) or siblings[0].container.attrs["Config"]["Image"]
    index = max(v.replica for v in siblings) + 1
    progress(f"{spec.name}: starting replica {index} of {image}")
    container = engine._start_indexes(want, image, [index], run, progress)[0]
    try:
        outcome = engine._wait_ready(spec, container)
    except BaseException:
        engine._remove_all([container])
        raise
    if outcome.state is not DeploymentState.READY:
        failure = engine._failure(spec, container, outcome)
        engine._remove_all([container])
        raise failure
    engine.client.reload(container)
    return ScaledReplica(index, _route_url(ct.view(container)), True)


def remove_replica(engine: DockerEngine, endpoint: str, deployment: str, index: int) -> None:
    engine._remove_all([v.container for v in engine._replica_views(endpoint).get(deployment, [])
                        if v.replica == index])


def _route_url(view: ct.ReplicaView) -> str:
    """As :meth:`DockerEngine._replica_urls` names it: by container name on the network."""
    return f"http://{view.container.name}:{view.serving_port}"
