"""Fault cases on the process engine, each under a steady bounded loopback load through
the endpoint's router (issue 16): what failed, how long healing took, what ``status`` said.

One endpoint (``blue``, two replicas, a fast liveness probe: 1 s period, 2 failures) serves
every case in file order; each case waits until the fault healed by itself before the
next. ``pytest -m fault tests/faults/test_process_faults.py -s`` prints one ``REL|`` row
per case (RELIABILITY.md's table). Every client call has a timeout; a hung answer would
show as a transport error, and none is allowed.

Memory: the process engine does not enforce the SKU's memory (a per-process
``RLIMIT_AS`` counts address space, not memory: OpenBLAS and thread stacks reserve far
more than they use, so a real limit would kill healthy scripts, and it applies per
process, not to the replica). What an OOM kill looks like to it is a worker or a
supervisor dying of SIGKILL, which the two kill cases exercise; ``status`` reports such a
death as "killed by SIGKILL (possibly out of memory)".
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from support.healing import eventually, listening, proc_exists, read_json, write_endpoint
from support.load import Load

from devkit.engines import RunSettings, get_engine
from devkit.engines.process import state as ps
from devkit.router.keys import load_or_create_keys
from devkit.spec import load

ENGINE = get_engine("process")


@dataclass(frozen=True)
class Endpoint:
    name: str
    folder: Path
    url: str
    headers: dict[str, str]


@pytest.fixture(scope="module")
def endpoint(module_state: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Endpoint]:
    name = f"faults-{os.getpid()}"
    folder = write_endpoint(tmp_path_factory.mktemp("ep") / name, name, instances=2)
    status = ENGINE.up(load([folder]), RunSettings(), lambda _: None)
    assert status.scoring_uri is not None
    key = load_or_create_keys(name).primary
    yield Endpoint(name, folder, status.scoring_uri, {"Authorization": f"Bearer {key}"})
    if ENGINE.status(name):
        ENGINE.down(name)


def report(case: str, load_: Load, heal_s: float | None, said: str,
           since: float | None = None) -> None:
    """One row of RELIABILITY.md's table (the format tests/faults/conftest.py prints), plus
    how long requests kept failing after the fault (a refused connection is retried at
    once by the load, so that count says more about the load than the fault)."""
    times = sorted(t for t, _ in load_.failure_times if since is None or t >= since)
    row = {"engine": "process", "case": case, "failed": load_.failed, "total": load_.total,
           "heal_s": None if heal_s is None else round(heal_s, 2), "status": said,
           "failing_s": round(times[-1] - times[0], 2) if times else 0.0,
           "slowest_s": round(load_.slowest_s, 2)}
    print(f"\nREL|{json.dumps(row)}")
    target = os.environ.get("DEVKIT_FAULT_REPORT")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps(row) + "\n")


def replica0(ep: Endpoint) -> ps.ReplicaRecord:
    state = ps.load(ep.name)
    assert state is not None
    return state.deployments["blue"].replicas[0]


def ready_pid(port: int) -> int | None:
    reply = httpx.get(f"http://127.0.0.1:{port}/-/ready", timeout=5)
    return int(reply.json()["pid"]) if reply.status_code == 200 else None


def said(ep: Endpoint) -> str:
    """What `status` says of replica 0 (its healed crashes), or the deployment's reason."""
    [status] = ENGINE.status(ep.name)
    [blue] = status.deployments
    note = blue.replica_status[0].crash_note()
    return f"{blue.state.value}; blue-0: {note}" if note else f"{blue.state.value}"


def steady(ep: Endpoint) -> Load:
    return Load(ep.url, ep.headers, clients=2, limit_s=120, timeout_s=20, pause_s=0.02)


def warm(load_: Load) -> None:
    eventually(lambda: load_.successes_since(0) >= 20, "traffic flowing")


def healed(load_: Load, since: float, check: object) -> float:
    """Seconds from the fault until ``check`` holds and requests stopped failing (the
    later of the two), once requests flow again."""
    eventually(check, "the fault healed")  # type: ignore[arg-type]
    mark = time.monotonic()
    eventually(lambda: load_.successes_since(mark) >= 20, "traffic flowing again")
    return max(mark, load_.last_failure_after(since) or since) - since


