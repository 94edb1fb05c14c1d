"""The plan: what applying a release to a target would create, change or remove, and
whether it fits the target's nodes. Pure data in, pure data out; no target I/O.

A target reads what it runs back as a :class:`~devkit.promote.release.Release` (``None``
when nothing runs there) plus the live traffic and whether keys exist; :func:`make_plan`
compares that with the wanted release. Deployments are compared by
:attr:`~devkit.promote.release.DeploymentRelease.fingerprint` (new replicas needed) and
replica count (scales in place). Promoting the same thing twice yields an empty plan
(:attr:`Plan.nothing_to_do`).

Capacity follows Azure's quota rule for upgrade headroom: a deployment of ``n``
instances of a SKU with ``c`` cores needs ``ceil(1.2 x n) x c`` cores (and the same of
memory), summed per SKU and checked against the sum of the nodes; one replica must also
fit one node. A plan that does not fit says what is missing; with ``overcommit`` it
proceeds, capping each replica's limits to the largest node and dropping reservations,
and says so in :attr:`Plan.notes`.

Usage::

    plan = make_plan(wanted, current, Live(traffic, mirror, keys=True), nodes, overcommit)
    print(plan.render())
    plan.require_fit(target_name)   # CapacityError unless it fits or overcommit
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from devkit.engines.sku import GIB
from devkit.errors import CapacityError
from devkit.promote.release import DeploymentRelease, Release

CREATE, CHANGE, REMOVE, KEEP = "create", "change", "remove", "keep"
HEADROOM = 1.2


@dataclass(frozen=True)
class Node:
    name: str
    cpus: float
    memory: int  # bytes


@dataclass(frozen=True)
class Live:
    """What the target's router serves now (``None`` traffic: no router runs)."""

    traffic: Mapping[str, int] | None = None
    mirror: Mapping[str, int] = field(default_factory=dict)
    keys: bool = False  # whether the endpoint's keys / token secret exist there


@dataclass(frozen=True)
class Change:
    action: str  # create | change | remove | keep
    what: str  # "deployment blue", "router", "traffic", "keys"
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        return {"action": self.action, "object": self.what, "detail": self.detail}


@dataclass(frozen=True)
class SkuNeed:
    instance_type: str
    instances: int
    cores: float  # ceil(1.2 x instances) x SKU cores, summed over deployments
    memory: int


