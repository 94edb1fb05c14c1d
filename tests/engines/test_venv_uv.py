"""The process engine's venv made by uv (the default) and by pip (``DEVKIT_INSTALLER=pip``):
both serve the same environment; uv's links the runtime's source and hardlinks its
packages from uv's cache instead of unpacking them into every venv. Real
venvs, real uv and pip; the wheelhouse is the real cache's (shared, as in use), the venvs
and uv's cache are the test's own."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.engines.process.venv import MARKER, ensure_venv
from devkit.paths import cache_dir
from devkit.spec.model import CodeSpec, DeploymentSpec, EnvironmentSpec, Source

SHARED = ("wheelhouse", "runtime", "uv")


@pytest.fixture
def own_venvs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A cache of the test's own whose wheelhouse, runtime wheel and uv binary are the real
    cache's: resolving downloads nothing once the sets are known."""
    real = cache_dir()
    cache = tmp_path / "cache"
    cache.mkdir()
    for name in SHARED:
        (real / name).mkdir(parents=True, exist_ok=True)
        (cache / name).symlink_to(real / name)
    monkeypatch.setenv("DEVKIT_CACHE_DIR", str(cache))
    yield cache


def deployment(folder: Path, name: str, packages: list[str]) -> DeploymentSpec:
    (folder / "code").mkdir(parents=True, exist_ok=True)
    (folder / "code" / "score.py").write_text("def init():\n    pass\n\n"
                                              "def run(data):\n    return data\n")
    pips = "".join(f"    - {p}\n" for p in packages)
    (folder / "conda.yml").write_text(f"dependencies:\n  - pip:\n{pips}")
    return DeploymentSpec(name=name, endpoint_name="venv-uv",
                          source=Source(folder / f"{name}.yml", 1),
                          environment=EnvironmentSpec(conda_file=folder / "conda.yml"),
                          instance_type="Standard_DS2_v2",
                          code_configuration=CodeSpec(folder / "code", "score.py"))


def imports(python: Path, *modules: str) -> str:
    done = subprocess.run([str(python), "-c", f"import {', '.join(modules)}; "
                           "import devkit_runtime; print(devkit_runtime.__file__)"],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_uv_venv_serves_the_environment_and_links_packages(
        own_venvs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEVKIT_INSTALLER", raising=False)
    lines: list[str] = []
    first = ensure_venv(deployment(tmp_path / "a", "blue", ["six", "joblib"]), lines.append)
    assert (first.path / MARKER).is_file()
    assert any("uv: installing" in line for line in lines)
    runtime = imports(first.python, "six", "joblib", "uvicorn", "uvloop", "watchdog")
    # the runtime is this checkout's source, as an editable install would give
    assert Path(runtime).resolve().is_relative_to(Path(__file__).resolve().parents[2])
    # pip comes from the wheelhouse like every package (a venv the user can pip into)
    assert list(first.path.glob("lib/python*/site-packages/pip"))

    # the venv's files are hardlinks into uv's cache (one store under the devkit cache),
    # not copies: another environment with the same wheel links the same files (unless the
    # wheel file itself changed meanwhile: uv then unpacks it once more)
    second = ensure_venv(deployment(tmp_path / "b", "green", ["joblib", "six", "idna"]),
                         lines.append)
    assert second.path != first.path
    for venv in (first, second):
        [module] = venv.path.glob("lib/python*/site-packages/joblib/__init__.py")
        assert os.stat(module).st_nlink >= 2
        assert list((own_venvs / "uv-cache").rglob("joblib/__init__.py"))


def test_pip_venv_is_still_there_when_asked_for(
        own_venvs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVKIT_INSTALLER", "pip")
    lines: list[str] = []
    made = ensure_venv(deployment(tmp_path / "a", "blue", ["six"]), lines.append)
    assert any("pip install" in line for line in lines)
    assert not any("uv: installing" in line for line in lines)
    imports(made.python, "six", "uvicorn")
    assert not list(made.path.glob("lib/python*/site-packages/devkit_runtime_source.pth"))
