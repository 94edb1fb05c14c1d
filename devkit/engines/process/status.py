"""How the process engine reads a deployment's status back: each replica's keeper (alive,
restarts, how its last run ended), its supervisor's record of worker restarts, its
readiness, and for one that is not ready why, with its last log lines."""

from __future__ import annotations

import dataclasses
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from devkit.engines.process import state as ps
from devkit.engines.readiness import probe_once
from devkit.engines.routing import LiveView
from devkit.engines.status import (
    DeploymentState,
    DeploymentStatus,
    ReplicaStatus,
    deployment_status,
)


def base_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def replica_status(replica: ps.ReplicaRecord) -> ReplicaStatus:
    url = base_url(replica.port)
    healed = _healed(replica)
    if not replica.alive():
        why = ("it was started before the machine restarted; run `devkit up` again"
               if replica.pid == 0 else f"process {replica.pid} is not running; run "
               "`devkit up` again")
        return ReplicaStatus(replica.index, url, DeploymentState.STOPPED, str(replica.pid),
                             None, why, reason=f"replica {replica.index}: {why}",
                             last_lines=_tail(replica), **healed)
    probe = probe_once(url)
    found = ReplicaStatus(replica.index, url, probe.state, str(replica.pid),
                          base_url(replica.admin_port), probe.error, probe.cause, **healed)
    if probe.state is DeploymentState.READY:
        return found
    return dataclasses.replace(found, reason=_not_ready(found), last_lines=_tail(replica))


def _not_ready(replica: ReplicaStatus) -> str:
    """Why a running replica is not ready: its init() error, else what it survived."""
    if replica.error:
        return f"replica {replica.index}: {replica.error.splitlines()[0]}"
    note = replica.crash_note()
    return (f"replica {replica.index} is {replica.state.value}"
            + (f" ({note})" if note else ""))


def _tail(replica: ps.ReplicaRecord) -> str | None:
    return "\n".join(last_lines(Path(replica.log), 10)) or None


def _healed(replica: ps.ReplicaRecord) -> dict[str, Any]:
    """The keeper's and the supervisor's records of crashes: ReplicaStatus's fields."""
    keeper, workers = read_json(replica.keeper_status), read_json(replica.worker_events)
    return {"restarts": int(keeper.get("restarts") or 0),
            "last_exit": keeper.get("last_exit"),
            "last_exit_code": keeper.get("last_exit_code"),
            # the process engine cannot confirm an OOM kill (no cgroup of its own)
            "oom_suspected": keeper.get("oom_suspected") is True,
            "worker_restarts": int(workers.get("worker_restarts") or 0),
            "liveness_restarts": int(workers.get("liveness_restarts") or 0),
            "last_worker_exit": workers.get("last_worker_exit")}


def read_json(path: str) -> dict[str, Any]:
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def of_deployment(dep: ps.DeploymentRecord, live: LiveView) -> DeploymentStatus:
    with ThreadPoolExecutor(max_workers=8) as pool:
        states = list(pool.map(replica_status, dep.replicas))
    found = deployment_status(dep.name, states, dep.venv, dep.env_hash, live.traffic,
                              live.mirror)
    return dataclasses.replace(found, egress="enabled")  # a host process: always


def last_lines(path: Path, count: int) -> list[str]:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(handle.tell() - 64 * 1024, 0))
            data = handle.read()
    except OSError:
        return []
    return data.decode("utf-8", errors="replace").splitlines()[-count:] if count > 0 else []
