"""Plan, apply, prune, traffic and rollback of one endpoint's objects on a cluster.

- :func:`plan` asks the server what applying would do: a server-side dry run
  (``dryRun=All``) of every rendered object, diffed against the live one, plus the objects
  devkit made for this endpoint (found by label) that the render no longer has. Nothing
  changes on the cluster.
- :func:`apply` applies what the plan says would change (server-side apply, field manager
  ``devkit``), in render order, then prunes; an unchanged object is not written at all, so
  promoting the same thing twice changes nothing and says so.
- :func:`set_traffic` writes the HTTPRoute alone (``devkit traffic --target``).
- :func:`rollback` applies the release before the running one, recorded on the HTTPRoute
  (:mod:`devkit.promote.kubernetes.history`), keeping the current keys.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from devkit.promote.kubernetes import diff, history, names, render, route
from devkit.promote.kubernetes.client import GATEWAY_API, Cluster
from devkit.promote.kubernetes.errors import KubernetesError
from devkit.spec.traffic import validate_traffic

Manifest = dict[str, Any]
CREATE, UPDATE, DELETE, UNCHANGED = "create", "update", "delete", "unchanged"


@dataclass(frozen=True)
class Change:
    action: str
    kind: str
    name: str
    details: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"{self.action} {self.kind} {self.name}"


@dataclass(frozen=True)
class Plan:
    target: str
    endpoint: str
    changes: tuple[Change, ...]

    @property
    def pending(self) -> tuple[Change, ...]:
        return tuple(change for change in self.changes if change.action != UNCHANGED)

    @property
    def nothing_to_do(self) -> bool:
        return not self.pending


Progress = Callable[[Change], None]


def plan(cluster: Cluster, endpoint: str, manifests: list[Manifest],
         release: Mapping[str, Any] | None = None) -> Plan:
    """What applying ``manifests`` for ``endpoint`` would change, from a server dry run.
    ``release`` (plain JSON) is recorded with the objects for a later rollback."""
    return _prepare(cluster, endpoint, manifests, release)[0]


def apply(cluster: Cluster, endpoint: str, manifests: list[Manifest],
          progress: Progress | None = None, release: Mapping[str, Any] | None = None) -> Plan:
    """Apply what changed and prune what is gone; returns the plan that was carried out."""
    done, objects = _prepare(cluster, endpoint, manifests, release)
    for change in done.pending:
        obj = objects[(change.kind, change.name)]
        if change.action == DELETE:
            cluster.delete(obj)
        else:
            cluster.apply(obj)
        if progress is not None:
            progress(change)
    return done


def _prepare(cluster: Cluster, endpoint: str, manifests: list[Manifest],
             release: Mapping[str, Any] | None,
             ) -> tuple[Plan, dict[tuple[str, str], Manifest]]:
    """The plan, and by (kind, name) the object each change writes or deletes."""
    wanted = _stamped(cluster, manifests, release)
    changes = []
    objects: dict[tuple[str, str], Manifest] = {}
    for manifest in wanted:
        live = _live(cluster, manifest)
        answer = cluster.apply(manifest, dry_run=True)
        details = tuple(diff.changes(live, answer))
        action = CREATE if live is None else (UPDATE if details else UNCHANGED)
        changes.append(Change(action, manifest["kind"], _name(manifest), details))
        objects[(manifest["kind"], _name(manifest))] = manifest
    keep = set(objects)
    for obj in cluster.managed(endpoint):
        if (obj["kind"], _name(obj)) not in keep:
            changes.append(Change(DELETE, obj["kind"], _name(obj)))
            objects[(obj["kind"], _name(obj))] = obj
    return Plan(cluster.settings.name, endpoint, tuple(changes)), objects


def set_traffic(cluster: Cluster, endpoint: str, traffic: Mapping[str, int] | None,
                mirror: Mapping[str, int] | None) -> Manifest:
    """New live weights and mirror on the endpoint's HTTPRoute, and on nothing else;
    ``None`` keeps what the route has."""
    live = cluster.get(GATEWAY_API, "HTTPRoute", names.object_name(endpoint))
    if live is None:
        raise KubernetesError(
            f"Endpoint '{endpoint}' has no HTTPRoute in namespace "
            f"'{cluster.settings.namespace}' on target '{cluster.settings.name}'; promote it "
            f"there first (`devkit promote {endpoint} --target {cluster.settings.name}`).")
    current_traffic, current_mirror = route.traffic_of(live)
    traffic = current_traffic if traffic is None else traffic
    mirror = current_mirror if mirror is None else {k: v for k, v in mirror.items() if v}
    validate_traffic(route.deployments_of(live), traffic, mirror)
    updated = route.with_traffic(diff.normalised(live), traffic, mirror)
    # The live resourceVersion makes the write conditional: a concurrent change is a 409.
    updated["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
    updated["metadata"]["annotations"] = live["metadata"].get("annotations", {})
    return cluster.apply(updated)


def rollback(cluster: Cluster, endpoint: str, progress: Progress | None = None,
             ) -> tuple[Plan, history.Record]:
    """Apply the release before the running one; the current keys stay. Returns what was
    done and the release gone back to."""
    live_route = cluster.get(GATEWAY_API, "HTTPRoute", names.object_name(endpoint))
    previous = history.previous(live_route)
    if previous is None:
        raise KubernetesError(
            f"Endpoint '{endpoint}' on target '{cluster.settings.name}' has no earlier "
            "release to roll back to (it was promoted once); promote the release you want "
            "instead.")
    done = apply(cluster, endpoint, _with_live_keys(cluster, previous.objects), progress,
                 previous.release)
    return done, previous


def down(cluster: Cluster, endpoint: str) -> list[str]:
    """Delete everything devkit created for ``endpoint`` (found by label); what went."""
    removed = []
    for obj in reversed(cluster.managed(endpoint)):
        cluster.delete(obj)
        removed.append(f"{obj['kind']} {_name(obj)}")
    return removed


def _stamped(cluster: Cluster, manifests: list[Manifest],
             release: Mapping[str, Any] | None) -> list[Manifest]:
    """The manifests with the release record on the HTTPRoute (from the live route)."""
    result = []
    for manifest in manifests:
        if manifest["kind"] == "HTTPRoute":
            manifest = history.stamp(manifest, manifests, _live(cluster, manifest), release)
        result.append(manifest)
    return result


def _with_live_keys(cluster: Cluster, manifests: list[Manifest]) -> list[Manifest]:
    restored = []
    for manifest in manifests:
        if manifest["kind"] == "Secret":
            credentials = render.credentials_of(_live(cluster, manifest))
            manifest = copy.deepcopy(manifest)
            if credentials is not None:
                manifest["data"] = render.secret_data(credentials)
        restored.append(manifest)
    return restored


def _live(cluster: Cluster, manifest: Mapping[str, Any]) -> Manifest | None:
    return cluster.get(manifest["apiVersion"], manifest["kind"], _name(manifest))


def _name(manifest: Mapping[str, Any]) -> str:
    return str(manifest["metadata"]["name"])
