"""Starting and stopping an endpoint's autoscaler, a detached host process
(``python -m devkit.autoscale ENDPOINT --engine NAME``) in its own session, so it keeps
scaling after the CLI exits, as the replicas and the router keep serving.

``up`` stops it before it reconciles (so the two never write the router config or the
replicas at once) and starts a fresh one after, which also restarts one that died and
applies new scale settings; ``down`` stops it and removes its records. Its pid is
checked against the process's start time, as the process engine checks replicas.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from devkit.engines import scale_record as record
from devkit.engines.process.state import children, pid_alive, start_time
from devkit.paths import state_dir
from devkit.spec.model import Endpoint

STOP_TIMEOUT_S = 20.0  # a step in progress (a replica starting or draining) may finish


def wanted(endpoint: Endpoint) -> bool:
    return any(d.scale_settings.scaled for d in endpoint.deployments)


def alive(name: str) -> bool:
    return record.loop_alive(name)


def start(name: str, engine: str) -> int:
    """Start the endpoint's autoscaler (one that runs is stopped first); its pid."""
    stop(name)
    log = record.log_path(name)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "devkit.autoscale", name, "--engine",
                                 engine], stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
    children[proc.pid] = proc  # reaped if it exits while this process runs (tests, TUI)
    record.write_process(name, {"pid": proc.pid, "started": start_time(proc.pid),
                                "engine": engine})
    return proc.pid


def stop(name: str, timeout_s: float = STOP_TIMEOUT_S) -> bool:
    """SIGTERM the endpoint's autoscaler and wait for it (SIGKILL after ``timeout_s``);
    whether one was running."""
    found = record.read_process(name)
    if found is None:
        return False
    pid, started = int(found["pid"]), found.get("started")
    if not pid_alive(pid, started):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while pid_alive(pid, started):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    child = children.pop(pid, None)  # started by this process: collect its exit status
    if child is not None:
        child.wait(5)
    return True


def forget(name: str) -> None:
    """Stop it and remove its records and log (``down``)."""
    stop(name)
    record.forget(name)


def forget_all() -> None:
    """Stop every endpoint's autoscaler (``down --all``), before anything is removed."""
    root = state_dir() / "endpoints"
    for folder in sorted(root.glob(f"*/{record.FOLDER}")) if root.is_dir() else ():
        forget(folder.parent.name)
