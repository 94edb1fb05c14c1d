"""Helpers for the reload tests (imported by name: pytest puts this folder on sys.path):
a code folder to edit, and ``python -m devkit_runtime`` started on it with watching on."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.direct import headers_for

SCRIPTS = Path(__file__).resolve().parent / "scripts"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def code_folder(tmp_path: Path) -> Path:
    """A fresh code folder holding score.py (score_versioned) and helper.py."""
    code = tmp_path / "code"
    code.mkdir()
    shutil.copy(SCRIPTS / "score_versioned.py", code / "score.py")
    shutil.copy(SCRIPTS / "helper.py", code / "helper.py")
    return code


def set_version(script: Path, version: int) -> None:
    """Rewrite ``VERSION = N`` the way an editor saves: a new file renamed over the old."""
    lines = [f"VERSION = {version}" if line.startswith("VERSION =") else line
             for line in script.read_text().splitlines()]
    save(script, "\n".join(lines) + "\n")


def save(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text)
    os.replace(temp, path)


def post(url: str, body: str = "x", timeout: float = 30) -> tuple[int, Any]:
    # A JSON content type, as any client of a JSON scoring script sends: without one urllib
    # says form-encoded, which the server (as Flask in Azure) parses as a form.
    request = urllib.request.Request(url, data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              **headers_for(url)})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def get_json(url: str, timeout: float = 10) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def eventually(check: Callable[[], Any], timeout_s: float = 20, what: str = "") -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or check}: last value {last!r}")


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def score(self, body: str = "x") -> tuple[int, Any]:
        return post(f"{self.url}/score", body)

    def version(self) -> Any:
        status, answer = self.score()
        return answer["version"] if status == 200 else None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def watched_server(code: Path, tmp_path: Path, env: Mapping[str, str] | None = None,
                   workers: int = 1) -> Iterator[Server]:
    """The runtime serving ``code/score.py`` with DEVKIT_WATCH=1, stopped afterwards."""
    port = free_port()
    full_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("DEVKIT_", "AZUREML_", "AML_"))}
    full_env.update({"DEVKIT_WATCH": "1", "PYTHONUNBUFFERED": "1", **(env or {})})
    log = tmp_path / f"server-{port}.log"
    argv = [sys.executable, "-m", "devkit_runtime", "--entry_script", str(code / "score.py"),
            "--port", str(port), "--workers", str(workers)]
    with log.open("wb") as out:
        process = subprocess.Popen(argv, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        eventually(lambda: _ready(server), 30, f"the server to get ready:\n{server.log}")
        eventually(lambda: "watching" in server.log_text(), 10, "the watcher to start")
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _ready(server: Server) -> bool:
    try:
        return get_json(f"{server.url}/-/ready")[0] == 200
    except OSError:
        return False
