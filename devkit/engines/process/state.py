"""The process engine's record of an endpoint: ``endpoint_state_dir(name)/process.json``.

It is the process engine's equivalent of Docker labels: which deployments run, with which
hashes, for each replica its pid, ports and log file, and the router's pid, port and log
file. Pids are checked against the process's start time, so a pid reused after a reboot
is not mistaken for a replica.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

from devkit.paths import endpoint_state_dir, state_dir

STATE_FILE = "process.json"


@dataclass(frozen=True)
class ReplicaRecord:
    index: int
    pid: int
    port: int
    admin_port: int
    log: str
    started: str | None = None  # /proc start time, when the OS has one

    def alive(self) -> bool:
        return pid_alive(self.pid, self.started)


@dataclass(frozen=True)
class DeploymentRecord:
    name: str
    spec_hash: str
    env_hash: str
    venv: str
    instance_count: int
    replicas: tuple[ReplicaRecord, ...] = ()


@dataclass(frozen=True)
class RouterRecord:
    """The endpoint's router process: where it listens and where it logs."""

    pid: int
    port: int
    log: str
    started: str | None = None

    def alive(self) -> bool:
        return pid_alive(self.pid, self.started)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class ProcessState:
    name: str
    deployments: dict[str, DeploymentRecord] = field(default_factory=dict)
    router: RouterRecord | None = None

    def to_json(self) -> dict[str, object]:
        return {"name": self.name,
                "deployments": {n: asdict(d) for n, d in self.deployments.items()},
                "router": asdict(self.router) if self.router else None}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ProcessState:
        deployments = {}
        raw_deployments = data.get("deployments") or {}
        assert isinstance(raw_deployments, dict)
        for name, raw in raw_deployments.items():
            replicas = tuple(ReplicaRecord(**r) for r in raw.pop("replicas", []))
            deployments[name] = DeploymentRecord(**raw, replicas=replicas)
        router = data.get("router")
        assert router is None or isinstance(router, dict)
        return cls(str(data["name"]), deployments,
                   RouterRecord(**router) if router else None)


def state_path(name: str) -> Path:
    return endpoint_state_dir(name) / STATE_FILE


def load(name: str) -> ProcessState | None:
    try:
        data = json.loads(state_path(name).read_text(encoding="utf-8"))
        return ProcessState.from_json(data)
    except (OSError, ValueError, KeyError, TypeError, AssertionError):
        return None


def save(state: ProcessState) -> None:
    path = state_path(state.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state.to_json(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def names() -> list[str]:
    """Endpoints with a process record."""
    root = state_dir() / "endpoints"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / STATE_FILE).is_file())


def start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return fields[19] if fields[0] != "Z" else None


def pid_alive(pid: int, started: str | None) -> bool:
    """Whether ``pid`` still is the process we started (not a zombie, not a reuse)."""
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return started is None
    if started is None or not Path("/proc").is_dir():
        return True
    return start_time(pid) == started


# Replicas started by this very process (``up`` and ``down`` in one process, as in tests
# and the TUI): their Popen objects are kept so their exit is collected, not left as a
# zombie that looks alive, and so Python does not warn about a child it lost track of.
children: dict[int, subprocess.Popen[bytes]] = {}


def _reap(pid: int) -> None:
    child = children.get(pid)
    if child is not None:
        if child.poll() is not None:
            del children[pid]
        return
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
