"""How to run an endpoint beyond what its spec says, built once at the boundary.

``devkit up`` flags (``--gpu``, ``--no-watch``, ``--strict``) and ``devkit debug`` become one
:class:`RunSettings` that the CLI or the TUI builds and every engine receives with the
spec; nothing travels through the spec's ``environment_variables`` any more. What the
settings change per deployment is part of the hash the engines compare, so ``up`` with
other settings restarts exactly the deployments they change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from devkit.secrets.delivery import Delivered
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
    secrets_file: str | None = None  # host path of its resolved secrets (0600, in memory)
    # Publish its scoring and admin ports on host loopback (`up --expose`, `debug`); by
    # default only the router is reachable from the host.
    expose: bool = False


@dataclass(frozen=True)
class RunSettings:
    """The flags of ``devkit up`` that are not part of the spec, and a debug session."""

    gpu: bool = False
    watch: bool = True
    debug: DebugSettings | None = None
    # Refuse, rather than warn about, spec settings this engine cannot enforce
    # (egress_public_network_access: disabled on the process engine).
    strict: bool = False
    expose: bool = False  # `up --expose`: replicas' ports published on host loopback too
    # Per deployment, its resolved secrets as delivered (never persisted: see to_json).
    secrets: Mapping[str, Delivered] = field(default_factory=dict)

    def with_secrets(self, delivered: Mapping[str, Delivered]) -> RunSettings:
        return dataclasses.replace(self, secrets=dict(delivered))

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
        secrets = self.secrets.get(deployment)
        return ReplicaRun(self.watch, self.debug.port if debugged and self.debug else None,
                          secrets.file if secrets is not None else None,
                          expose=self.expose or debugged)

    def fingerprint(self, deployment: str) -> str:
        """What these settings change for ``deployment``, for change detection ("" when
        nothing: the hash of a plain ``up`` stays what it always was)."""
        run = self.replica(deployment)
        parts = ([] if run.watch else ["nowatch"]) + (
            [f"debug{run.debug_port}"] if run.debug_port is not None else [])
        if self.expose:  # publishing ports needs a new container
            parts.append("expose")
        secrets = self.secrets.get(deployment)
        if secrets is not None:  # a rotated value restarts exactly this deployment
            parts.append(f"secrets{secrets.digest}")
        return "+".join(parts)

    def to_json(self) -> dict[str, object]:
        """What ``up`` records beside the spec files, so later restarts keep it."""
        recorded: dict[str, object] = {"gpu": self.gpu, "watch": self.watch}
        if self.expose:  # only then: records of other endpoints stay what they were
            recorded["expose"] = True
        return recorded

    @classmethod
    def from_json(cls, raw: dict[str, object]) -> RunSettings:
        return cls(gpu=bool(raw.get("gpu", False)), watch=bool(raw.get("watch", True)),
                   expose=bool(raw.get("expose", False)))


def _debuggable(spec: DeploymentSpec) -> DeploymentSpec:
    return dataclasses.replace(
        spec, instance_count=1,
        request_settings=dataclasses.replace(spec.request_settings,
                                             request_timeout_ms=DEBUG_TIMEOUT_MS))
