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
    # What the engine knows of the replica's past (both engines fill what they can):
    restarts: int = 0  # times it was restarted (Docker's RestartCount, the keeper's count)
    last_exit_code: int | None = None  # its last exit status (negative: killed by signal)
    oom_killed: bool = False  # its last exit was the kernel's OOM killer
    reason: str | None = None  # why it is not ready, as a sentence with the next step
    last_lines: str | None = None  # its last log lines, read only when it is not ready
    url_is_host: bool = True  # False: ``url`` is the replica's address on its network
    # How its last run ended, in words ("exited with code 1", "killed by SIGKILL (possibly
    # out of memory)"); an OOM kill the engine cannot confirm (the process engine: an
    # unexplained SIGKILL) is only suspected; the runtime's own restarts of its workers
    # (a crash, or a failed liveness probe) and how the last of those ended.
    last_exit: str | None = None
    oom_suspected: bool = False
    worker_restarts: int = 0
    liveness_restarts: int = 0
    last_worker_exit: str | None = None

    def to_json(self) -> dict[str, Any]:
        """One replica in ``status --json`` (no secrets: ids, states, exit facts)."""
        return {"index": self.index, "state": self.state.value, "restarts": self.restarts,
                "last_exit_code": self.last_exit_code, "oom_killed": self.oom_killed,
                "reason": self.reason, "last_exit": self.last_exit,
                "oom_suspected": self.oom_suspected, "worker_restarts": self.worker_restarts,
                "liveness_restarts": self.liveness_restarts,
                "last_worker_exit": self.last_worker_exit}

    def crash_note(self) -> str | None:
        """One line on what was healed, or None when nothing ever crashed."""
        parts = []
        if self.restarts:
            last = self.last_exit or (f"exit code {self.last_exit_code}"
                                      if self.last_exit_code is not None else "unknown")
            parts.append(f"restarted {self.restarts} time(s), last {last}"
                         + (" (OOM-killed)" if self.oom_killed else ""))
        if self.worker_restarts:
            parts.append(f"worker restarted {self.worker_restarts} time(s) "
                         f"({self.liveness_restarts} for liveness), last {self.last_worker_exit}")
        return "; ".join(parts) or None


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
    # local autoscaling (target_utilization): current, min, max, utilization, the last
    # decision with its reason and time (devkit.engines.scale_record); None: fixed count
    scale: Mapping[str, Any] | None = None

    @property
    def restarts(self) -> int:
        return sum(r.restarts for r in self.replica_status)

    @property
    def reason(self) -> str | None:
        """Why the deployment is not ready (the first replica that says so), else None."""
        if self.state is DeploymentState.READY:
            return None
        return next((r.reason for r in self.replica_status if r.reason), None)

    def _worst(self) -> ReplicaStatus | None:
        """The replica whose past says most: one not ready with an exit code, else any."""
        for replica in self.replica_status:
            if replica.state is not DeploymentState.READY and (
                    replica.last_exit_code is not None or replica.reason):
                return replica
        return next((r for r in self.replica_status if r.last_exit_code is not None), None)

    def to_json(self) -> dict[str, Any]:
        worst = self._worst()
        no_ready = not any(r.state is DeploymentState.READY for r in self.replica_status)
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
            # reliability facts (additive): shared by both engines
            "restarts": self.restarts,
            "last_exit_code": worst.last_exit_code if worst else None,
            "oom_killed": any(r.oom_killed for r in self.replica_status),
            "reason": self.reason,
            "last_lines": (next((r.last_lines for r in self.replica_status if r.last_lines),
                                None) if no_ready else None),
            "replica_states": [r.to_json() for r in self.replica_status],
            "egress": self.egress,
            # local autoscaling (additive): null for a fixed instance_count
            "scale": dict(self.scale) if self.scale is not None else None,
        }


@dataclass(frozen=True)
class EndpointStatus:
    name: str
    scoring_uri: str | None
    auth_mode: str
    engine: str
    deployments: tuple[DeploymentStatus, ...] = field(default_factory=tuple)
    router_reason: str | None = None  # why its router does not run (None while it does)

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
            "router_reason": self.router_reason,
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
        urls=tuple(r.url for r in live if r.url and r.url_is_host),  # callable from the host
        error=next((r.error for r in replicas if r.error), None),
        replica_status=tuple(replicas),
        env_hash=env_hash,
        cause=next((r.cause for r in replicas if r.error), None),
    )
