"""An endpoint on a promote target as compare, replay and rollout reach it: the same
:class:`~devkit.actions.router_view.RouterView` a local endpoint gets, built from the
target's :class:`~devkit.promote.places.Place`.

- Swarm: the router is devkit's own, running as a service with its port published on the
  target's address (loopback for a local swarm), so counters and the shadow diff are read
  from the scoring URI's origin exactly as locally; traffic changes go through the place
  (the router's config in its volume).
- Kubernetes: the Gateway splits traffic by the HTTPRoute's weights; no devkit router runs
  and the cluster has no counters devkit can read, so the view is ``unmeasured`` unless a
  ``metrics_url`` is given, and it has no shadow diff.

Each traffic read or change connects to the target anew: a rollout runs for minutes, and
a connection per step costs nothing next to its interval.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from devkit.actions.router_view import RouterView
from devkit.errors import DevkitError, EndpointNotFound, RouterError
from devkit.router.control import TrafficChange


class TargetTraffic:
    """Live weights of an endpoint on target ``target``, read and changed there."""

    def __init__(self, target: str) -> None:
        self.target = target

    def traffic(self, name: str) -> TrafficChange:
        from devkit.actions.targets import traffic

        return _change(name, traffic(self.target, name, None, None))

    def set_traffic(self, name: str, traffic: Mapping[str, int],
                    mirror: Mapping[str, int] | None = None) -> TrafficChange:
        from devkit.actions.targets import traffic as change

        return _change(name, change(self.target, name, dict(traffic), mirror))


def _change(name: str, raw: Mapping[str, Any]) -> TrafficChange:
    return TrafficChange(name, dict(raw["traffic"]), dict(raw.get("mirror") or {}),
                         int(raw.get("generation") or 0), bool(raw.get("applied", True)))


def target_view(target: str, endpoint: str, metrics_url: str | None = None) -> RouterView:
    """The view of ``endpoint`` on ``target``; EndpointNotFound when it runs no such one."""
    from devkit.actions.targets import place_for

    with place_for(target) as place:
        found = place.status(endpoint)
        if not found:  # (a Kubernetes endpoint may have no scoring URI: no hostname)
            raise EndpointNotFound(f"Target '{target}' runs no endpoint '{endpoint}'; promote "
                                   f"it with `devkit promote PATH --target {target}`.")
        status = found[0]
        headers: dict[str, str] = {}
        with contextlib.suppress(DevkitError):  # a cluster whose Secret cannot be read
            headers = _authorization(place, endpoint, status.auth_mode)
        router = bool(getattr(place, "runs_devkit_router", False))
        kind = getattr(place, "kind", "target")
    unmeasured = None
    if not router and metrics_url is None:
        unmeasured = (f"Target '{target}' is {kind}: its Gateway splits '{endpoint}''s "
                      f"traffic by the HTTPRoute's weights, with no devkit router counting "
                      f"requests, so rollout cannot check a deployment's health from the "
                      f"cluster")
    if metrics_url is not None and not metrics_url.startswith(("http://", "https://")):
        raise RouterError(f"--metrics-url {metrics_url!r} is not an http(s) URL; give the "
                          f"full URL of the metrics document, like "
                          f"http://127.0.0.1:9090/-/metrics.json.")
    return RouterView(endpoint, status.scoring_uri or "", TargetTraffic(target), headers,
                      metrics_url=metrics_url, unmeasured=unmeasured, shadow_diff=router)


def _authorization(place: Any, endpoint: str, auth_mode: str) -> dict[str, str]:
    if auth_mode == "key":
        return {"Authorization": f"Bearer {place.keys(endpoint)['primary']}"}
    if auth_mode == "aml_token":
        import time

        from devkit_runtime.router.auth import sign_token

        token = sign_token(place.token_secret(endpoint), endpoint, int(time.time()) + 3600)
        return {"Authorization": f"Bearer {token}"}
    return {}