@dataclass(frozen=True)
class Capacity:
    needs: tuple[SkuNeed, ...]
    node_cores: float
    node_memory: int
    largest_cores: float
    largest_memory: int
    missing: tuple[str, ...] = ()

    @property
    def cores(self) -> float:
        return sum(n.cores for n in self.needs)

    @property
    def memory(self) -> int:
        return sum(n.memory for n in self.needs)

    @property
    def fits(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class Plan:
    endpoint: str
    target: str
    changes: tuple[Change, ...]
    capacity: Capacity
    overcommit: bool = False
    notes: tuple[str, ...] = ()

    @property
    def nothing_to_do(self) -> bool:
        return all(c.action == KEEP for c in self.changes)

    def require_fit(self) -> None:
        """CapacityError naming what is missing, unless it fits or overcommit is on."""
        if self.capacity.fits or self.overcommit:
            return
        raise CapacityError(
            f"Endpoint '{self.endpoint}' does not fit target '{self.target}': "
            f"{'; '.join(self.capacity.missing)}; add nodes, lower instance_count or "
            f"instance_type, or pass `--overcommit` to cap the limits to the nodes.")

    def render(self) -> str:
        lines = [f"Plan for endpoint '{self.endpoint}' on target '{self.target}':"]
        for change in self.changes:
            sign = {CREATE: "+", CHANGE: "~", REMOVE: "-", KEEP: "="}[change.action]
            detail = f": {change.detail}" if change.detail else ""
            lines.append(f"  {sign} {change.action:<6} {change.what}{detail}")
        lines.append("Capacity (ceil(1.2 x instance_count) x SKU per deployment):")
        for need in self.capacity.needs:
            lines.append(f"  {need.instance_type}: {need.instances} instance(s) need "
                         f"{need.cores:g} cores, {need.memory / GIB:.1f} GiB")
        cap = self.capacity
        lines.append(f"  needs {cap.cores:g} cores, {cap.memory / GIB:.1f} GiB; nodes have "
                     f"{cap.node_cores:g} cores, {cap.node_memory / GIB:.1f} GiB")
        lines.extend(f"  missing: {m}" for m in cap.missing)
        lines.extend(f"  note: {n}" for n in self.notes)
        if self.nothing_to_do:
            lines.append("Nothing to do: the target already runs this release.")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        cap = self.capacity
        return {
            "endpoint": self.endpoint, "target": self.target,
            "nothing_to_do": self.nothing_to_do,
            "changes": [c.to_json() for c in self.changes if c.action != KEEP],
            "unchanged": [c.what for c in self.changes if c.action == KEEP],
            "capacity": {"needs": [vars(n) for n in cap.needs], "cores": cap.cores,
                         "memory": cap.memory, "node_cores": cap.node_cores,
                         "node_memory": cap.node_memory, "fits": cap.fits,
                         "missing": list(cap.missing)},
            "overcommit": self.overcommit, "notes": list(self.notes),
        }


def make_plan(wanted: Release, current: Release | None, live: Live, nodes: list[Node],
              target: str, overcommit: bool = False) -> Plan:
    changes = [*_deployment_changes(wanted, current), _router_change(wanted, current),
               *_traffic_changes(wanted, live), _keys_change(wanted, current, live)]
    capacity = capacity_of(wanted, nodes)
    notes = overcommit_notes(wanted, capacity) if overcommit and not capacity.fits else ()
    return Plan(wanted.endpoint, target, tuple(changes), capacity, overcommit, notes)


def capacity_of(release: Release, nodes: list[Node]) -> Capacity:
    per_sku: dict[str, list[float]] = {}
    for d in release.deployments:
        headroom = math.ceil(HEADROOM * d.replicas)
        entry = per_sku.setdefault(d.instance_type, [0, 0.0, 0.0])
        entry[0] += d.replicas
        entry[1] += headroom * (d.cores or 0)
        entry[2] += headroom * (d.memory or 0)
    needs = tuple(SkuNeed(sku, int(v[0]), v[1], int(v[2])) for sku, v in per_sku.items())
    node_cores = sum(n.cpus for n in nodes)
    node_memory = sum(n.memory for n in nodes)
    largest_cores = max((n.cpus for n in nodes), default=0.0)
    largest_memory = max((n.memory for n in nodes), default=0)
    capacity = Capacity(needs, node_cores, node_memory, largest_cores, largest_memory)
    return Capacity(needs, node_cores, node_memory, largest_cores, largest_memory,
                    tuple(_missing(release, capacity)))


def capped(deployment: DeploymentRelease, capacity: Capacity) -> tuple[float | None, int | None]:
    """Per-replica (cores, memory) limits capped to the largest node (overcommit)."""
    cores = deployment.cores
    memory = deployment.memory
    if cores is not None:
        cores = min(cores, capacity.largest_cores)
    if memory is not None:
        memory = min(memory, capacity.largest_memory)
    return cores, memory


def overcommit_notes(release: Release, capacity: Capacity) -> tuple[str, ...]:
    notes = ["--overcommit: reservations dropped, limits capped to the largest node "
             f"({capacity.largest_cores:g} cores, {capacity.largest_memory / GIB:.1f} GiB)"]
    for d in release.deployments:
        cores, memory = capped(d, capacity)
        if (cores, memory) != (d.cores, d.memory):
            notes.append(f"{d.name}: {d.instance_type} limits capped to {cores:g} cores, "
                         f"{(memory or 0) / GIB:.1f} GiB per replica")
    return tuple(notes)


def _missing(release: Release, capacity: Capacity) -> list[str]:
    missing = []
    if capacity.cores > capacity.node_cores:
        missing.append(f"{capacity.cores - capacity.node_cores:g} more cores "
                       f"({capacity.cores:g} needed, nodes have {capacity.node_cores:g})")
    if capacity.memory > capacity.node_memory:
        gap = (capacity.memory - capacity.node_memory) / GIB
        missing.append(f"{gap:.1f} GiB more memory ({capacity.memory / GIB:.1f} GiB needed, "
                       f"nodes have {capacity.node_memory / GIB:.1f} GiB)")
    for d in release.deployments:
        if (d.cores or 0) > capacity.largest_cores or (d.memory or 0) > capacity.largest_memory:
            missing.append(f"a node that fits one {d.instance_type} replica of '{d.name}'")
    return missing


def _deployment_changes(wanted: Release, current: Release | None) -> list[Change]:
    have = {d.name: d for d in current.deployments} if current else {}
    changes = []
    for d in wanted.deployments:
        old = have.pop(d.name, None)
        image = d.image if d.digest else f"{d.tag} (not pushed yet)"
        if old is None:
            changes.append(Change(CREATE, f"deployment {d.name}",
                                  f"{d.replicas} x {d.instance_type}, image {image}"))
        elif old.fingerprint != d.fingerprint:
            changes.append(Change(CHANGE, f"deployment {d.name}",
                                  f"new replicas ({_what_changed(old, d)}), image {image}"))
        elif old.replicas != d.replicas:
            changes.append(Change(CHANGE, f"deployment {d.name}",
                                  f"replicas {old.replicas} -> {d.replicas} (in place)"))
        else:
            changes.append(Change(KEEP, f"deployment {d.name}", f"image {old.image}"))
    changes.extend(Change(REMOVE, f"deployment {name}", "not in the spec")
                   for name in have)
    return changes


def _what_changed(old: DeploymentRelease, new: DeploymentRelease) -> str:
    if old.tag != new.tag:
        return f"image {old.tag.rsplit(':', 1)[-1]} -> {new.tag.rsplit(':', 1)[-1]}"
    return "settings changed"


def _router_change(wanted: Release, current: Release | None) -> Change:
    if current is None:
        return Change(CREATE, "router", f"image {wanted.router_image}")
    if current.router_image.split("@")[0] != wanted.router_image.split("@")[0]:
        return Change(CHANGE, "router", f"image -> {wanted.router_image}")
    if current.auth_mode != wanted.auth_mode:
        return Change(CHANGE, "router", f"auth {current.auth_mode} -> {wanted.auth_mode}")
    return Change(KEEP, "router", f"auth {wanted.auth_mode}")


def _traffic_changes(wanted: Release, live: Live) -> list[Change]:
    traffic = _describe(wanted.traffic)
    mirror = _describe(wanted.mirror) or "none"
    if live.traffic is None:
        return [Change(CREATE, "traffic", traffic), Change(CREATE, "mirror", mirror)]
    live_traffic = {k: v for k, v in live.traffic.items() if v}
    want_traffic = {k: v for k, v in wanted.traffic.items() if v}
    result = [Change(KEEP, "traffic", traffic) if live_traffic == want_traffic else
              Change(CHANGE, "traffic", f"{_describe(live.traffic)} -> {traffic}")]
    live_mirror = {k: v for k, v in live.mirror.items() if v}
    want_mirror = {k: v for k, v in wanted.mirror.items() if v}
    result.append(Change(KEEP, "mirror", mirror) if live_mirror == want_mirror else
                  Change(CHANGE, "mirror", f"{_describe(live.mirror) or 'none'} -> {mirror}"))
    return result


def _keys_change(wanted: Release, current: Release | None, live: Live) -> Change:
    what = "keys" if wanted.auth_mode == "key" else "token secret"
    if not live.keys or current is None:
        return Change(CREATE, what, "new, kept in the target's secrets")
    if current.auth_mode != wanted.auth_mode:
        return Change(CHANGE, what, f"rotated ({current.auth_mode} -> {wanted.auth_mode})")
    return Change(KEEP, what, "kept")


def _describe(weights: Mapping[str, int]) -> str:
    return " ".join(f"{name}={value}" for name, value in weights.items() if value)
