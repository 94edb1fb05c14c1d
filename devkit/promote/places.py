"""The seam where a target kind plugs in: :class:`Place` is what every target does, and
:func:`open_place` picks the implementation by ``kind``, importing it lazily (the swarm
target needs the docker SDK, the kubernetes one the kubernetes client).

Every method reads the truth from the target itself, so any shell sees the same thing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from devkit.engines.base import EndpointStatus, Progress
from devkit.errors import TargetUnavailable
from devkit.promote.plan import Plan
from devkit.promote.release import Release
from devkit.promote.targets import Target


class Place(Protocol):
    """A promote target as the actions see it (local engines have the same verbs)."""

    target: Target
    kind: str  # "swarm" | "kubernetes"
    # Whether devkit's router fronts the endpoint there (its /-/metrics.json and
    # /-/shadow.json at the scoring URI's origin), which rollout checks against.
    runs_devkit_router: bool

    def plan(self, wanted: Release, overcommit: bool = False) -> Plan: ...
    def apply(self, release: Release, progress: Progress, overcommit: bool = False) -> None: ...
    def rollback(self, endpoint: str, progress: Progress) -> Release: ...
    def status(self, endpoint: str | None = None) -> list[EndpointStatus]: ...
    def set_traffic(self, endpoint: str, traffic: Mapping[str, int],
                    mirror: Mapping[str, int] | None) -> dict[str, Any]: ...
    def logs(self, endpoint: str, deployment: str | None = None, follow: bool = False,
             tail: int | None = 100) -> Iterator[str]: ...
    def keys(self, endpoint: str) -> dict[str, str]: ...
    def token_secret(self, endpoint: str) -> bytes: ...
    def down(self, endpoint: str, progress: Progress) -> None: ...
    def close(self) -> None: ...


def open_place(target: Target) -> Place:
    """Connect to ``target`` (TargetUnavailable when it does not answer)."""
    if target.kind == "swarm":
        from devkit.promote.swarm.target import SwarmTarget

        return SwarmTarget(target)
    if target.kind == "kubernetes":
        from devkit.promote.kubernetes import open_kubernetes

        place: Place = open_kubernetes(target)
        return place
    raise TargetUnavailable(f"Target '{target.name}' has kind '{target.kind}'; use swarm or "
                            f"kubernetes.")
