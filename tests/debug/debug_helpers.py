"""Helpers for the debug and reload tests (imported by name): a copy of the regression
sample under a unique endpoint name, and the devkit CLI run as a real subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def regression_copy(target: Path, green: bool = False) -> tuple[Path, str]:
    """samples/regression with only blue (or blue and green, which share its code folder),
    renamed to a unique endpoint; (folder, name)."""
    name = f"dbg-{uuid.uuid4().hex[:6]}"
    skipped = () if green else ("green.yml",)
    shutil.copytree(SAMPLES / "regression", target, symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__", *skipped))
    traffic = "traffic:\n  blue: 50\n  green: 50\n" if green else ""
    (target / "endpoint.yml").write_text(f"name: {name}\nauth_mode: key\n{traffic}")
    for deployment in ("blue", "green") if green else ("blue",):
        spec = target / f"{deployment}.yml"
        spec.write_text(spec.read_text().replace("endpoint_name: regression",
                                                 f"endpoint_name: {name}"))
    return target, name


def devkit(*args: str, check: bool = True, timeout: float = 600
           ) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "devkit.cli.main", *args],
                          capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"devkit {' '.join(args)} exited {done.returncode}:\n"
                             f"{done.stdout}\n{done.stderr}")
    return done


def deployment_url(endpoint: str, deployment: str) -> str:
    status = json.loads(devkit("status", endpoint, "--json").stdout)[0]
    found: dict[str, Any] = next(d for d in status["deployments"] if d["name"] == deployment)
    return str(found["urls"][0])


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)
