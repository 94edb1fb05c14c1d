"""How soon ``up`` sees a replica ready: inside the container (``docker exec`` of a polling
one-liner, what ``up`` does now that replicas publish no port) against the host polling a
published port (what it did before), in the same run, on the same start.

One endpoint (tests/faults/fixtures/faulty) comes up with ``--expose``; then, ``--runs``
times, replica 0 is restarted and both waits start at once: the exec wait and the host's
HTTP poll (50 ms backing off to 200 ms). Each records when it saw the replica ready; the
difference (exec minus host) per run is the cost of not publishing the port.

    .venv/bin/python bench/probe_wait.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from devkit.engines import RunSettings
from devkit.engines.docker import DockerEngine
from devkit.engines.docker import probe as pb
from devkit.engines.docker.containers import view
from devkit.engines.readiness import READY_PATH, ReadinessWait
from devkit.spec import load
from devkit.spec.model import ProbeSettings

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "faults" / "fixtures" / "faulty"


def one_start(container: Any, wait: ReadinessWait) -> tuple[float, float]:
    """Restart the container; seconds until each wait saw it ready (exec, host)."""
    seen: dict[str, float] = {}
    container.restart(timeout=5)
    started = time.monotonic()
    container.reload()  # a restart publishes the port anew (another random host port)
    host_url = view(container).host_url(5001)
    assert host_url is not None

    def by_exec() -> None:
        pb.wait_ready(container, 5001, READY_PATH, False, wait, lambda: None)
        seen["exec"] = time.monotonic() - started

    def by_host() -> None:
        wait.wait(host_url, lambda: None)
        seen["host"] = time.monotonic() - started

    threads = [threading.Thread(target=by_exec), threading.Thread(target=by_host)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return seen["exec"], seen["host"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    name = f"probe-{uuid.uuid4().hex[:6]}"
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DEVKIT_STATE_DIR"] = str(Path(tmp) / "state")
        folder = Path(tmp) / name
        shutil.copytree(FIXTURE, folder)
        for spec in folder.glob("*.yml"):
            spec.write_text(spec.read_text().replace("faulty", name)
                            .replace("instance_count: 2", "instance_count: 1"))
        engine = DockerEngine()
        try:
            status = engine.up(load([folder]), RunSettings(expose=True), print)
            [replica] = status.deployments[0].replica_status
            container = engine.client.raw.containers.get(replica.ident)
            wait = ReadinessWait(ProbeSettings(initial_delay=0, period=1, timeout=1,
                                               failure_threshold=60))
            runs = [one_start(container, wait) for _ in range(args.runs)]
        finally:
            engine.down(name)
    diffs = [exec_s - host_s for exec_s, host_s in runs]
    load_avg = os.getloadavg()[0]
    print(f"ready seen after restart, {args.runs} runs (load average {load_avg:.1f}):")
    for exec_s, host_s in runs:
        print(f"  exec {exec_s:.3f} s   host {host_s:.3f} s   exec-host {exec_s - host_s:+.3f} s")
    print(f"median exec-host {statistics.median(diffs):+.3f} s; median ratio "
          f"{statistics.median(e / h for e, h in runs):.3f}")


if __name__ == "__main__":
    main()
