"""An endpoint written for crash and hang tests (process engine; tests/engines and
tests/faults): one deployment ``blue`` serving ``tests/runtime/scripts/score_wedge.py``
(hangs once on a flag file, see its docstring) with a fast liveness probe, on the
regression sample's environment (its venv is cached)."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
CONDA = ROOT / "samples" / "regression" / "environment" / "conda.yml"
SCORE = ROOT / "tests" / "runtime" / "scripts" / "score_wedge.py"  # the liveness tests' too


def write_endpoint(folder: Path, name: str, instances: int = 1) -> Path:
    folder.mkdir(parents=True)
    (folder / "score.py").write_text(SCORE.read_text())
    (folder / "endpoint.yml").write_text(f"name: {name}\nauth_mode: key\n"
                                         "traffic:\n  blue: 100\n")
    (folder / "blue.yml").write_text(f"""name: blue
endpoint_name: {name}
code_configuration:
  code: .
  scoring_script: score.py
environment:
  image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest
  conda_file: {CONDA}
environment_variables:
  WEDGE_FLAG: {folder / "wedge"}
instance_type: Standard_DS3_v2
instance_count: {instances}
request_settings:
  request_timeout_ms: 1000
liveness_probe:
  initial_delay: 1
  period: 1
  timeout: 1
  failure_threshold: 2
""")
    return folder


def eventually(check: Callable[[], Any], what: str, limit_s: float = 90) -> Any:
    """Poll ``check`` until it returns something truthy (bounded; not a timing claim)."""
    deadline = time.monotonic() + limit_s
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (OSError, http.client.HTTPException, httpx.HTTPError, ValueError, KeyError) as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.2)
    raise AssertionError(f"never happened within {limit_s} s: {what} (last: {last!r})")


def read_json(path: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(path).read_text())
    return data


def proc_exists(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def listening(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0
