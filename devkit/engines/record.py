"""What an engine remembers about an endpoint beyond its deployments, and how it decides
what ``up`` must change.

The endpoint-level settings (auth mode, live traffic, mirror) are written as labels on
every deployment's containers (docker) or in ``process.json`` (process), so ``status``
works from nothing but the engine. Traffic can change without restarting anything
(``up`` with new weights, ``devkit traffic``), and container labels are immutable, so the
latest weights are also written to ``endpoint_state_dir(name)/endpoint.json``, which wins
when present.

The plan is pure: desired hashes versus running hashes, no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from devkit.paths import endpoint_state_dir
from devkit.spec.model import DeploymentSpec, Endpoint

RECORD_FILE = "endpoint.json"


@dataclass(frozen=True)
class EndpointRecord:
    auth_mode: str
    traffic: Mapping[str, int] = field(default_factory=dict)
    mirror: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, endpoint: Endpoint) -> EndpointRecord:
        spec = endpoint.spec
        return cls(spec.auth_mode.value, dict(spec.traffic), dict(spec.mirror_traffic))

    def to_json(self) -> dict[str, object]:
        return {"auth_mode": self.auth_mode, "traffic": dict(self.traffic),
                "mirror": dict(self.mirror)}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> EndpointRecord:
        traffic = data.get("traffic") or {}
        mirror = data.get("mirror") or {}
        assert isinstance(traffic, dict) and isinstance(mirror, dict)
        return cls(str(data.get("auth_mode", "key")),
                   {str(k): int(v) for k, v in traffic.items()},
                   {str(k): int(v) for k, v in mirror.items()})


def record_path(name: str) -> Path:
    return endpoint_state_dir(name) / RECORD_FILE


def save_record(name: str, record: EndpointRecord) -> None:
    path = record_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record.to_json(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def load_record(name: str) -> EndpointRecord | None:
    try:
        data = json.loads(record_path(name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return EndpointRecord.from_json(data) if isinstance(data, dict) else None


def forget_record(name: str) -> None:
    record_path(name).unlink(missing_ok=True)


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
    restart; not running → start; running but no longer wanted → remove."""
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
        elif current.key == want.key and current.healthy_count == current.replica_count:
            keep.append(want.spec.name)
        else:
            restart.append(want.spec.name)
    remove = sorted(n for n in have if n not in names)
    return Plan(tuple(keep), tuple(start), tuple(restart), tuple(remove))
