"""What the TUI shows, as plain immutable data built from the engines and the spec.

The backend (:mod:`devkit.tui.backend`) turns engine statuses and loaded specs into these
views in a worker thread; widgets only ever read them. Keeping them free of Textual means
the merge of "what runs" with "what the spec in this folder describes" is testable as data,
and a view can be frozen for deterministic snapshots.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from devkit.engines.base import DeploymentStatus, EndpointStatus, ReplicaStatus
from devkit.spec.model import Endpoint

# States the TUI adds on top of the engine's while it is acting on a deployment.
BUILDING, STARTING, RELOADING, DEBUGGING = "building", "starting", "reloading", "debugging"
STATE_STYLE = {
    "ready": "green", "starting": "yellow", "building": "yellow", "reloading": "cyan",
    "debugging": "magenta", "unhealthy": "red", "stopped": "bright_black",
}


@dataclass(frozen=True)
class DeploymentView:
    """One deployment: the engine's view of it when it runs, the spec's when it does not."""

    name: str
    state: str
    replicas: int
    wanted: int
    traffic: int
    mirror: int
    urls: tuple[str, ...] = ()
    error: str | None = None
    image: str = ""
    replica_status: tuple[ReplicaStatus, ...] = ()
    scale: Mapping[str, Any] | None = None  # the autoscaler's view (status --json's scale)


@dataclass(frozen=True)
class EndpointView:
    name: str
    engine: str | None  # None while nothing runs
    scoring_uri: str | None
    auth_mode: str
    deployments: tuple[DeploymentView, ...]
    spec_dir: Path | None = None  # folder of the endpoint file, when the spec is known
    request_file: Path | None = None  # the sample request next to the spec, if any

    @property
    def running(self) -> bool:
        return self.engine is not None

    def deployment(self, name: str) -> DeploymentView | None:
        return next((d for d in self.deployments if d.name == name), None)


@dataclass(frozen=True)
class Snapshot:
    """Everything one poll found, plus the sentences of what could not be read."""

    endpoints: tuple[EndpointView, ...] = ()
    errors: tuple[str, ...] = ()

    def endpoint(self, name: str) -> EndpointView | None:
        return next((e for e in self.endpoints if e.name == name), None)


@dataclass(frozen=True)
class Metrics:
    """One deployment's counters from the router's ``/-/metrics.json``."""

    requests: int = 0
    errors: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    p50_ms: float | None = None
    p99_ms: float | None = None
    in_flight: int = 0

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Metrics:
        return cls(int(raw.get("requests", 0)), int(raw.get("errors", 0)),
                   {str(k): int(v) for k, v in (raw.get("by_status") or {}).items()},
                   raw.get("p50_ms"), raw.get("p99_ms"), int(raw.get("in_flight", 0)))


@dataclass(frozen=True)
class InvokeResult:
    """One request sent from the invoke panel and what came back."""

    target: str  # "endpoint" or a deployment name
    url: str
    status: int
    reason: str
    deployment: str | None  # the deployment that answered, when known
    headers: tuple[tuple[str, str], ...]
    body: str
    latency_ms: float

    def pretty_body(self) -> str:
        try:
            return json.dumps(json.loads(self.body), indent=2)
        except ValueError:
            return self.body

    def summary(self) -> str:
        who = self.deployment or "?"
        return f"{self.status} {self.reason} from {who} in {self.latency_ms:.1f} ms"


def from_status(status: EndpointStatus, spec: Endpoint | None) -> EndpointView:
    """A running endpoint, with spec details (instance counts, sample request) when known."""
    deployments = tuple(_deployment(d, spec) for d in status.deployments)
    return EndpointView(status.name, status.engine, status.scoring_uri, status.auth_mode,
                        deployments, *_spec_files(spec))


def from_spec(spec: Endpoint) -> EndpointView:
    """An endpoint described in the current folder that no engine runs."""
    deployments = tuple(
        DeploymentView(d.name, "stopped", 0, d.instance_count,
                       int(spec.spec.traffic.get(d.name, 0)),
                       int(spec.spec.mirror_traffic.get(d.name, 0)))
        for d in spec.deployments)
    return EndpointView(spec.name, None, None, spec.spec.auth_mode.value, deployments,
                        *_spec_files(spec))


def with_state(view: EndpointView, deployment: str | None, state: str) -> EndpointView:
    """``view`` with one deployment (or all, for ``None``) shown in a TUI-only state."""
    changed = tuple(replace(d, state=state) if deployment in (None, d.name) else d
                    for d in view.deployments)
    return replace(view, deployments=changed)


def overlaid(snapshot: Snapshot, states: dict[tuple[str, str | None], str]) -> Snapshot:
    """``snapshot`` with TUI-side states (building, reloading, debugging) laid over the
    engine's, keyed by (endpoint, deployment or None for all of it)."""
    views = []
    for view in snapshot.endpoints:
        for (endpoint, deployment), state in states.items():
            if endpoint == view.name:
                view = with_state(view, deployment, state)
        views.append(view)
    return Snapshot(tuple(views), snapshot.errors)


def _deployment(d: DeploymentStatus, spec: Endpoint | None) -> DeploymentView:
    wanted = d.replicas
    if spec is not None and d.scale is None:  # an autoscaled count is the loop's
        found = next((s for s in spec.deployments if s.name == d.name), None)
        wanted = found.instance_count if found else wanted
    return DeploymentView(d.name, d.state.value, d.replicas, wanted, d.traffic, d.mirror,
                          d.urls, d.error, d.image, d.replica_status, d.scale)


def _spec_files(spec: Endpoint | None) -> tuple[Path | None, Path | None]:
    if spec is None:
        return None, None
    folder = spec.spec.source.file.parent
    sample = folder / "sample-request.json"
    return folder, sample if sample.is_file() else None
