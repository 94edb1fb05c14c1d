"""The process engine's venv gets what an image gets: numpy's ABI rule and the smoke
import. Real venvs, real pip, packages from the package index (through the shared
wheelhouse)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.engines.process.venv import MARKER, ensure_venv, requirements_of, venv_hash
from devkit.errors import ImageBuildError
from devkit.paths import cache_dir
from devkit.spec.model import CodeSpec, DeploymentSpec, EnvironmentSpec, Source


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A venv is made once per environment: a cache shared with earlier runs would hold it
    already and the test would see no install at all."""
    monkeypatch.setenv("DEVKIT_CACHE_DIR", str(tmp_path / "cache"))


def deployment(folder: Path, conda: str) -> DeploymentSpec:
    (folder / "code").mkdir(parents=True, exist_ok=True)
    (folder / "code" / "score.py").write_text("def init():\n    pass\n\n"
                                              "def run(data):\n    return data\n")
    (folder / "conda.yml").write_text(conda)
    return DeploymentSpec(name="blue", endpoint_name="venv-env",
                          source=Source(folder / "blue.yml", 1),
                          environment=EnvironmentSpec(conda_file=folder / "conda.yml"),
                          instance_type="Standard_DS2_v2",
                          code_configuration=CodeSpec(folder / "code", "score.py"))


def test_clashing_venv_fails_with_the_clash_and_is_removed(tmp_path: Path) -> None:
    spec = deployment(tmp_path / "ep", "dependencies:\n  - python=3.9\n  - pip:\n"
                      "    - flask==2.0.3\n")
    lines: list[str] = []
    with pytest.raises(ImageBuildError) as info:
        ensure_venv(spec, lines.append)
    message = str(info.value)
    conda = tmp_path / "ep" / "conda.yml"
    assert message.startswith(f"the venv of deployment 'blue' ({conda}) was "
                              "installed but its packages do not import: importing flask "
                              "fails: Flask 2.0.3 does not work with the installed Werkzeug 3.")
    assert not (cache_dir() / "venvs" / venv_hash(requirements_of(spec))).exists()
    # the python pin the host cannot honour is said once, with what runs instead
    assert len([line for line in lines if "asks for python 3.9" in line]) == 1


def test_sklearn_122_with_unpinned_numpy_venv_gets_numpy_1(tmp_path: Path) -> None:
    spec = deployment(tmp_path / "ep", "dependencies:\n  - numpy\n  - scikit-learn=1.2.2\n")
    lines: list[str] = []
    venv = ensure_venv(spec, lines.append)
    assert (venv.path / MARKER).is_file()
    assert any("numpy 1.26" in line and "scikit-learn 1.2.2 was compiled against numpy 1.x"
               in line for line in lines)
    import subprocess

    done = subprocess.run([str(venv.python), "-c", "import sklearn, numpy; "
                           "print(sklearn.__version__, numpy.__version__)"],
                          capture_output=True, text=True, check=True)
    sklearn, numpy = done.stdout.split()
    assert sklearn == "1.2.2" and numpy.startswith("1.")
