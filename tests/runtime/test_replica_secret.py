"""The replica secret (DEVKIT_REPLICA_SECRET_FILE): scoring and admin calls without it
are refused with a 401 saying why; with it they work; the probes stay open; a configured
file that cannot be read stops the server instead of serving unguarded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from runtime_server import SCRIPTS, devkit_server

HEADER = "x-devkit-replica-secret"


def test_calls_without_the_secret_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "replica.secret"
    secret.write_text("s3cret-value\n")
    env = {"DEVKIT_REPLICA_SECRET_FILE": str(secret)}
    with devkit_server(SCRIPTS / "score_echo.py", tmp_path, env=env, admin=True) as server:
        refused = server.post_json("/score", {"a": 1})
        assert refused.status == 401 and HEADER in refused.json()["message"]
        assert server.post_json("/score", {"a": 1}, **{HEADER: "wrong"}).status == 401
        assert server.post_json("/score", {"a": 1}, **{HEADER: "s3cret-value"}).status == 200
        assert server.request("GET", "/swagger.json").status == 401
        for probe in ("/", "/-/live", "/-/ready", "/metrics"):
            assert server.request("GET", probe).status == 200, probe
        import http.client

        admin = http.client.HTTPConnection("127.0.0.1", server.admin_port, timeout=30)
        admin.request("POST", "/-/reload")
        assert admin.getresponse().status == 401
        admin.close()
        admin = http.client.HTTPConnection("127.0.0.1", server.admin_port, timeout=30)
        admin.request("POST", "/-/reload", headers={HEADER: "s3cret-value"})
        assert admin.getresponse().status == 200
        admin.close()
        assert "s3cret-value" not in server.log_text()


def test_an_unreadable_secret_file_stops_the_server(tmp_path: Path) -> None:
    env = {**os.environ, "DEVKIT_REPLICA_SECRET_FILE": str(tmp_path / "missing")}
    done = subprocess.run([sys.executable, "-m", "devkit_runtime", "--entry_script",
                           str(SCRIPTS / "score_echo.py"), "--port", "0"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "DEVKIT_REPLICA_SECRET_FILE" in done.stderr and "cannot be read" in done.stderr


def test_the_reload_client_sends_the_servers_own_secret(tmp_path: Path) -> None:
    """``python -m devkit_runtime.reload`` (what the docker engine runs with docker exec)
    reads the secret from the same DEVKIT_REPLICA_SECRET_FILE the server was given."""
    import json

    secret = tmp_path / "replica.secret"
    secret.write_text("s3cret-value\n")
    env = {"DEVKIT_REPLICA_SECRET_FILE": str(secret)}
    with devkit_server(SCRIPTS / "score_echo.py", tmp_path, env=env, admin=True) as server:
        command = [sys.executable, "-m", "devkit_runtime.reload", "--port",
                   str(server.admin_port)]
        without = {k: v for k, v in os.environ.items() if k != "DEVKIT_REPLICA_SECRET_FILE"}
        refused = subprocess.run(command, env=without, capture_output=True, text=True,
                                 timeout=60)
        assert refused.returncode == 1 and HEADER in json.loads(refused.stdout)["error"]
        done = subprocess.run(command, env={**os.environ, **env}, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0 and json.loads(done.stdout)["ok"] is True
        assert "s3cret-value" not in done.stdout + done.stderr
