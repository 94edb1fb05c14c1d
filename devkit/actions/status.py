"""What runs, read back from the places themselves, with the deployments that need a
rebuild because their environment changed since they started."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from devkit.actions.place import LOCAL, Place, Scope
from devkit.engines.base import EndpointStatus, Engine
from devkit.errors import DevkitError, SpecError
from devkit.reload import RebuildNeeded, rebuilds_needed, recall_spec


@dataclass(frozen=True)
class EndpointReport:
    """One endpoint's status and the rebuilds it needs (empty when devkit does not know
    its spec files)."""

    status: EndpointStatus
    rebuilds: tuple[RebuildNeeded, ...] = ()

    @property
    def name(self) -> str:
        return self.status.name

    def to_json(self) -> dict[str, Any]:
        """``devkit status --json``'s object for this endpoint."""
        return {**self.status.to_json(), "needs_rebuild": [r.deployment for r in self.rebuilds]}


def status(name: str | None = None, *, scope: Scope = LOCAL) -> list[EndpointReport]:
    """Every endpoint in the scope (or just ``name``: EndpointNotFound when none runs)."""
    if name is not None:
        found = [scope.locate(name)]
    else:
        found = [(place, s) for place in scope.places() for s in place.status()]
    return [EndpointReport(s, tuple(_rebuilds(place, s))) for place, s in found]


def running(scope: Scope = LOCAL) -> tuple[list[tuple[Place, EndpointStatus]], list[str]]:
    """Every running endpoint with its place, and the sentence of each place that could
    not answer (the TUI shows those and keeps the rest)."""
    found: list[tuple[Place, EndpointStatus]] = []
    errors: list[str] = []
    for place in scope.places():
        try:
            found += [(place, status) for status in place.status()]
        except DevkitError as exc:
            errors.append(str(exc))
    return found, errors


def _rebuilds(place: Place, status: EndpointStatus) -> list[RebuildNeeded]:
    """Only a local engine knows how it would build an environment now."""
    if not isinstance(place, Engine):
        return []
    try:
        spec = recall_spec(status.name)
    except SpecError:  # a half-edited YAML file must not break `status`
        return []
    return rebuilds_needed(place, status, spec) if spec else []
