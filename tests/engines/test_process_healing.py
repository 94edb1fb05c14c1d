"""The process engine heals crashes after the CLI exited, and never lies about them
(issue 16): a replica's processes live and die together, its keeper restarts what dies
and records how it died for ``status``, the router is kept the same way, a record from
before a reboot is cleaned instead of reported running, and ``down`` after any of it
leaves no process behind (found by process tag, not only by pid)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from engine_helpers import unique
from support.healing import eventually, listening, proc_exists, read_json, write_endpoint

from devkit.engines import DeploymentState, RunSettings, get_engine, replica_secret
from devkit.engines.process import state as ps
from devkit.router.keys import load_or_create_keys
from devkit.spec import load

ENGINE = get_engine("process")


@dataclass(frozen=True)
class Healing:
    name: str
    folder: Path


@pytest.fixture(scope="module")
def endpoint(module_state: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Healing]:
    name = unique("heal")
    folder = write_endpoint(tmp_path_factory.mktemp("ep") / name, name)
    ENGINE.up(load([folder]), RunSettings(), lambda _: None)
    yield Healing(name, folder)
    if ENGINE.status(name):
        ENGINE.down(name)


def replica(name: str) -> ps.ReplicaRecord:
    state = ps.load(name)
    assert state is not None
    return state.deployments["blue"].replicas[0]


def score(name: str) -> int:
    state = ps.load(name)
    assert state is not None and state.router is not None
    key = load_or_create_keys(name).primary
    reply = httpx.post(f"{state.router.url}/score", json={"x": 1}, timeout=10,
                       headers={"Authorization": f"Bearer {key}"})
    return reply.status_code


def ready_pid(port: int) -> int | None:
    reply = httpx.get(f"http://127.0.0.1:{port}/-/ready", timeout=5)
    return int(reply.json()["pid"]) if reply.status_code == 200 else None


def test_a_fresh_replica_reports_no_crash(endpoint: Healing) -> None:
    [status] = ENGINE.status(endpoint.name)
    [blue] = status.deployments
    assert blue.state is DeploymentState.READY and blue.reason is None
    [row] = blue.to_json()["replica_states"]
    assert row["restarts"] == 0 and row["last_exit"] is None and row["oom_suspected"] is False


def test_a_direct_call_without_the_replica_secret_is_refused(endpoint: Healing) -> None:
    record = replica(endpoint.name)
    direct = f"http://127.0.0.1:{record.port}"
    refused = httpx.post(f"{direct}/score", json={"x": 1}, timeout=10)
    assert refused.status_code == 401 and "x-devkit-replica-secret" in refused.json()["message"]
    wrong = httpx.post(f"{direct}/score", json={"x": 1}, timeout=10,
                       headers={replica_secret.HEADER: "guess"})
    assert wrong.status_code == 401
    admin = httpx.post(f"http://127.0.0.1:{record.admin_port}/-/reload", timeout=10)
    assert admin.status_code == 401 and admin.json()["ok"] is False
    # With it (what the router and the CLI send), both work; the probes stay open.
    secret = replica_secret.headers(endpoint.name)
    assert httpx.post(f"{direct}/score", json={"x": 1}, timeout=10,
                      headers=secret).status_code == 200
    [status] = ENGINE.status(endpoint.name)
    [replica_status] = status.deployments[0].replica_status
    assert ENGINE.reload_replica(replica_status)["ok"] is True
    assert httpx.get(f"{direct}/-/ready", timeout=10).status_code == 200
    assert score(endpoint.name) == 200  # through the router, which adds it
    path = replica_secret.path(endpoint.name)
    assert path.stat().st_mode & 0o777 == 0o600
    value = secret[replica_secret.HEADER]
    shown = json.dumps(status.to_json()) + "\n".join(ENGINE.logs(endpoint.name, tail=None))
    assert value not in shown and value not in Path(record.log).read_text()


def test_a_killed_supervisor_heals_and_its_worker_dies_with_it(endpoint: Healing
                                                                ) -> None:
    record = replica(endpoint.name)
    supervisor = read_json(record.keeper_status)["child_pid"]
    worker = eventually(lambda: ready_pid(record.port), "a ready worker")
    os.kill(supervisor, signal.SIGKILL)
    eventually(lambda: not proc_exists(worker), "the worker gone with its supervisor")
    eventually(lambda: ready_pid(record.port), "a new worker ready")
    assert score(endpoint.name) == 200
    [status] = ENGINE.status(endpoint.name)
    [replica_status] = status.deployments[0].replica_status
    assert replica_status.restarts == 1 and replica_status.oom_suspected
    assert replica_status.last_exit == "killed by SIGKILL (possibly out of memory)"
    text = subprocess.run([sys.executable, "-m", "devkit.cli.main", "status", endpoint.name],
                          capture_output=True, text=True, timeout=120).stdout
    assert ("blue-0: restarted 1 time(s), last killed by SIGKILL (possibly out of memory)"
            in text)


def test_a_killed_router_is_restarted_by_its_keeper(endpoint: Healing) -> None:
    state = ps.load(endpoint.name)
    assert state is not None and state.router is not None
    router = read_json(state.router.keeper_status)["child_pid"]
    os.kill(router, signal.SIGKILL)
    eventually(lambda: score(endpoint.name) == 200, "the router answering again")
    assert read_json(state.router.keeper_status)["restarts"] == 1


def test_a_killed_router_keeper_takes_its_router_with_it(endpoint: Healing) -> None:
    state = ps.load(endpoint.name)
    assert state is not None and state.router is not None
    router = read_json(state.router.keeper_status)["child_pid"]
    os.kill(state.router.pid, signal.SIGKILL)
    eventually(lambda: not proc_exists(router), "the router gone with its keeper")
    assert ENGINE.status(endpoint.name)[0].scoring_uri is None
    assert not listening(state.router.port)
    ENGINE.up(load([endpoint.folder]), RunSettings(), lambda _: None)  # brings it back
    assert score(endpoint.name) == 200


def test_a_killed_keeper_takes_its_whole_replica_with_it(endpoint: Healing) -> None:
    record = replica(endpoint.name)
    members = ps.tagged(record.tag)
    assert len(members) == 3  # keeper, supervisor, worker
    os.kill(record.pid, signal.SIGKILL)
    eventually(lambda: not any(proc_exists(pid) for pid in members), "all of them gone")
    [status] = ENGINE.status(endpoint.name)
    [blue] = status.deployments
    assert blue.state is DeploymentState.STOPPED
    assert blue.reason is not None and "not running" in blue.reason
    sockets = subprocess.run(["ss", "-ltnp"], capture_output=True, text=True).stdout
    assert not listening(record.port), sockets


def test_up_again_then_a_record_from_before_a_reboot_is_cleaned(endpoint: Healing) -> None:
    ENGINE.up(load([endpoint.folder]), RunSettings(), lambda _: None)
    record = replica(endpoint.name)
    alive = ps.tagged(record.tag)
    path = ps.state_path(endpoint.name)
    data = json.loads(path.read_text())
    for rec in [*data["deployments"]["blue"]["replicas"], data["router"]]:
        rec["boot"] = "another-boot"
    path.write_text(json.dumps(data))
    [status] = ENGINE.status(endpoint.name)
    assert status.deployments[0].state is DeploymentState.STOPPED
    assert "before the machine restarted" in (status.deployments[0].reason or "")
    assert status.scoring_uri is None
    assert replica(endpoint.name).pid == 0  # cleaned: never signalled, never "running"
    # Those processes really still run here (it was no real reboot): `down` finds them by
    # their tag and leaves none, and nothing listens on their ports any more.
    assert all(proc_exists(pid) for pid in alive)
    ENGINE.down(endpoint.name)
    assert not any(proc_exists(pid) for pid in alive)
    assert ps.tagged(record.tag) == [] and not listening(record.port)
