"""Reloading a running endpoint's scoring code in every replica, and the outcomes.

Saving a file already reloads (each replica's runtime watches its code); this is the
explicit reload, and the read of the last outcomes, for ``devkit reload`` and the TUI.
Environment changes cannot reload: they come back as the rebuilds ``devkit up`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

from devkit.actions.place import LOCAL, Place, Scope, local_engine
from devkit.engines.base import EndpointStatus, Engine, no_deployment
from devkit.errors import EngineError, ReloadFailed
from devkit.reload import (
    RebuildNeeded,
    ReplicaReload,
    last_reloads,
    rebuilds_needed,
    recall_spec,
    reload_now,
)
from devkit.spec.model import Endpoint


@dataclass(frozen=True)
class ReloadReport:
    """One outcome per replica, and the deployments whose environment needs a rebuild."""

    outcomes: tuple[ReplicaReload, ...]
    rebuilds: tuple[RebuildNeeded, ...]
    last: bool  # only the last outcomes were read; nothing was reloaded

    @property
    def failed(self) -> list[ReplicaReload]:
        return [o for o in self.outcomes if o.ok is False or (not self.last and o.ok is None)]

    def raise_if_failed(self) -> None:
        if self.failed:
            raise ReloadFailed(self.failed[0].sentence())

    def to_json(self) -> dict[str, object]:
        return {"reloads": [o.to_json() for o in self.outcomes],
                "rebuild": [r.deployment for r in self.rebuilds]}


def reload(name: str, *, deployment: str | None = None, last: bool = False,
           spec: Endpoint | None = None, scope: Scope = LOCAL) -> ReloadReport:
    """Reload endpoint ``name`` (or one deployment) now, or with ``last`` read what each
    replica did last. ``spec`` (default: the one ``up`` recorded) maps the replicas'
    paths back to the user's files and finds the rebuilds."""
    place, status = scope.locate(name)
    engine = local_engine(place, "Reloading")
    _check_deployment(status, deployment, need_replicas=not last)
    spec = spec if spec is not None else recall_spec(name)
    outcomes = (last_reloads if last else reload_now)(engine, status, deployment, spec)
    rebuilds = [r for r in rebuilds_needed(engine, status, spec)
                if deployment in (None, r.deployment)] if spec else []
    return ReloadReport(tuple(outcomes), tuple(rebuilds), last)


def last_reload(place: Place, status: EndpointStatus, deployment: str,
                spec: Endpoint | None = None) -> ReplicaReload | None:
    """The last reload the deployment's first replica reports, when it reports one (only
    local engines run devkit's reloading runtime)."""
    if not isinstance(place, Engine):
        return None
    found = last_reloads(place, status, deployment, spec)
    return found[0] if found and found[0].ok is not None else None


def _check_deployment(status: EndpointStatus, deployment: str | None,
                      need_replicas: bool) -> None:
    if deployment is None:
        return
    found = status.deployment(deployment)
    if found is None:
        raise no_deployment(status.name, deployment, [d.name for d in status.deployments])
    if need_replicas and not found.replica_status:
        raise EngineError(f"Deployment '{deployment}' of '{status.name}' has no running "
                          f"replica to reload; start it with `devkit up`.")
