"""The one interface every engine implements, and the typed status it reports.

An engine turns an :class:`~devkit.spec.model.Endpoint` into running servers (containers
or host processes) and reads their state back from where it keeps it (Docker labels, a
state file), so ``status`` tells the truth from any shell, after the CLI exits and after a
reboot. The CLI, the TUI, reload and debug talk to engines only through :class:`Engine`.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from devkit.errors import EndpointNotFound
from devkit.spec.model import Endpoint

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
class UpOptions:
    """Flags of ``devkit up`` that are not part of the spec."""

    gpu: bool = False


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


class Engine(abc.ABC):
    """What ``up``/``status``/``logs``/``down``, reload and debug need from an engine."""

    name: str

    @abc.abstractmethod
    def up(self, endpoint: Endpoint, options: UpOptions, progress: Progress) -> EndpointStatus:
        """Bring the endpoint to the spec: start what is missing, restart what changed,
        remove deployments no longer in the spec, wait for readiness, then point the
        endpoint's router at the replicas (starting it if it does not run; a running one
        applies the new config live) and return. The spec's traffic replaces live weights
        (see :mod:`devkit.engines.routing`)."""

    @abc.abstractmethod
    def status(self, name: str | None = None) -> list[EndpointStatus]:
        """Every endpoint this engine runs (or just ``name``), read back from the engine;
        the scoring URI is the router's and the weights are the live ones."""

    @abc.abstractmethod
    def down(self, name: str) -> None:
        """Remove everything devkit created for the endpoint (router and keys included);
        EndpointNotFound if none."""

    @abc.abstractmethod
    def down_all(self) -> list[str]:
        """Remove every devkit endpoint on this engine; return their names."""

    @abc.abstractmethod
    def logs(self, name: str, deployment: str | None = None, follow: bool = False,
             tail: int | None = 100) -> Iterator[str]:
        """Log lines (without newline) of the endpoint's replicas, prefixed by replica
        (``blue-0``), and of its router (``router``) when no deployment is named."""

    def replicas(self, name: str, deployment: str) -> list[ReplicaStatus]:
        """The replicas of one deployment with their host URLs (for reload and debug)."""
        endpoint = self._one(name)
        found = endpoint.deployment(deployment)
        if found is None:
            names = ", ".join(d.name for d in endpoint.deployments)
            raise EndpointNotFound(f"Endpoint '{name}' has no deployment '{deployment}' "
                                   f"(deployments: {names}); pick one of those.")
        return list(found.replica_status)

    def _one(self, name: str) -> EndpointStatus:
        """The status of running endpoint ``name``, or EndpointNotFound naming the others."""
        found = self.status(name)
        if not found:
            raise EndpointNotFound(not_found(name, self.name, self._names()))
        return found[0]

    def _names(self) -> list[str]:
        """Names of the endpoints this engine runs (engines may answer more cheaply)."""
        return [endpoint.name for endpoint in self.status()]

    @abc.abstractmethod
    def set_traffic(self, name: str, traffic: Mapping[str, int],
                    mirror: Mapping[str, int]) -> None:
        """Record new live weights for ``status`` (the router applies them)."""


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


def not_found(name: str, engine: str, running: list[str]) -> str:
    """The EndpointNotFound sentence: what is running instead, and how to start it."""
    others = ", ".join(sorted(running)) if running else "none"
    return (f"No endpoint named '{name}' runs on the {engine} engine (running: {others}); "
            f"start it with `devkit up PATH` or check the name with `devkit status`.")
