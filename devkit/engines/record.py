"""How an engine decides what ``up`` must change: desired hashes versus running hashes.

Each running deployment carries the hashes it was started with (Docker labels, or
``process.json``): its spec's (with the run settings folded in, :func:`run_hash`) and its
environment's. The plan is pure: no I/O. Traffic, mirror and auth are not recorded here:
the router's config is their one live record (:mod:`devkit.engines.routing`).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from devkit.spec.hashing import spec_hash
from devkit.spec.model import DeploymentSpec, Endpoint, ScaleSettings


def run_hash(spec: DeploymentSpec, fingerprint: str) -> str:
    """The hash a deployment is started with: its spec's, combined with what the run
    settings change for it (debugger, watching), so either change restarts it. An
    autoscaled deployment's count and bounds are left out: the autoscaler applies new
    ones to the running replicas, so changing them restarts nothing."""
    plain = spec_hash(_without_count(spec))
    if not fingerprint:
        return plain
    return hashlib.sha256(f"{plain}+{fingerprint}".encode()).hexdigest()


def _without_count(spec: DeploymentSpec) -> DeploymentSpec:
    if not spec.scale_settings.scaled:
        return spec
    return dataclasses.replace(spec, instance_count=0,
                               scale_settings=ScaleSettings(type=spec.scale_settings.type))


def starting_counts(endpoint: Endpoint) -> Endpoint:
    """The spec ``up`` starts: an autoscaled deployment with ``instance_count`` kept
    within its min..max (the autoscaler takes over from there)."""
    return dataclasses.replace(endpoint, deployments=tuple(
        dataclasses.replace(d, instance_count=d.scale_settings.starting_count(d.instance_count))
        if d.scale_settings.scaled else d for d in endpoint.deployments))


@dataclass(frozen=True)
class Wanted:
    """A deployment as ``up`` wants it: the spec and the hashes that identify it."""

    spec: DeploymentSpec
    spec_hash: str
    env_hash: str
    gpu: bool = False

    @property
    def key(self) -> tuple[str, str, bool]:
        return (self.spec_hash, self.env_hash, self.gpu)


@dataclass(frozen=True)
class Running:
    """A deployment as the engine has it, read back from labels or the state file."""

    name: str
    spec_hash: str
    env_hash: str
    gpu: bool
    healthy_count: int  # replicas that still run
    replica_count: int  # replicas the spec asked for

    @property
    def key(self) -> tuple[str, str, bool]:
        return (self.spec_hash, self.env_hash, self.gpu)


@dataclass(frozen=True)
class Plan:
    keep: tuple[str, ...]
    start: tuple[str, ...]  # new deployments
    restart: tuple[str, ...]  # changed or broken ones
    remove: tuple[str, ...]  # no longer in the spec

    @property
    def touches_nothing(self) -> bool:
        return not (self.start or self.restart or self.remove)


def make_plan(wanted: Iterable[Wanted], running: Iterable[Running]) -> Plan:
    """Decide per deployment: unchanged and whole → keep; changed, or a replica gone →
    restart; not running → start; running but no longer wanted → remove. An autoscaled
    deployment is whole while any replica runs: its count is the autoscaler's, which
    also brings it back to min_instances."""
    have = {r.name: r for r in running}
    keep: list[str] = []
    start: list[str] = []
    restart: list[str] = []
    names = set()
    for want in wanted:
        names.add(want.spec.name)
        current = have.get(want.spec.name)
        if current is None:
            start.append(want.spec.name)
        elif current.key == want.key and _whole(want, current):
            keep.append(want.spec.name)
        else:
            restart.append(want.spec.name)
    remove = sorted(n for n in have if n not in names)
    return Plan(tuple(keep), tuple(start), tuple(restart), tuple(remove))


def _whole(want: Wanted, current: Running) -> bool:
    if want.spec.scale_settings.scaled:
        return current.healthy_count >= 1
    return current.healthy_count == current.replica_count