def no_hang(load_: Load) -> None:
    assert not any("Timeout" in error for error in load_.transport_errors), \
        load_.transport_errors[:3]


def test_kill_9_a_replica_supervisor(endpoint: Endpoint) -> None:
    record = replica0(endpoint)
    supervisor = read_json(record.keeper_status)["child_pid"]
    worker = ready_pid(record.port)
    with steady(endpoint) as running:
        warm(running)
        start = time.monotonic()
        os.kill(supervisor, signal.SIGKILL)
        heal = healed(running, start, lambda: worker is not None and not proc_exists(worker)
                      and ready_pid(record.port) not in (None, worker))
    assert read_json(record.keeper_status)["restarts"] >= 1
    no_hang(running)
    report("kill -9 a replica's supervisor", running, heal, said(endpoint), start)


def test_kill_9_a_worker(endpoint: Endpoint) -> None:
    record = replica0(endpoint)
    worker = eventually(lambda: ready_pid(record.port), "a ready worker")
    with steady(endpoint) as running:
        warm(running)
        start = time.monotonic()
        os.kill(worker, signal.SIGKILL)
        heal = healed(running, start, lambda: ready_pid(record.port) not in (None, worker))
    assert read_json(record.worker_events)["worker_restarts"] >= 1
    no_hang(running)
    report("kill -9 a worker (what an OOM kill looks like)", running, heal, said(endpoint),
           start)


@pytest.mark.parametrize(("kind", "case"), [
    ("sleep", "run() hangs past liveness (time.sleep)"),
    ("gil", "run() hangs holding the GIL (event loop frozen)"),
])
def test_a_hung_run_is_restarted_by_liveness(endpoint: Endpoint, kind: str, case: str) -> None:
    state = ps.load(endpoint.name)
    assert state is not None
    replicas = state.deployments["blue"].replicas
    before = {r.index: int(read_json(r.worker_events).get("liveness_restarts") or 0)
              for r in replicas}
    with steady(endpoint) as running:
        warm(running)
        start = time.monotonic()
        Path(f"{endpoint.folder / 'wedge'}.{kind}").touch()

        def restarted() -> bool:
            return any(int(read_json(r.worker_events).get("liveness_restarts") or 0)
                       > before[r.index] for r in replicas)

        heal = healed(running, start, restarted)
    no_hang(running)
    [status] = ENGINE.status(endpoint.name)
    [hit] = [r for r in status.deployments[0].replica_status
             if r.liveness_restarts > before[r.index]]
    report(case, running, heal, f"{status.deployments[0].state.value}; blue-{hit.index}: "
           f"worker {hit.last_worker_exit}", start)


def test_kill_the_router(endpoint: Endpoint) -> None:
    state = ps.load(endpoint.name)
    assert state is not None and state.router is not None
    router = read_json(state.router.keeper_status)["child_pid"]
    with steady(endpoint) as running:
        warm(running)
        start = time.monotonic()
        os.kill(router, signal.SIGKILL)
        heal = healed(running, start, lambda: read_json(state.router.keeper_status)
                      .get("child_pid") not in (None, router))
    no_hang(running)
    restarts = read_json(state.router.keeper_status)["restarts"]
    report("kill -9 the router", running, heal,
           f"router restarted by its keeper ({restarts} restart(s), same port)", start)


def test_down_after_a_crash_leaves_no_process(endpoint: Endpoint) -> None:
    state = ps.load(endpoint.name)
    assert state is not None and state.router is not None
    records = [*state.deployments["blue"].replicas, state.router]
    pids = [pid for r in records for pid in ps.tagged(r.tag)]
    ports = [r.port for r in state.deployments["blue"].replicas] + [state.router.port]
    ports += [r.admin_port for r in state.deployments["blue"].replicas]
    with steady(endpoint) as running:
        warm(running)
        os.kill(read_json(records[0].keeper_status)["child_pid"], signal.SIGKILL)
        os.kill(records[1].pid, signal.SIGKILL)  # a keeper too: its group goes with it
        ENGINE.down(endpoint.name)
    assert not any(proc_exists(pid) for pid in pids)
    assert all(ps.tagged(r.tag) == [] for r in records)
    assert not any(listening(port) for port in ports)
    no_hang(running)
    report("down right after kill -9 of a supervisor and a keeper", running, None,
           "gone: no process with the endpoint's tags, nothing on its ports")
