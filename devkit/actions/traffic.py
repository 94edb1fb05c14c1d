"""An endpoint's live traffic: show it, or change weights and mirror live.

The router's config is the one live record: nothing here probes a replica or asks which
engine runs the endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping

from devkit.actions.place import LOCAL, Scope
from devkit.router.control import TrafficChange


def show_traffic(name: str, *, scope: Scope = LOCAL) -> TrafficChange:
    return scope.access().traffic(name)


def set_traffic(name: str, traffic: Mapping[str, int] | None = None,
                mirror: Mapping[str, int] | None = None, *,
                scope: Scope = LOCAL) -> TrafficChange:
    """Apply ``traffic`` (None: keep the live weights; deployments not named get 0) and
    ``mirror`` (None: keep it; ``{}`` or NAME=0 stops it), validated by the spec's rules."""
    access = scope.access()
    weights = access.traffic(name).traffic if traffic is None else traffic
    return access.set_traffic(name, weights, mirror)

