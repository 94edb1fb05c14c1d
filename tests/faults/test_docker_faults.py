"""The Docker engine's fault rows: each case injects one fault into a real endpoint under a
steady bounded load through its router and records the failed requests, the time to heal
and what ``status`` said (RELIABILITY.md's table, ``support.faults.report``).

The endpoint (fixtures/faulty): deployment blue, two replicas of a script that can be
made to allocate past its 300 MiB limit, fast probes (period 1 s). Cases that
do not heal by themselves (Docker's ``docker stop``/``docker kill`` semantics) assert that
``status`` says so, then bring the endpoint back with ``up`` for the next case.

The case that restarts dockerd itself is in test_dockerd_restart.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from faulty_endpoint import HEAL_S, Faulty, front_end_codes, restarts, steady, warm
from support.faults import ready_count, report, router_health, until

from devkit.engines import RunSettings
from devkit.engines.lock import endpoint_lock
from devkit.router.keys import load_or_create_keys
from devkit.spec import load as load_spec

pytestmark = [pytest.mark.docker, pytest.mark.timeout(600)]


def test_docker_stop_of_a_replica_is_ejected_and_status_says_so(faulty: Faulty) -> None:
    with steady(faulty) as load:
        warm(load)
        victim = faulty.replicas()[0]
        victim.stop(timeout=5)
        ejected = until(lambda: ready_count(faulty.uri, "blue") == 1, 10, "ejected")
        moment = time.monotonic()
        until(lambda: load.successes_since(moment) >= 50, 30, "traffic on the other")
    victim.reload()
    assert victim.status == "exited"  # Docker semantics: stopped from outside stays so
    blue = faulty.blue()
    said = blue.to_json()["reason"]
    assert said and "stopped from outside (docker stop)" in said and "devkit up" in said
    front_end_codes(load)
    assert load.failed <= load.total * 0.05
    report("docker", "`docker stop` a replica (1 of 2)", load.failed, load.attempts, None,
           f"{said} (out of rotation {ejected:.2f} s after the stop returned)")
    faulty.up()


def test_docker_kill_of_a_replica_is_ejected_and_status_says_so(faulty: Faulty) -> None:
    with steady(faulty) as load:
        warm(load)
        victim = faulty.replicas()[1]
        victim.kill()
        until(lambda: ready_count(faulty.uri, "blue") == 1, 10, "ejected")
        moment = time.monotonic()
        until(lambda: load.successes_since(moment) >= 50, 30, "traffic on the other")
    victim.reload()
    assert victim.status == "exited"
    said = faulty.blue().to_json()["reason"]
    assert said and "stopped from outside" in said and "exit code 137" in said
    front_end_codes(load)
    assert load.failed <= load.total * 0.05
    report("docker", "`docker kill` a replica (1 of 2)", load.failed, load.attempts, None, said)
    faulty.up()


def test_a_crashed_replica_is_restarted_by_docker_and_back_in_rotation(
        faulty: Faulty) -> None:
    with steady(faulty) as load:
        warm(load)
        victim = faulty.replicas()[0]
        before = int(victim.attrs.get("RestartCount") or 0)
        started = time.monotonic()
        os.kill(int(victim.attrs["State"]["Pid"]), signal.SIGKILL)  # a crash, not a stop
        until(lambda: restarts(victim) > before, 30, "Docker restarted it")
        until(lambda: ready_count(faulty.uri, "blue") == 2, HEAL_S, "back in rotation")
        healed = time.monotonic() - started
    blue = faulty.blue().to_json()
    assert blue["restarts"] >= 1 and blue["state"] == "ready"
    [crashed] = [r for r in blue["replica_states"] if r["restarts"] > before]
    assert crashed["last_exit_code"] == 137
    front_end_codes(load)
    report("docker", "replica crash (kill -9 of its main process)", load.failed, load.attempts,
           healed, f"ready; restarts {blue['restarts']}, last_exit_code 137")


def test_an_oom_killed_worker_is_restarted_and_status_says_oom(faulty: Faulty) -> None:
    with steady(faulty) as load:
        warm(load)
        started = time.monotonic()
        answer = httpx.post(faulty.uri, json={"x": "oom"}, headers=faulty.headers(),
                            timeout=30)
        assert answer.status_code in (502, 500, 424, 408)  # its worker died for memory
        until(lambda: faulty.blue().to_json()["oom_killed"], 30, "status saw the OOM kill")
        until(lambda: ready_count(faulty.uri, "blue") == 2
              and faulty.blue().state.value == "ready", HEAL_S, "healed")
        healed = time.monotonic() - started
        moment = time.monotonic()
        until(lambda: load.successes_since(moment) >= 20, 30, "traffic flows")
    blue = faulty.blue().to_json()
    assert blue["oom_killed"]
    front_end_codes(load, model_errors=True)
    report("docker", "OOM: run() allocates past the 300 MiB limit", load.failed + 1,
           load.attempts + 1, healed, f"oom_killed true, state {blue['state']} (the kernel "
           "killed the worker; the runtime's supervisor restarted it in the container)")


def test_a_run_hanging_past_liveness_is_answered_and_its_worker_restarted(
        faulty: Faulty) -> None:
    with steady(faulty) as load:
        warm(load)
        started = time.monotonic()
        answer = httpx.post(faulty.uri, json={"x": "hang"}, headers=faulty.headers(),
                            timeout=30)
        assert answer.status_code == 408  # request_timeout_ms (3 s): the client never hangs
        until(lambda: any(r["liveness_restarts"] for r in
                          faulty.blue().to_json()["replica_states"]), HEAL_S,
              "the supervisor restarted the hung worker (liveness_probe)")
        healed = time.monotonic() - started
        moment = time.monotonic()
        until(lambda: load.successes_since(moment) >= 20, 30, "traffic flows")
    blue = faulty.blue().to_json()
    [hung] = [r for r in blue["replica_states"] if r["liveness_restarts"]]
    front_end_codes(load, model_errors=True)
    report("docker", "run() hangs past liveness (failure_threshold 3, period 1 s)",
           load.failed + 1, load.attempts + 1, healed,
           f"ready; liveness_restarts {hung['liveness_restarts']}, worker_restarts "
           f"{hung['worker_restarts']}, last worker exit {hung['last_worker_exit']}")


def _router(f: Faulty) -> Any:
    [router] = f.client.containers.list(all=True, filters={"label": [
        f"devkit.endpoint={f.name}", "devkit.role=router"]})
    return router


def _serves(f: Faulty) -> bool:
    return httpx.post(f.uri, json={"x": 1}, headers=f.headers(), timeout=5).status_code == 200


def test_a_crashed_router_is_restarted_by_docker_on_the_same_uri(faulty: Faulty) -> None:
    router = _router(faulty)
    with steady(faulty) as load:
        warm(load)
        started = time.monotonic()
        os.kill(int(router.attrs["State"]["Pid"]), signal.SIGKILL)  # a crash of the router
        until(lambda: _serves(faulty), HEAL_S, "router back")
        healed = time.monotonic() - started
        moment = time.monotonic()
        until(lambda: load.successes_since(moment) >= 20, 30, "traffic flows")
    assert {s for s, _, _ in load.failures()} <= {502, 503}
    assert faulty.engine.status(faulty.name)[0].scoring_uri == faulty.uri  # fixed port
    failed = load.failed  # transport errors: connections refused while it restarts
    report("docker", "router crash (kill -9 of its process)", failed,
           load.attempts, healed,
           "scoring URI unchanged; router restarted by Docker (unless-stopped)")


def _refused(f: Faulty) -> bool:
    try:
        return not _serves(f)
    except httpx.HTTPError:
        return True


def test_docker_kill_of_the_router_is_said_by_status(faulty: Faulty) -> None:
    try:
        with steady(faulty) as load:
            warm(load)
            _router(faulty).kill()
            until(lambda: _refused(faulty), 10, "router gone")
        [status] = faulty.engine.status(faulty.name)
        assert status.scoring_uri is None
        said = status.to_json()["router_reason"]
        assert said and "stopped from outside" in said and "devkit up" in said
        report("docker", "`docker kill` the router", load.failed, load.attempts, None, said)
    finally:
        faulty.up()
    assert _serves(faulty)


def test_regenerating_a_key_mid_load_fails_no_request_with_the_other(faulty: Faulty,
                                                                   docker_client: Any) -> None:
    from devkit import actions

    old = load_or_create_keys(faulty.name)
    with steady(faulty, "secondary") as load:
        warm(load)
        started = time.monotonic()
        fresh = actions.keys(faulty.name, regenerate="primary")  # returns once live
        live_s = time.monotonic() - started
        moment = time.monotonic()
        until(lambda: load.successes_since(moment) >= 50, 30, "traffic flows")
    assert load.failed == 0, load.failures()
    assert fresh.secondary == old.secondary and fresh.primary != old.primary
    refused = httpx.post(faulty.uri, json={"x": 1}, timeout=10,
                         headers={"Authorization": f"Bearer {old.primary}"})
    assert refused.status_code == 401
    assert httpx.post(faulty.uri, json={"x": 1}, timeout=10,
                      headers=faulty.headers()).status_code == 200
    # nothing secret in labels, logs or status --json
    secrets = [old.primary, fresh.primary, fresh.secondary]
    visible = [json.dumps([c.labels for c in docker_client.containers.list(all=True, filters={
        "label": [f"devkit.endpoint={faulty.name}"]})])]
    visible += [line for line in faulty.engine.logs(faulty.name, tail=None)]
    visible.append(_devkit("status", faulty.name, "--json").stdout)
    assert not any(secret in text for secret in secrets for text in visible)
    report("docker", "`devkit keys --regenerate primary` under load on the secondary",
           load.failed, load.attempts, live_s,
           "new primary live; old primary refused 401; secondary never failed")


def test_two_ups_at_once_serialise_and_converge(faulty: Faulty, tmp_path: Path) -> None:
    up = [sys.executable, "-m", "devkit.cli.main", "up", str(faulty.folder)]
    with steady(faulty) as load:
        warm(load)
        # First, deterministically: while the lock is held (as by a first `up`), a second
        # `up` says whom it waits for, and goes on once the lock is free.
        said = tmp_path / "second.err"
        with endpoint_lock(faulty.name, "up"), said.open("w") as err:
            second = subprocess.Popen(up, stdout=subprocess.DEVNULL, stderr=err, text=True)
            until(lambda: "waiting for another `devkit up`" in said.read_text(), 60,
                  "the second `up` says it waits")
            assert second.poll() is None  # still waiting while the lock is held
        assert second.wait(timeout=300) == 0, said.read_text()
        assert f"of {faulty.name} (pid {os.getpid()})" in said.read_text()
        # Then two at once, as from two shells: whichever waits, both converge.
        ups = [subprocess.Popen(up, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for _ in range(2)]
        done = [process.communicate(timeout=300) for process in ups]
    assert [process.returncode for process in ups] == [0, 0], done
    assert faulty.blue().state.value == "ready" and len(faulty.replicas()) == 2
    front_end_codes(load)
    report("docker", "two `devkit up` at once", load.failed, load.attempts, 0.0,
           "the second said \"waiting for another `devkit up` of ... (pid N)\", then "
           "\"unchanged\"; ready")


def test_kill_9_of_an_up_midway_then_up_converges(faulty: Faulty) -> None:
    green = faulty.folder / "green.yml"
    green.write_text((faulty.folder / "blue.yml").read_text().replace("name: blue", "name: green")
                     .replace("instance_count: 2", "instance_count: 1"))
    try:
        with steady(faulty) as load:
            warm(load)
            up = subprocess.Popen([sys.executable, "-m", "devkit.cli.main", "up",
                                   str(faulty.folder)], stderr=subprocess.PIPE, text=True)
            assert up.stderr is not None
            for line in up.stderr:  # killed right after green's container was made
                if "green: starting" in line:
                    break
            up.send_signal(signal.SIGKILL)
            up.wait()
            up.stderr.close()
            started = time.monotonic()
            status = faulty.engine.up(load_spec([faulty.folder]), RunSettings(),
                                      lambda _: None)
            healed = time.monotonic() - started
        states = {d.name: (d.state.value, d.replicas) for d in status.deployments}
        assert states == {"blue": ("ready", 2), "green": ("ready", 1)}
        assert len(faulty.replicas()) == 3
        assert {r["url"] for r in router_health(faulty.uri)["green"]}  # routed too
        front_end_codes(load)
        report("docker", "kill -9 of `devkit up` midway, then `up` again", load.failed,
               load.attempts, healed, "converged: blue ready 2, green ready 1")
    finally:
        green.unlink()
        faulty.engine.up(load_spec([faulty.folder]), RunSettings(), lambda _: None)


def _devkit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "devkit.cli.main", *args],
                          capture_output=True, text=True, timeout=120)
