"""The Docker fault row that restarts the engine itself: dockerd stopped (SIGTERM) and
started again with two endpoints up under load; both must come back by themselves with
their routers and live weights.

Restarting dockerd stops every container on the engine, so this runs only when
``DEVKIT_FAULT_DOCKERD=1`` (CI's own engine; never on a shared one).
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from faulty_endpoint import HEAL_S, Faulty, copy_fixture, steady, warm
from support.faults import report, until

from devkit.engines import RunSettings
from devkit.engines.docker import DockerEngine
from devkit.router.keys import load_or_create_keys
from devkit.spec import load as load_spec

pytestmark = [pytest.mark.docker, pytest.mark.timeout(600)]


def _dockerd_pid() -> int:
    found = subprocess.run(["pidof", "dockerd"], capture_output=True, text=True)
    pids = found.stdout.split()
    assert len(pids) == 1, f"expected one dockerd, found {pids}"
    return int(pids[0])


def _restart_dockerd() -> None:
    """SIGTERM by pid, then start it the way this machine's CI did, and wait for it."""
    pid = _dockerd_pid()
    os.kill(pid, signal.SIGTERM)
    until(lambda: not Path(f"/proc/{pid}").exists(), 30, "dockerd stopped")
    # as this machine's CI started it; the shell returns at once and dockerd lives on
    log = os.environ.get("DOCKERD_LOG", "/var/log/devkit-ci-dockerd.log")
    subprocess.run(["sh", "-c", f"nohup dockerd >{shlex.quote(log)} 2>&1 &"],
                   check=True, start_new_session=True)
    until(lambda: subprocess.run(["docker", "info"], capture_output=True).returncode == 0,
          60, "dockerd answers again", interval=0.2)


def test_every_endpoint_comes_back_after_dockerd_restarts(
        faulty: Faulty, docker_client: Any, tmp_path: Path) -> None:
    if os.environ.get("DEVKIT_FAULT_DOCKERD") != "1":
        pytest.skip("restarts dockerd (stops every container on it): set "
                    "DEVKIT_FAULT_DOCKERD=1 on an engine of your own (CI's)")
    if os.geteuid() != 0:
        pytest.skip("restarting dockerd needs root")
    second = f"faulty-{uuid.uuid4().hex[:6]}"
    folder = copy_fixture(tmp_path / second, second)
    other = faulty.engine.up(load_spec([folder]), RunSettings(), lambda _: None)
    assert other.scoring_uri is not None
    from devkit import actions

    actions.set_traffic(faulty.name, {"blue": 100})  # a live weight: must survive
    try:
        with steady(faulty) as load:
            warm(load)
            started = time.monotonic()
            _restart_dockerd()
            engine_back = time.monotonic() - started
            for uri, name in ((faulty.uri, faulty.name), (other.scoring_uri, second)):
                key = {"Authorization": f"Bearer {load_or_create_keys(name).primary}"}
                until(lambda u=uri, k=key: httpx.post(u, json={"x": 1}, headers=k,
                                                      timeout=5).status_code == 200,
                      HEAL_S, f"endpoint {name} serves again")
            healed = time.monotonic() - started
            moment = time.monotonic()
            until(lambda: load.successes_since(moment) >= 20, 30, "traffic flows")
        engine = DockerEngine()  # a new client: the old one's connections died with dockerd
        for name in (faulty.name, second):
            [status] = engine.status(name)
            assert status.healthy, [d.to_json() for d in status.deployments]
        assert engine.traffic(faulty.name).traffic == {"blue": 100}
        report("docker", "dockerd restart, two endpoints up", load.failed,
               load.attempts, healed,
               f"both endpoints ready with their routers and live weights (engine answered "
               f"after {engine_back:.1f} s)")
    finally:
        DockerEngine().down(second)
