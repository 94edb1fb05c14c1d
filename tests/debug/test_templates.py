"""The VS Code templates ship inside the package (``devkit/debug/templates/``, their one
copy): a wheel installed without the checkout finds and fills both."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

FILL_BOTH = """
import json, devkit
from devkit.debug import files
from devkit.debug.target import DebugTarget
target = DebugTarget("e", "blue", "docker", 5678, "/here", "/var/azureml-app/here",
                     image="devkit-env:abc", container_root="/var/azureml-app/here")
print(json.dumps({"devkit": devkit.__file__,
                  "launch": files.fill(files.LAUNCH_TEMPLATE, target.template_values()),
                  "container": files.fill(files.DEVCONTAINER_TEMPLATE,
                                          target.template_values())}))
"""


def test_a_wheel_installed_without_the_checkout_fills_the_templates(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "devkit", source / "devkit",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         str(source), "-w", str(tmp_path / "wheels"))
    wheel = next((tmp_path / "wheels").glob("devkit-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
         str(wheel))
    shutil.rmtree(source)  # nothing of the checkout is left to fall back on
    # devkit's dependencies come from this venv's site-packages, appended after the
    # throwaway venv's own (a PYTHONPATH entry runs no .pth: the editable devkit stays out);
    # its dependency devkit-runtime is installed editable here, so its folder is named.
    deps = [sysconfig.get_paths()["purelib"], str(REPO / "runtime")]
    env = {"PYTHONPATH": os.pathsep.join(deps), "PATH": "/usr/bin:/bin"}
    shown = json.loads(_run(str(python), "-c", FILL_BOTH, env=env, cwd=tmp_path))
    assert Path(shown["devkit"]).is_relative_to(env_dir)
    assert shown["launch"]["pathMappings"] == [{"localRoot": "/here",
                                                "remoteRoot": "/var/azureml-app/here"}]
    assert shown["container"]["image"] == "devkit-env:abc"
    assert shown["container"]["workspaceFolder"] == "/var/azureml-app/here"


def _run(*argv: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    assert done.returncode == 0, f"{' '.join(argv[:4])}... exited {done.returncode}:\n" \
                                 f"{done.stdout}\n{done.stderr}"
    return done.stdout
