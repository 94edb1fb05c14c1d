"""The process engine's record of an endpoint: ``endpoint_state_dir(name)/process.json``.

It is the process engine's equivalent of Docker labels: which deployments run, with which
hashes, for each replica its pid, ports and log file, and the router's pid, port and log
file. A recorded pid is a keeper (``devkit_runtime.keeper``) that runs and restarts the
replica's supervisor or the router. Pids are checked against the process's start time and
the boot they were started in, so a pid reused after a reboot is never mistaken for a
replica: :func:`clean_stale` forgets such entries. Every process of a replica (keeper,
supervisor, workers) carries the replica's ``DEVKIT_PROCESS_TAG`` in its environment, which
is how :func:`stop_tagged` finds and kills all of them, even one that lost its parent.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypeVar

from devkit.paths import endpoint_state_dir, state_dir

STATE_FILE = "process.json"
TAG_ENV = "DEVKIT_PROCESS_TAG"


@dataclass(frozen=True)
class ReplicaRecord:
    index: int
    pid: int
    port: int
    admin_port: int
    log: str
    started: str | None = None  # /proc start time, when the OS has one
    boot: str | None = None  # the boot it was started in (/proc boot_id)
    tag: str = ""  # DEVKIT_PROCESS_TAG of all its processes
    keeper_status: str = ""  # the keeper's JSON (restarts, last exit)
    worker_events: str = ""  # the supervisor's JSON (worker restarts)

    def alive(self) -> bool:
        return pid_alive(self.pid, self.started, self.boot)


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
    boot: str | None = None
    tag: str = ""
    keeper_status: str = ""

    def alive(self) -> bool:
        return pid_alive(self.pid, self.started, self.boot)

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


def boot_id() -> str | None:
    """This boot's id: a pid recorded in another boot is never ours."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def pid_alive(pid: int, started: str | None, boot: str | None = None) -> bool:
    """Whether ``pid`` still is the process we started (not a zombie, not a reuse, not
    from another boot). A cleaned record has pid 0, which is never alive (and never
    signalled: 0 would mean our own process group)."""
    if pid <= 0 or (boot is not None and boot != boot_id()):
        return False
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


R = TypeVar("R", ReplicaRecord, RouterRecord)


def clean_stale(state: ProcessState) -> bool:
    """Forget pids recorded in another boot (after a reboot nothing of theirs runs, and
    their numbers belong to other processes now): pid 0, reported as not running, never
    signalled. True when something was cleaned (the caller saves)."""
    current = boot_id()
    changed = False
    for name, dep in state.deployments.items():
        replicas = []
        for replica in dep.replicas:
            if replica.pid > 0 and replica.boot is not None and replica.boot != current:
                replica, changed = _stale(replica), True
            replicas.append(replica)
        state.deployments[name] = DeploymentRecord(dep.name, dep.spec_hash, dep.env_hash,
                                                   dep.venv, dep.instance_count,
                                                   tuple(replicas))
    router = state.router
    if router is not None and router.pid > 0 and router.boot not in (None, current):
        state.router, changed = _stale(router), True
    return changed


def _stale(record: R) -> R:
    from dataclasses import replace

    return replace(record, pid=0, started=None)


def tagged(tag: str) -> list[int]:
    """Pids of the live processes (zombies excluded) whose environment holds
    ``DEVKIT_PROCESS_TAG=tag``: a replica's keeper, supervisor and workers."""
    if not tag:
        return []
    needle = f"{TAG_ENV}={tag}".encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if needle in (entry / "environ").read_bytes() and int(entry.name) != os.getpid():
                found.append(int(entry.name))
    return found


def stop_tagged(records: list[ReplicaRecord | RouterRecord], grace: float = 15.0) -> list[int]:
    """Stop every process of these records and wait until none is left; the pids still
    running after all that (none, normally).

    SIGTERM goes once to the top of each tree: the recorded keeper when it lives (it stops
    its server, which stops its workers, each signalled once: a second SIGTERM makes a
    worker's uvicorn skip its graceful shutdown, and with it the final flush of collected
    data), else every tagged process directly (orphans of a dead keeper). What is left
    after ``grace`` gets SIGKILL: the keeper's group and every tagged process, wherever
    it went."""

    def tree(record: ReplicaRecord | RouterRecord) -> list[int]:
        pids = tagged(record.tag) if record.tag else []
        return pids + ([record.pid] if not record.tag and record.alive() else [])

    def remaining() -> list[int]:
        pids = [pid for record in records for pid in tree(record)]
        for pid in pids:
            _reap(pid)
        return [pid for pid in pids if _exists(pid)]

    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        for record in records:
            keeper_alive = record.alive()
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if keeper_alive and sig == signal.SIGTERM:
                    os.kill(record.pid, sig)
                elif keeper_alive:
                    os.killpg(record.pid, sig)  # its group: anything it started untagged
            if sig == signal.SIGKILL or not keeper_alive:
                for pid in tree(record):
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while remaining() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not remaining():
            break
    for pid in list(children):  # collect our own children among them (no zombies left)
        _reap(pid)
    return remaining()


def _exists(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
