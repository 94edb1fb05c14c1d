"""How to run an endpoint beyond what its spec says, built once at the boundary.

``devkit up`` flags (``--gpu``, ``--no-watch``) and ``devkit debug`` become one
:class:`RunSettings` that the CLI or the TUI builds and every engine receives with the
spec; nothing travels through the spec's ``environment_variables`` any more. What the
settings change per deployment is part of the hash the engines compare, so ``up`` with
other settings restarts exactly the deployments they change.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from devkit.spec.model import DeploymentSpec, Endpoint

DEBUG_TIMEOUT_MS = 24 * 3600 * 1000  # a day: "lifted", while still a valid setting


@dataclass(frozen=True)
class DebugSettings:
    """One deployment under debugpy, reached at ``127.0.0.1:port`` on the host."""

    deployment: str
    port: int


@dataclass(frozen=True)
class ReplicaRun:
    """What one replica's server is told beyond its spec."""

    watch: bool = True  # reload on save (the runtime watches its code root)
    debug_port: int | None = None  # host port debugpy is reached at, when debugged


@dataclass(frozen=True)
class RunSettings:
    """The flags of ``devkit up`` that are not part of the spec, and a debug session."""

    gpu: bool = False
    watch: bool = True
    debug: DebugSettings | None = None

    def applied_to(self, endpoint: Endpoint) -> Endpoint:
        """The spec as the engine runs it: a debugged deployment has one replica and
        request timeouts lifted, so a paused breakpoint is not answered 408."""
        if self.debug is None:
            return endpoint
        return dataclasses.replace(endpoint, deployments=tuple(
            _debuggable(d) if d.name == self.debug.deployment else d
            for d in endpoint.deployments))

    def replica(self, deployment: str) -> ReplicaRun:
        debugged = self.debug is not None and self.debug.deployment == deployment
        return ReplicaRun(self.watch, self.debug.port if debugged and self.debug else None)

    def fingerprint(self, deployment: str) -> str:
        """What these settings change for ``deployment``, for change detection ("" when
        nothing: the hash of a plain ``up`` stays what it always was)."""
        run = self.replica(deployment)
        parts = ([] if run.watch else ["nowatch"]) + (
            [f"debug{run.debug_port}"] if run.debug_port is not None else [])
        return "+".join(parts)

    def to_json(self) -> dict[str, object]:
        """What ``up`` records beside the spec files, so later restarts keep it."""
        return {"gpu": self.gpu, "watch": self.watch}

    @classmethod
    def from_json(cls, raw: dict[str, object]) -> RunSettings:
        return cls(gpu=bool(raw.get("gpu", False)), watch=bool(raw.get("watch", True)))


def _debuggable(spec: DeploymentSpec) -> DeploymentSpec:
    return dataclasses.replace(
        spec, instance_count=1,
        request_settings=dataclasses.replace(spec.request_settings,
                                             request_timeout_ms=DEBUG_TIMEOUT_MS))
