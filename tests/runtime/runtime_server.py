"""Start inference servers as real subprocesses on loopback and talk HTTP to them.

Used by the runtime, differential and CLI tests: :class:`RunningServer` owns one server
process (devkit's or azmlinfsrv), knows its port and log file, and is stopped by PID.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).parent / "scripts"
REPO_ROOT = Path(__file__).resolve().parents[2]
AZML_BIN = REPO_ROOT / ".venv-azml" / "bin" / "azmlinfsrv"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-cased names; a repeated header keeps its last value
    body: bytes
    header_lines: tuple[tuple[str, str], ...] = ()  # every header as sent, repeats included

    def all(self, name: str) -> list[str]:
        """Every value of header ``name``, in the order sent."""
        return [value for key, value in self.header_lines if key.lower() == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)


class RunningServer:
    """One server process; ``request`` opens a fresh connection unless given one."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path,
                 admin_port: int | None = None) -> None:
        self.process = process
        self.port = port
        self.log = log
        self.admin_port = admin_port

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def request(self, method: str, path: str, body: bytes | str | None = None,
                headers: Mapping[str, str] | None = None,
                connection: http.client.HTTPConnection | None = None) -> Reply:
        conn = connection or self.connect()
        data = body.encode() if isinstance(body, str) else body
        try:
            conn.request(method, path, body=data, headers=dict(headers or {}))
            response = conn.getresponse()
            payload = response.read()
            lines = tuple(response.getheaders())
            names = {name.lower(): value for name, value in lines}
            return Reply(response.status, names, payload, lines)
        finally:
            if connection is None:
                conn.close()

    def post_json(self, path: str, value: Any, **headers: str) -> Reply:
        return self.request("POST", path, json.dumps(value),
                            {"Content-Type": "application/json", **headers})

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_live(self, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited ({self.process.returncode}):\n"
                                     f"{self.log_text()}")
            try:
                self.request("GET", "/-/live" if self.admin_port != -1 else "/")
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"server did not answer in {timeout_s} s:\n{self.log_text()}")

    def wait_ready(self, timeout_s: float = 30) -> Reply:
        """Wait until readiness settles (200 ready or 503 failed) and return it."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            reply = self.request("GET", "/-/ready")
            if reply.status == 200 or reply.json().get("status") == "failed":
                return reply
            time.sleep(0.05)
        raise AssertionError(f"server never became ready:\n{self.log_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def find_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawn(argv: Sequence[str], env: Mapping[str, str], log: Path,
           cwd: Path | None = None) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    try:
        return subprocess.Popen(list(argv), env=dict(env), stdout=handle,
                                stderr=subprocess.STDOUT, cwd=cwd)
    finally:
        handle.close()


@contextmanager
def devkit_server(script: Path, tmp_path: Path, *, workers: int = 1,
                  env: Mapping[str, str] | None = None, admin: bool = False,
                  model_dir: Path | None = None, wait: bool = True) -> Iterator[RunningServer]:
    """``python -m devkit_runtime`` on a free loopback port."""
    port = find_free_port()
    admin_port = find_free_port() if admin else None
    full_env = {**os.environ, **(env or {})}
    for name in ("SERVER_PORT", "WORKER_COUNT", "DEVKIT_ADMIN_PORT", "DEVKIT_DEBUG_PORT",
                 "AZUREML_DEBUG_PORT", "AZUREML_ENTRY_SCRIPT", "AML_APP_ROOT"):
        if name not in (env or {}):
            full_env.pop(name, None)
    argv = [sys.executable, "-m", "devkit_runtime", "--entry_script", str(script),
            "--port", str(port), "--workers", str(workers)]
    if admin_port:
        argv += ["--admin-port", str(admin_port)]
    if model_dir:
        argv += ["--model_dir", str(model_dir)]
    log = tmp_path / f"devkit-{port}.log"
    server = RunningServer(_spawn(argv, full_env, log), port, log, admin_port)
    try:
        if wait:
            server.wait_live()
            server.wait_ready()
        yield server
    finally:
        server.stop()


@contextmanager
def azml_server(script: Path, tmp_path: Path,
                env: Mapping[str, str] | None = None) -> Iterator[RunningServer]:
    """Microsoft's azmlinfsrv 1.5.1 (from ``.venv-azml``) on a free loopback port."""
    port = find_free_port()
    full_env = {**os.environ, "AML_APP_ROOT": str(script.parent), **(env or {})}
    full_env.pop("AZUREML_ENTRY_SCRIPT", None)
    argv = [str(AZML_BIN), "--entry_script", str(script), "--port", str(port)]
    log = tmp_path / f"azml-{port}.log"
    server = RunningServer(_spawn(argv, full_env, log, cwd=tmp_path), port, log, admin_port=-1)
    try:
        server.wait_live(60)
        yield server
    finally:
        server.stop()
