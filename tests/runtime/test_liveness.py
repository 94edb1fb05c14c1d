"""The deployment's liveness probe, enforced by the supervisor (issue 16): a worker whose
init() or run() never returns, or whose event loop is frozen by C code holding the GIL,
is killed after ``failure_threshold`` failed probes and restarted, saying why; a worker
killed from outside is restarted saying how it died; and the keeper restarts a killed
server whose workers die with it."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from runtime_server import SCRIPTS, RunningServer, devkit_server, find_free_port

LIVENESS = {"DEVKIT_LIVENESS_INITIAL_DELAY": "1", "DEVKIT_LIVENESS_PERIOD": "0.5",
            "DEVKIT_LIVENESS_TIMEOUT": "1", "DEVKIT_LIVENESS_FAILURE_THRESHOLD": "2",
            "SCORING_TIMEOUT_MS": "500"}


def eventually(check: Callable[[], Any], what: str, limit_s: float = 60) -> Any:
    """Poll ``check`` until it returns something truthy (bounded, not a timing claim)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            found = check()
        except (OSError, http.client.HTTPException, ValueError):
            found = None
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


def worker_pid(server: RunningServer) -> int | None:
    """The pid of the worker answering ready; None while none is (the supervisor's
    stand-in answers 503 while it restarts one)."""
    reply = server.request("GET", "/-/ready")
    return int(reply.json()["pid"]) if reply.status == 200 else None


def post_score(port: int, timeout_s: float = 20) -> int | None:
    """POST /score; its status, or None when the connection dropped (worker killed)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        conn.request("POST", "/score", body=b"{}", headers={"Content-Type": "application/json"})
        return conn.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


@pytest.mark.parametrize(("kind", "reason"), [
    ("sleep", "a run() call has not returned"),
    ("gil", "no answer within 1 s (its event loop is blocked"),
])
def test_a_run_that_never_returns_gets_its_worker_restarted(tmp_path: Path, kind: str,
                                                            reason: str) -> None:
    flag = tmp_path / "wedge"
    env = {**LIVENESS, "WEDGE_FLAG": str(flag)}
    with devkit_server(SCRIPTS / "score_wedge.py", tmp_path, env=env) as server:
        first = worker_pid(server)
        Path(f"{flag}.{kind}").touch()
        answer = post_score(server.port)
        # time.sleep: the timeout answers 500; holding the GIL: nothing answers until the
        # worker is killed, and the connection drops.
        assert answer == (500 if kind == "sleep" else None)
        second = eventually(lambda: worker_pid(server) not in (first, None)
                            and worker_pid(server), "a new worker")
        assert post_score(server.port) == 200
        log = server.log_text()
        assert "liveness probe failed 2 times in a row" in log and reason in log
        assert f"worker 0 (pid {first}) killed by SIGKILL (liveness probe failed" in log
        assert second != first


def test_a_hung_init_gets_its_worker_restarted(tmp_path: Path) -> None:
    flag = tmp_path / "wedge"
    Path(f"{flag}.init").touch()
    env = {**LIVENESS, "WEDGE_FLAG": str(flag)}
    with devkit_server(SCRIPTS / "score_wedge.py", tmp_path, env=env, wait=False) as server:
        eventually(lambda: server.request("GET", "/-/ready").status == 200, "ready")
        log = server.log_text()
        assert "liveness probe failed 2 times in a row: init() has not returned" in log


def test_without_a_probe_a_slow_run_is_left_alone(tmp_path: Path) -> None:
    flag = tmp_path / "wedge"
    env = {"SCORING_TIMEOUT_MS": "500", "WEDGE_FLAG": str(flag)}
    with devkit_server(SCRIPTS / "score_wedge.py", tmp_path, env=env) as server:
        first = worker_pid(server)
        Path(f"{flag}.sleep").touch()
        assert post_score(server.port) == 500
        live = server.request("GET", "/-/live")
        assert live.status == 503 and "has not returned" in live.json()["reason"]
        assert worker_pid(server) == first and "liveness probe" not in server.log_text()


def test_a_killed_worker_is_restarted_saying_how_it_died(tmp_path: Path) -> None:
    events = tmp_path / "workers.json"
    env = {"DEVKIT_WORKER_EVENTS": str(events)}
    with devkit_server(SCRIPTS / "score_echo.py", tmp_path, env=env) as server:
        first = worker_pid(server)
        os.kill(first, signal.SIGKILL)
        eventually(lambda: worker_pid(server) not in (first, None), "a new worker")
        assert "killed by SIGKILL (possibly out of memory); restarting it" in server.log_text()
        record = json.loads(events.read_text())
        assert record["worker_restarts"] == 1 and record["worker_oom_suspected"] is True


@contextmanager
def kept_server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path, int]]:
    port, status = find_free_port(), tmp_path / "keeper.json"
    log = (tmp_path / "keeper.log").open("wb")
    keeper = subprocess.Popen(
        [sys.executable, "-m", "devkit_runtime.keeper", "--status", str(status), "--name",
         "test", "--", sys.executable, "-m", "devkit_runtime", "--entry_script",
         str(SCRIPTS / "score_echo.py"), "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield keeper, status, port
    finally:
        if keeper.poll() is None:
            os.killpg(keeper.pid, signal.SIGKILL)
        keeper.wait()
        log.close()


def test_the_keeper_restarts_a_killed_server_whose_workers_die_with_it(tmp_path: Path
                                                                      ) -> None:
    with kept_server(tmp_path) as (keeper, status, port):
        server = RunningServer(keeper, port, tmp_path / "keeper.log")
        eventually(lambda: server.request("GET", "/-/ready").status == 200, "ready")
        supervisor = json.loads(status.read_text())["child_pid"]
        worker = worker_pid(server)
        os.kill(supervisor, signal.SIGKILL)
        eventually(lambda: not Path(f"/proc/{worker}").exists(), "the orphan worker gone")
        eventually(lambda: server.request("GET", "/-/ready").status == 200, "ready again")
        record = json.loads(status.read_text())
        assert record["restarts"] == 1 and record["child_pid"] != supervisor
        assert record["last_exit"] == "killed by SIGKILL (possibly out of memory)"
        assert record["oom_suspected"] is True
        assert "devkit-keeper: test (pid" in server.log_text()
        keeper.send_signal(signal.SIGTERM)
        assert keeper.wait(60) == 0
        assert json.loads(status.read_text())["state"] == "stopped"
        assert post_score(port, 2) is None  # nothing of it answers any more
