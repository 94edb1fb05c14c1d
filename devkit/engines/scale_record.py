"""What the autoscaler of an endpoint (:mod:`devkit.autoscale`) writes and ``status``
reads, in the endpoint's
state folder: ``autoscale/process.json`` (the loop's pid, start time and engine, written
by whoever starts it) and ``autoscale/status.json`` (per deployment: current, min, max,
utilization, the last decision with its reason and time, the cap note), rewritten
atomically after every poll. The loop logs to ``logs/autoscale.log`` beside the
replicas' logs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from devkit.paths import endpoint_state_dir
from devkit.router.files import write_json

FOLDER = "autoscale"


def folder(endpoint: str) -> Path:
    return endpoint_state_dir(endpoint) / FOLDER


def log_path(endpoint: str) -> Path:
    return endpoint_state_dir(endpoint) / "logs" / "autoscale.log"


def write_process(endpoint: str, record: dict[str, Any]) -> None:
    write_json(folder(endpoint) / "process.json", record)


def read_process(endpoint: str) -> dict[str, Any] | None:
    return _read(folder(endpoint) / "process.json")


def write_status(endpoint: str, deployments: dict[str, dict[str, Any]]) -> None:
    write_json(folder(endpoint) / "status.json", {"endpoint": endpoint,
                                                  "deployments": deployments})


def read_status(endpoint: str) -> dict[str, dict[str, Any]]:
    """Per deployment, its ``scale`` object as ``status --json`` shows it ({} if none),
    with ``loop``: whether the autoscaler runs now ("running") or not ("stopped")."""
    raw = _read(folder(endpoint) / "status.json") or {}
    deployments = raw.get("deployments")
    if not isinstance(deployments, dict):
        return {}
    running = "running" if loop_alive(endpoint) else "stopped"
    return {name: {**scale, "loop": running} for name, scale in deployments.items()
            if isinstance(scale, dict)}


def loop_alive(endpoint: str) -> bool:
    from devkit.engines.process.state import pid_alive

    found = read_process(endpoint)
    return found is not None and pid_alive(int(found["pid"]), found.get("started"))


def forget(endpoint: str) -> None:
    """Remove the records and the log (``down``)."""
    shutil.rmtree(folder(endpoint), ignore_errors=True)
    log = log_path(endpoint)
    log.unlink(missing_ok=True)
    if log.parent.is_dir() and not any(log.parent.iterdir()):
        log.parent.rmdir()


def _read(path: Path) -> dict[str, Any] | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return raw if isinstance(raw, dict) else None
