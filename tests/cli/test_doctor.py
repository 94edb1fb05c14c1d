"""``devkit doctor`` as a user runs it: a real subprocess, real engine and sockets."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from typing import Any

import pytest

STATUSES = {"ok", "warn", "fail"}


def doctor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "devkit.cli.main", "doctor", *args],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})}, check=False)


def by_name(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, str]]:
    checks = json.loads(result.stdout)
    assert all(set(c) == {"check", "status", "detail", "fix"} for c in checks)
    assert all(c["status"] in STATUSES for c in checks)
    return {c["check"]: c for c in checks}


@pytest.mark.docker
def test_json_reports_engine_and_exits_zero(docker_client: Any) -> None:
    result = doctor("--json")
    assert result.returncode == 0, result.stderr
    checks = by_name(result)
    engine = checks["docker engine"]
    assert engine["status"] == "ok"
    assert docker_client.version()["ApiVersion"] in engine["detail"]
    assert {"python", "nvidia runtime", "base image", "wheelhouse", "debootstrap",
            "port 5001", "free ports"} <= set(checks)
    runtimes = docker_client.info().get("Runtimes") or {}
    assert (checks["nvidia runtime"]["status"] == "ok") == ("nvidia" in runtimes)


def test_no_engine_is_a_warning_naming_the_process_engine(tmp_path: Any) -> None:
    result = doctor("--json", env={"DOCKER_HOST": f"unix://{tmp_path}/absent.sock"})
    assert result.returncode == 0, result.stderr
    engine = by_name(result)["docker engine"]
    assert engine["status"] == "warn"
    assert "process engine will be used" in engine["detail"] and "dockerd" in engine["fix"]


def test_taken_port_is_a_warning(tmp_path: Any) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        code = ("import json; from devkit.cli.commands.doctor import check_ports; "
                f"print(json.dumps([c.status for c in check_ports({port})]))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, timeout=60).stdout
    assert json.loads(out) == ["warn", "ok"]


def test_wheelhouse_size_is_reported(tmp_path: Any) -> None:
    house = tmp_path / "cache" / "wheelhouse" / "cp311-manylinux_2_36_x86_64"
    house.mkdir(parents=True)
    (house / "demo-1.0-py3-none-any.whl").write_bytes(b"x" * 3_000_000)
    result = doctor("--json", env={"DEVKIT_CACHE_DIR": str(tmp_path / "cache")})
    assert by_name(result)["wheelhouse"]["detail"].endswith(": 1 wheels, 3 MB")


def test_text_output_has_one_line_per_check_with_fixes() -> None:
    result = doctor(env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert result.returncode == 0
    assert "[warn] docker engine: no engine answers" in result.stdout
    assert "fix: start Docker" in result.stdout
