"""Reload through the admin route, the reload client and SIGHUP: new code in every worker,
a broken module keeps the old one serving."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from runtime_server import SCRIPTS, RunningServer, devkit_server


def _copy_script(tmp_path: Path) -> Path:
    code = tmp_path / "code"
    code.mkdir()
    return Path(shutil.copy(SCRIPTS / "score_version.py", code / "score.py"))


def _set_version(script: Path, version: int) -> None:
    text = script.read_text()
    lines = [f"VERSION = {version}" if line.startswith("VERSION =") else line
             for line in text.splitlines()]
    script.write_text("\n".join(lines) + "\n")


def _reload(server: RunningServer) -> dict[str, object]:
    assert server.admin_port
    done = subprocess.run([sys.executable, "-m", "devkit_runtime.reload", "--port",
                           str(server.admin_port)], capture_output=True, text=True, timeout=60)
    answer: dict[str, object] = json.loads(done.stdout)
    assert done.returncode == (0 if answer["ok"] else 1)
    return answer


def _versions_seen(server: RunningServer, workers: int = 2) -> dict[int, set[int]]:
    """pid -> versions answered, over fresh connections until every worker answered.

    Eight at a time: both workers wait on the one listening socket and the kernel wakes
    both for each connection, so back-to-back requests from one client may all be won by
    the same (warmer) worker; concurrent ones arrive while it is busy and reach the other.
    """
    seen: dict[int, set[int]] = {}
    with ThreadPoolExecutor(8) as pool:
        for batch in range(60):
            for body in pool.map(lambda _i: server.request("POST", "/score", "x").json(),
                                 range(8)):
                seen.setdefault(body["pid"], set()).add(body["version"])
            if len(seen) == workers and batch >= 2:  # and at least 24 answers
                break
    return seen


def test_reload_ok_then_broken_keeps_the_old_module(tmp_path: Path) -> None:
    script = _copy_script(tmp_path)
    with devkit_server(script, tmp_path, admin=True) as server:
        assert server.request("POST", "/score", "x").json()["version"] == 1
        _set_version(script, 2)
        answer = _reload(server)
        assert answer["ok"] is True and answer["generation"] == 2
        assert isinstance(answer["ms"], float)
        assert server.request("POST", "/score", "x").json()["version"] == 2

        script.write_text(script.read_text() + "\ndef broken(:\n")
        failed = _reload(server)
        assert failed["ok"] is False
        assert failed["file"] == str(script)
        assert failed["line"] == len(script.read_text().splitlines())
        assert "SyntaxError" in str(failed["error"])
        assert server.request("POST", "/score", "x").json()["version"] == 2
        ready = server.request("GET", "/-/ready").json()
        assert ready["ready"] is True and ready["reload"]["ok"] is False


def test_every_worker_reloads(tmp_path: Path) -> None:
    script = _copy_script(tmp_path)
    with devkit_server(script, tmp_path, workers=2, admin=True) as server:
        before = _versions_seen(server)
        _set_version(script, 7)
        answer = _reload(server)
        assert answer == {"ok": True, "ms": answer["ms"], "generation": 2, "workers": 2}
        after = _versions_seen(server)
    assert len(before) == 2 and all(versions == {1} for versions in before.values())
    assert len(after) == 2 and all(versions == {7} for versions in after.values())


def test_sighup_reloads(tmp_path: Path) -> None:
    script = _copy_script(tmp_path)
    with devkit_server(script, tmp_path) as server:
        _set_version(script, 3)
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while server.request("POST", "/score", "x").json()["version"] != 3:
            assert time.monotonic() < deadline, server.log_text()
            time.sleep(0.05)
        assert server.request("GET", "/-/ready").json()["generation"] == 2


def test_reload_fixes_a_failed_init(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    script = Path(shutil.copy(SCRIPTS / "score_init_fails.py", code / "score.py"))
    with devkit_server(script, tmp_path, admin=True) as server:
        assert server.request("GET", "/-/ready").status == 503
        shutil.copy(SCRIPTS / "score_echo.py", script)
        assert _reload(server)["ok"] is True
        assert server.request("GET", "/-/ready").status == 200
        assert server.request("POST", "/score", "hi").json() == {"echo": "hi"}


def test_reload_client_without_a_server_says_so() -> None:
    done = subprocess.run([sys.executable, "-m", "devkit_runtime.reload", "--port", "9"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "no server answered" in json.loads(done.stdout)["error"]


def test_requests_in_flight_finish_on_the_old_version(tmp_path: Path) -> None:
    script = _copy_script(tmp_path)
    with devkit_server(script, tmp_path, admin=True) as server:
        slow: list[dict[str, int]] = []
        thread = threading.Thread(
            target=lambda: slow.append(server.request("POST", "/score", "slow").json()))
        thread.start()
        time.sleep(0.3)  # the slow request is inside run() now
        _set_version(script, 5)
        assert _reload(server)["ok"] is True
        thread.join(timeout=20)
        assert slow[0]["version"] == 1
        assert server.request("POST", "/score", "x").json()["version"] == 5


def test_a_crashed_worker_is_restarted(tmp_path: Path) -> None:
    with devkit_server(SCRIPTS / "score_version.py", tmp_path) as server:
        first = server.request("POST", "/score", "x").json()["pid"]
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while True:
            try:
                reply = server.request("POST", "/score", "x")  # 503 while it restarts
                if reply.status == 200 and reply.json()["pid"] != first:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, server.log_text()
            time.sleep(0.1)
        assert f"(pid {first}) killed by SIGKILL" in server.log_text()
