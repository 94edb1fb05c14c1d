"""A hung run() gets the timeout answer while the server keeps serving; a failing init()
leaves the server up but not ready, with the traceback."""

from __future__ import annotations

import threading
from pathlib import Path

from runtime_server import SCRIPTS, Reply, devkit_server


def test_hung_run_times_out_and_the_next_request_is_served(tmp_path: Path) -> None:
    env = {"SCORING_TIMEOUT_MS": "700"}
    with devkit_server(SCRIPTS / "score_hang.py", tmp_path, env=env) as server:
        hung: list[Reply] = []
        thread = threading.Thread(
            target=lambda: hung.append(server.request("POST", "/score", "hang")))
        thread.start()
        # queued behind the hung call on the single run() thread: served by its replacement
        other = server.request("POST", "/score", "quick")
        thread.join(timeout=20)
        assert other.status == 200
        assert other.json() == {"ok": "quick"}
        assert hung[0].status == 500
        assert hung[0].json() == {"message": "Scoring timeout after 700 ms"}
        assert hung[0].headers["x-ms-run-function-failed"] == "True"
        assert server.request("POST", "/score", "again").status == 200
        metrics = server.request("GET", "/metrics").body.decode()
        # the sample line itself (not the HELP line, not another metric's value)
        [timeouts] = [line for line in metrics.splitlines()
                      if line.startswith("devkit_run_timeouts_total{")]
        assert float(timeouts.rsplit(" ", 1)[1]) == 1


def test_failing_init_keeps_the_server_up_but_not_ready(tmp_path: Path) -> None:
    with devkit_server(SCRIPTS / "score_init_fails.py", tmp_path) as server:
        assert server.request("GET", "/-/live").status == 200
        ready = server.request("GET", "/-/ready")
        assert ready.status == 503
        body = ready.json()
        assert body["ready"] is False and body["status"] == "failed"
        assert "model file missing" in body["error"]
        assert "score_init_fails.py" in body["error"]
        assert "Traceback" in body["traceback"]
        for path in ("/", "/score"):
            reply = server.request("GET", path)
            assert reply.status == 503
            assert "model file missing" in reply.json()["message"]
        assert "RuntimeError: model file missing" in server.log_text()
