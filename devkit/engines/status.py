"""The typed status every place reports: an endpoint, its deployments, their replicas.

Read back from where the place keeps its state (Docker labels, a state file, a cluster),
so ``status`` tells the truth from any shell. ``devkit status --json`` prints
:meth:`EndpointStatus.to_json`; its fields are a stable interface for scripts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

# Engines report what they do, one line at a time; the CLI prints, the TUI shows.
Progress = Callable[[str], None]


def no_progress(message: str) -> None:
    """A :data:`Progress` that discards messages (for tests and quiet callers)."""


class DeploymentState(str, Enum):
    BUILDING = "building"
    STARTING = "starting"
    READY = "ready"
    UNHEALTHY = "unhealthy"
    STOPPED = "stopped"



@dataclass(frozen=True)
class ReplicaStatus:
    """One server of a deployment: where it answers and what it runs as."""

    index: int
    url: str  # http://127.0.0.1:PORT on the host
    state: DeploymentState
    ident: str  # container id or pid, as text
    admin_url: str | None = None  # loopback admin port (POST /-/reload), when reachable
    error: str | None = None  # readiness error with traceback, when unhealthy
    cause: str | None = None  # "script" | "environment": whose fault an init() failure is


@dataclass(frozen=True)
class DeploymentStatus:
    name: str
    state: DeploymentState
    replicas: int
    traffic: int
    mirror: int
    image: str  # image tag (docker) or venv path (process)
    urls: tuple[str, ...] = ()
    error: str | None = None
    replica_status: tuple[ReplicaStatus, ...] = ()
    env_hash: str = ""  # the environment hash it was started with (rebuild detection)
    cause: str | None = None  # of ``error``: "script" | "environment" (see ReplicaStatus)
    # "enabled" | "disabled": whether its replicas can reach beyond the machine, as this
    # place enforces it (the process engine cannot disable it); None: not reported.
    egress: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state.value,
            "replicas": self.replicas,
            "traffic": self.traffic,
            "mirror": self.mirror,
            "image": self.image,
            "urls": list(self.urls),
            "error": self.error,
            "cause": self.cause,
            "egress": self.egress,
        }


@dataclass(frozen=True)
class EndpointStatus:
    name: str
    scoring_uri: str | None
    auth_mode: str
    engine: str
    deployments: tuple[DeploymentStatus, ...] = field(default_factory=tuple)

    def deployment(self, name: str) -> DeploymentStatus | None:
        return next((d for d in self.deployments if d.name == name), None)

    @property
    def healthy(self) -> bool:
        return all(d.state is DeploymentState.READY for d in self.deployments)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "scoring_uri": self.scoring_uri,
            "auth_mode": self.auth_mode,
            "engine": self.engine,
            "deployments": [d.to_json() for d in self.deployments],
        }


def aggregate(states: list[DeploymentState]) -> DeploymentState:
    """A deployment's state from its replicas': the worst one wins, except that a
    deployment with no replica left is stopped."""
    if not states:
        return DeploymentState.STOPPED
    for state in (DeploymentState.UNHEALTHY, DeploymentState.STOPPED,
                  DeploymentState.BUILDING, DeploymentState.STARTING):
        if state in states:
            return state
    return DeploymentState.READY


def deployment_status(name: str, replicas: Sequence[ReplicaStatus], image: str,
                      env_hash: str, traffic: Mapping[str, int],
                      mirror: Mapping[str, int]) -> DeploymentStatus:
    """A deployment's status from its replicas' and the live weights (both engines)."""
    live = [r for r in replicas if r.state is not DeploymentState.STOPPED]
    return DeploymentStatus(
        name=name,
        state=aggregate([r.state for r in replicas]),
        replicas=len(live),
        traffic=int(traffic.get(name, 0)),
        mirror=int(mirror.get(name, 0)),
        image=image,
        urls=tuple(r.url for r in live if r.url),
        error=next((r.error for r in replicas if r.error), None),
        replica_status=tuple(replicas),
        env_hash=env_hash,
        cause=next((r.cause for r in replicas if r.error), None),
    )
