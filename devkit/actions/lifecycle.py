"""Bringing endpoints up and taking them down, with the bookkeeping both need.

``up`` records where the endpoint's YAML files are (so ``status``, ``reload`` and
``debug`` find its spec from any shell) and ``down`` forgets it; the CLI and the TUI both
come through here, so neither can skip it. The same goes for the endpoint's autoscaler
(:mod:`devkit.autoscale`): ``up`` stops it while it reconciles and starts a fresh one
after, ``down`` stops it before anything is removed.
"""

from __future__ import annotations

from dataclasses import dataclass

from devkit.actions.place import LOCAL, Place, Scope
from devkit.autoscale import daemon
from devkit.engines import get_engine, scale_record
from devkit.engines.base import (
    DeploymentStatus,
    EndpointStatus,
    Engine,
    Progress,
    RunSettings,
    no_progress,
)
from devkit.engines.lock import endpoint_lock
from devkit.errors import EndpointNotFound, ScriptError
from devkit.reload import forget_spec, recall_settings, remember_spec
from devkit.spec.model import Endpoint


@dataclass(frozen=True)
class UpResult:
    """The endpoint as ``up`` left it, and where it runs."""

    place: Place
    status: EndpointStatus

    @property
    def broken(self) -> list[DeploymentStatus]:
        """Deployments that came up unhealthy (``init()`` failed; they stay up so a save
        reloads them)."""
        return [d for d in self.status.deployments if d.error]

    def raise_if_broken(self) -> None:
        """ScriptError naming the first unhealthy deployment and the fix."""
        if self.broken:
            raise ScriptError(unhealthy_sentence(self.status.name, self.broken[0]))


def unhealthy_sentence(endpoint: str, deployment: DeploymentStatus) -> str:
    """What to fix, by the runtime's diagnosis: score.py (a save reloads it) or the
    environment (installed packages; only a rebuild with other versions fixes that)."""
    logs = f"`devkit logs {endpoint} -d {deployment.name}`"
    if deployment.cause == "environment":
        return (f"Deployment '{deployment.name}' is unhealthy: {deployment.error}\nFix the "
                "environment (the package versions in its conda file or Dockerfile; a save "
                f"of score.py cannot fix installed packages) and run `devkit up` again, or "
                f"see {logs}.")
    return (f"Deployment '{deployment.name}' is unhealthy: {deployment.error}\nFix score.py "
            f"(saving it reloads the server) or see {logs}.")


def up(endpoint: Endpoint, *, engine: str | None = None, settings: RunSettings | None = None,
       scope: Scope = LOCAL, progress: Progress = no_progress) -> UpResult:
    """Bring ``endpoint`` (a loaded spec) to its spec where it runs already, else on
    ``engine`` (default: docker when it answers, else process) or the scope's target.
    ``settings`` None keeps those of the last ``up`` (the TUI's u)."""
    settings = settings if settings is not None else recall_settings(endpoint.name)
    place = _place_for(endpoint.name, engine, scope, progress)
    local = isinstance(place, Engine)
    with endpoint_lock(endpoint.name, "up", progress):  # remember_spec included
        if local:  # the loop and the reconcile never change replicas at the same time
            daemon.stop(endpoint.name)
        try:
            status = place.up(endpoint, settings, progress)
            remember_spec(endpoint, settings)  # the autoscaler reads the spec from here
        finally:
            if isinstance(place, Engine):
                _autoscale(endpoint, place, progress)
    return UpResult(place, status)


def _autoscale(endpoint: Endpoint, engine: Engine, progress: Progress) -> None:
    """Start the endpoint's autoscaler when a deployment wants one and the endpoint
    runs; forget an old one's records when none does."""
    if not daemon.wanted(endpoint):
        scale_record.forget(endpoint.name)
        return
    if engine.router_url(endpoint.name) is None:
        return
    daemon.start(endpoint.name, engine.name)
    for d in endpoint.deployments:
        scale = d.scale_settings
        if scale.scaled:
            progress(f"{d.name}: autoscaling {scale.floor}..{scale.max_instances} replicas at "
                     f"{scale.target_utilization_percentage}% utilization (log: "
                     f"{scale_record.log_path(endpoint.name)})")


def _place_for(name: str, engine: str | None, scope: Scope, progress: Progress) -> Place:
    if scope.target is not None:
        return scope.target
    if engine is not None:
        return get_engine(engine, progress=progress)
    try:
        return scope.locate(name)[0]
    except EndpointNotFound:
        named = scope.engines[0] if scope.engines else None
        return get_engine(named, progress=progress)


def down(name: str, *, scope: Scope = LOCAL) -> Place:
    """Stop endpoint ``name`` and remove what was made for it; return where it ran."""
    place = scope.owner(name)
    with endpoint_lock(name, "down", remove=True, create=False):
        if isinstance(place, Engine):
            daemon.forget(name)  # before anything goes: it would start replicas again
        place.down(name)
        forget_spec(name)
    return place


def down_all(*, scope: Scope = LOCAL) -> list[str]:
    """Stop every endpoint in the scope; return their names."""
    stopped: list[str] = []
    if scope.target is None:
        daemon.forget_all()
    for place in scope.places():
        stopped += place.down_all()
    for name in stopped:
        forget_spec(name)
    return stopped


def restart(endpoint: Endpoint, *, scope: Scope = LOCAL,
            progress: Progress = no_progress) -> UpResult:
    """Remove the endpoint and start it again where it ran: a fresh replica set, images
    rebuilt where they changed."""
    place = scope.owner(endpoint.name)
    settings = recall_settings(endpoint.name)
    with endpoint_lock(endpoint.name, "up", progress):
        if isinstance(place, Engine):
            daemon.stop(endpoint.name)
        place.down(endpoint.name)
        try:
            status = place.up(endpoint, settings, progress)
            remember_spec(endpoint, settings)
        finally:
            if isinstance(place, Engine):
                _autoscale(endpoint, place, progress)
    return UpResult(place, status)

