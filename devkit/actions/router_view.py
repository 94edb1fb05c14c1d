"""One endpoint's front end as compare, replay and rollout reach it.

A :class:`RouterView` holds what those actions need and nothing about where the endpoint
runs: the scoring URI of its router, the headers a client authenticates with, and a
:class:`TrafficAccess` (read and change the live weights). Local endpoints get one from
:func:`local_view` (the router's config folder and whichever engine runs the replicas); a
promote target (Swarm, Kubernetes) builds the same object from its own place, so the
actions run unchanged there.

The router's JSON (``/-/metrics.json``, ``/-/shadow.json``) is read over HTTP from the
scoring URI's origin: the same URL works for a process, a container or a service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from devkit.errors import RouterError
from devkit.router.control import TrafficChange

HTTP_TIMEOUT_S = 5.0


class TrafficAccess(Protocol):
    """Live weights of an endpoint, read and changed where it runs."""

    def traffic(self, name: str) -> TrafficChange:
        ...

    def set_traffic(self, name: str, traffic: Mapping[str, int],
                    mirror: Mapping[str, int] | None = None) -> TrafficChange:
        ...


@dataclass(frozen=True)
class RouterView:
    endpoint: str
    scoring_uri: str
    access: TrafficAccess
    headers: Mapping[str, str] = field(default_factory=dict)
    # Where the per-deployment counters are read, when not at the scoring URI's origin
    # (``--metrics-url``: a document in the router's /-/metrics.json format).
    metrics_url: str | None = None
    # Why no counters can be read for this endpoint (a Kubernetes target without
    # --metrics-url: the Gateway splits traffic, no devkit router counts it); None: they can.
    unmeasured: str | None = None
    shadow_diff: bool = True  # whether a devkit router compares mirrored answers here

    @property
    def origin(self) -> str:
        url = httpx.URL(self.scoring_uri)
        return f"{url.scheme}://{url.host}:{url.port}" if url.port else \
            f"{url.scheme}://{url.host}"

    def metrics(self) -> dict[str, Any]:
        """The router's ``/-/metrics.json`` (per-deployment counters and histograms)."""
        if self.unmeasured is not None:
            raise RouterError(self.unmeasured)
        return self._json("/-/metrics.json", self.metrics_url)

    def shadow(self) -> dict[str, Any]:
        """The router's ``/-/shadow.json`` (the shadow diff of mirrored requests)."""
        return self._json("/-/shadow.json")

    def traffic(self) -> TrafficChange:
        return self.access.traffic(self.endpoint)

    def set_traffic(self, traffic: Mapping[str, int],
                    mirror: Mapping[str, int] | None = None) -> TrafficChange:
        return self.access.set_traffic(self.endpoint, traffic, mirror)

    def _json(self, path: str, url: str | None = None) -> dict[str, Any]:
        url = url or self.origin + path
        try:
            response = httpx.get(url, timeout=HTTP_TIMEOUT_S)
            found = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError) as exc:
            raise RouterError(f"The router of endpoint '{self.endpoint}' did not answer "
                              f"{url} ({exc}); check it with `devkit status "
                              f"{self.endpoint}`.") from exc
        if not isinstance(found, dict):
            raise RouterError(f"The router of endpoint '{self.endpoint}' answered {url} "
                              f"with {response.status_code}, not its JSON; it may be older "
                              f"than this devkit: run `devkit up` again to restart it.")
        return found


class LocalTraffic:
    """Traffic of a local endpoint: the router's config, its one live record (``devkit
    status`` reads it there too), so no engine is asked. ``engine`` names the engine
    running it, when known."""

    def __init__(self, engine: str | None = None) -> None:
        self.engine = engine

    def traffic(self, name: str) -> TrafficChange:
        from devkit.router import current_traffic

        return current_traffic(name)

    def set_traffic(self, name: str, traffic: Mapping[str, int],
                    mirror: Mapping[str, int] | None = None) -> TrafficChange:
        from devkit.router import set_traffic

        return set_traffic(name, traffic, mirror)


def local_view(name: str) -> RouterView:
    """The view of endpoint ``name`` running on a local engine; EndpointNotFound when
    none runs it, RouterError when it has no router."""
    from devkit.actions.access import authorization
    from devkit.actions.place import LOCAL

    engine, status = LOCAL.locate(name)
    if not status.scoring_uri:
        raise RouterError(f"Endpoint '{name}' has no running router; bring it up again "
                          f"with `devkit up` and check `devkit status {name}`.")
    return RouterView(name, status.scoring_uri, LocalTraffic(engine.name),
                      authorization(name))
