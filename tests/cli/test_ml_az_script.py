"""An ``az ml`` deploy script runs unmodified with ``az`` resolving to devkit.

``az_deploy/deploy.sh`` is written as Azure ML's published examples are: model and
environment registered, ``online-endpoint create -n``, ``online-deployment create -f ...
-e ... --all-traffic --set ...``, invoke, a canary with ``--traffic``, ``--set`` without a
file, ``get-credentials --query primaryKey -o tsv`` and curl with the key to the
``scoring_uri``, then delete. It runs in bash with the shim from ``devkit ml shim`` first
on PATH, on the process engine and on the docker engine (``DEVKIT_ENGINE``), against a
copy of the regression sample under a unique endpoint name.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
SCRIPT = Path(__file__).resolve().parent / "az_deploy"


@pytest.fixture(params=[pytest.param("docker", marks=pytest.mark.docker), "process"])
def engine_name(request: pytest.FixtureRequest) -> str:
    if request.param == "docker":
        request.getfixturevalue("base_image")
    return str(request.param)


def _shim(env: dict[str, str], folder: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "devkit.cli.main", "ml", "shim",
                             "--install", str(folder)], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert os.access(folder / "az", os.X_OK)


def test_an_az_deploy_script_runs_unchanged(engine_name: str, tmp_path: Path,
                                            isolated_state: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(SAMPLES / "regression", project)
    for name in ("blue.yml", "green.yml"):  # the az-style files: no endpoint file at all
        (project / name).unlink()
    shutil.copytree(SCRIPT, project, dirs_exist_ok=True)
    (project / "endpoint.yml").unlink()
    env = {**os.environ, "DEVKIT_STATE_DIR": str(isolated_state), "DEVKIT_ENGINE": engine_name}
    _shim(env, tmp_path / "bin")
    env["PATH"] = f"{tmp_path / 'bin'}:{env['PATH']}"
    endpoint = f"az-{engine_name[:4]}-{uuid.uuid4().hex[:6]}"
    try:
        result = subprocess.run(["bash", "deploy.sh", endpoint], cwd=project, env=env,
                                capture_output=True, text=True, timeout=900)
    finally:  # the script deletes the endpoint; a failed run must not leave it running
        subprocess.run(["az", "ml", "online-endpoint", "delete", "-n", endpoint, "--yes"],
                       env=env, capture_output=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)
    # invoke prints the body as a JSON string, as az does; -o tsv prints it bare.
    blue = json.loads(json.loads(lines["invoke"]))
    green = json.loads(lines["green"])
    assert len(blue) == 2 and len(green) == 2 and blue != green
    assert json.loads(lines["curl"]) in (blue, green)
    assert json.loads(lines["traffic"]) == {"blue": 90, "green": 10}
    assert lines["green replicas"] == "2"
    assert result.stdout.rstrip().endswith("done")
    assert "az configure: nothing to do locally" in result.stderr
