"""One replica process more or less of a running deployment, for local autoscaling.

A new replica is spawned from the deployment's venv exactly as ``up`` spawns them, on
the next free index, waited for, and recorded in ``process.json`` beside its siblings
(the record keeps the count ``up`` started, which ``up`` does not compare for an
autoscaled deployment). Joining the router and draining are the caller's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from devkit.engines.base import Progress, ScaledReplica
from devkit.engines.process import state as ps
from devkit.engines.readiness import ReadinessWait
from devkit.engines.settings import ReplicaRun
from devkit.engines.status import DeploymentState
from devkit.errors import EngineError
from devkit.spec.model import DeploymentSpec


def router_url(name: str) -> str | None:
    current = ps.load(name)
    router = current.router if current is not None else None
    return router.url if router is not None and router.alive() else None


def scaled_replicas(name: str, deployment: str) -> list[ScaledReplica]:
    current = ps.load(name)
    record = current.deployments.get(deployment) if current is not None else None
    replicas = record.replicas if record is not None else ()
    return [ScaledReplica(r.index, _url(r.port), r.alive()) for r in replicas]


def add_replica(spec: DeploymentSpec, run: ReplicaRun, progress: Progress) -> ScaledReplica:
    from devkit.engines.process.engine import _exited, _spawn, _stop_all

    record = _record(spec.endpoint_name, spec.name)
    index = max((r.index for r in record.replicas), default=-1) + 1
    progress(f"{spec.name}: starting replica process {index}")
    replica = _spawn(spec, record.venv, index, run)
    outcome = ReadinessWait(spec.readiness_probe).wait(_url(replica.port),
                                                       lambda: _exited(replica))
    if outcome.state is not DeploymentState.READY:
        _stop_all([replica])
        raise EngineError(f"A new replica of deployment '{spec.name}' did not get ready "
                          f"({outcome.error or outcome.state.value}); it was stopped; see "
                          f"{replica.log} and fix the cause.")
    _save(spec.endpoint_name, spec.name, lambda rs: (*rs, replica))
    return ScaledReplica(index, _url(replica.port), True)


def remove_replica(endpoint: str, deployment: str, index: int) -> None:
    from devkit.engines.process.engine import _stop_all

    record = _record(endpoint, deployment)
    _stop_all([r for r in record.replicas if r.index == index])
    _save(endpoint, deployment, lambda rs: tuple(r for r in rs if r.index != index))


def _record(endpoint: str, deployment: str) -> ps.DeploymentRecord:
    current = ps.load(endpoint)
    record = current.deployments.get(deployment) if current is not None else None
    if record is None:
        raise EngineError(f"Deployment '{deployment}' of endpoint '{endpoint}' is not running "
                          "on the process engine; run `devkit up` first.")
    return record


Replicas = tuple[ps.ReplicaRecord, ...]


def _save(endpoint: str, deployment: str, change: Callable[[Replicas], Replicas]) -> None:
    """Re-read the record (``up`` may have written it since) and change one replica list."""
    current = ps.load(endpoint)
    if current is None or deployment not in current.deployments:
        return
    record = current.deployments[deployment]
    current.deployments[deployment] = dataclasses.replace(
        record, replicas=tuple(change(record.replicas)))
    ps.save(current)


def _url(port: int) -> str:
    return f"http://127.0.0.1:{port}"
