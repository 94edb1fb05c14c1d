"""``devkit up`` says what to fix by the runtime's diagnosis: the environment when init()
failed inside an installed package while importing it, score.py otherwise. The real CLI
in a child process, on the process engine, with a real clash (Flask 2.0.3 beside Werkzeug
3.0.6, see ``clashing_site``) reached through the deployment's ``PYTHONPATH``."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

DEPLOYMENT = """\
name: main
endpoint_name: {name}
code_configuration:
  code: code
  scoring_script: score.py
environment:
  image: mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference:latest
environment_variables:
  PYTHONPATH: {site}
instance_type: Standard_DS2_v2
instance_count: 1
"""


def up_and_down(tmp_path: Path, site: Path, init_body: str) -> subprocess.CompletedProcess[str]:
    name = f"envfault-{uuid.uuid4().hex[:6]}"
    folder = tmp_path / name
    (folder / "code").mkdir(parents=True)
    (folder / "endpoint.yml").write_text(f"name: {name}\nauth_mode: key\n")
    (folder / "main.yml").write_text(DEPLOYMENT.format(name=name, site=site))
    (folder / "code" / "score.py").write_text(f"def init():\n    {init_body}\n\n"
                                              "def run(data):\n    return data\n")
    env = {**os.environ, "DEVKIT_STATE_DIR": str(tmp_path / "state")}
    command = [sys.executable, "-m", "devkit.cli.main"]
    try:
        return subprocess.run([*command, "up", str(folder), "--engine", "process"], env=env,
                              capture_output=True, text=True, timeout=600)
    finally:
        subprocess.run([*command, "down", name], env=env, capture_output=True, timeout=120)


def test_init_failing_in_site_packages_says_fix_the_environment(
        tmp_path: Path, clashing_site: Path) -> None:
    result = up_and_down(tmp_path, clashing_site, "import flask")
    assert result.returncode == 3
    assert "failed in the environment, not in score.py" in result.stderr
    assert "Flask 2.0.3 does not work with the installed Werkzeug 3.0.6" in result.stderr
    assert "Fix the environment" in result.stderr and "Fix score.py" not in result.stderr


def test_init_failing_in_score_py_says_fix_score_py(tmp_path: Path,
                                                    clashing_site: Path) -> None:
    result = up_and_down(tmp_path, clashing_site, "raise RuntimeError('model missing')")
    assert result.returncode == 3
    assert "score.py:2" in result.stderr and "model missing" in result.stderr
    assert "Fix score.py" in result.stderr and "Fix the environment" not in result.stderr
