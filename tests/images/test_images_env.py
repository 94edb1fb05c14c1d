"""Environments as they work in Azure, built and served on the real Docker engine.

* the field case: ``scikit-learn=1.2.2`` with ``numpy`` unpinned builds with numpy 1.x
  (numpy's ABI rule) and serves predictions;
* a clashing environment (Flask 2.0.3 with the Werkzeug 3 pip picks) fails the build at
  the smoke import with the clash named, and leaves no image;
* a ``build:`` Dockerfile ``FROM`` an Azure ML inference image with ``RUN pip install``
  steps builds without pulling anything or reaching an index, and serves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devkit.engines import DeploymentState, Engine, UpOptions, get_engine
from devkit.errors import ImageBuildError
from devkit.images.build import ensure_image
from devkit.images.envhash import environment_hash
from devkit.progress import Status
from devkit.router.keys import load_or_create_keys
from devkit.spec import load
from devkit.spec.model import Endpoint

pytestmark = pytest.mark.docker
Fresh = Callable[..., Any]
INFERENCE_IMAGE = "mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference:latest"
SCORE = """\
import importlib


def init():
    global modules
    modules = [importlib.import_module(name) for name in {modules!r}]


def run(data):
    return {{m.__name__: getattr(m, "__version__", "?") for m in modules}}
"""


def endpoint_folder(folder: Path, name: str, environment: str, modules: list[str]) -> Path:
    (folder / "code").mkdir(parents=True, exist_ok=True)
    (folder / "endpoint.yml").write_text(f"name: {name}\nauth_mode: key\n")
    (folder / "blue.yml").write_text(
        f"name: blue\nendpoint_name: {name}\ncode_configuration:\n  code: code\n"
        f"  scoring_script: score.py\nenvironment:\n{environment}"
        "instance_type: Standard_DS2_v2\ninstance_count: 1\n")
    (folder / "code" / "score.py").write_text(SCORE.format(modules=modules))
    return folder


@pytest.fixture
def engine(base_image: str, isolated_state: Path) -> Engine:
    return get_engine("docker")


@pytest.fixture
def served(engine: Engine, fresh: Callable[[Any], Any]) -> Iterator[Callable[[Path], Any]]:
    """``served(folder)``: up the endpoint (its images fresh), return replica 0's /score
    answer to ``{}``; down afterwards."""
    names: list[str] = []

    def serve(folder: Path) -> Any:
        endpoint: Endpoint = load([folder])
        for deployment in endpoint.deployments:
            fresh(deployment)
        names.append(endpoint.name)
        status = engine.up(endpoint, UpOptions(), progress=lambda _line: None)
        [blue] = status.deployments
        assert blue.state is DeploymentState.READY, blue.error
        assert status.scoring_uri is not None  # through the router: only it is reachable
        key = load_or_create_keys(endpoint.name).primary
        reply = httpx.post(status.scoring_uri, content=b"{}", timeout=30,
                           headers={"Authorization": f"Bearer {key}"})
        assert reply.status_code == 200, reply.text
        return reply.json()

    yield serve
    for name in names:
        engine.down(name)


def test_sklearn_122_with_unpinned_numpy_builds_and_serves(
        tmp_path: Path, served: Callable[[Path], Any]) -> None:
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "conda.yml").write_text(
        "name: sk\nchannels: [conda-forge]\ndependencies:\n  - python=3.9\n  - numpy\n"
        "  - scikit-learn=1.2.2\n  - pip:\n    - azureml-defaults\n")
    folder = endpoint_folder(tmp_path, "env-sk122", "  image: mcr.microsoft.com/azureml/"
                             "openmpi4.1.0-ubuntu20.04:latest\n  conda_file: ../env/conda.yml\n"
                             .replace("../env", str(tmp_path / "env")), ["sklearn", "numpy"])
    versions = served(folder)
    assert versions["sklearn"] == "1.2.2"
    assert versions["numpy"].startswith("1.")


def test_clashing_environment_fails_the_build_naming_the_clash(
        docker_client: Any, tmp_path: Path, fresh: Fresh, base_image: str) -> None:
    (tmp_path / "conda.yml").write_text("dependencies:\n  - pip:\n    - flask==2.0.3\n")
    folder = endpoint_folder(tmp_path / "ep", "env-clash",
                             f"  image: {INFERENCE_IMAGE}\n"
                             f"  conda_file: {tmp_path / 'conda.yml'}\n", ["flask"])
    [deployment] = load([folder]).deployments
    fresh(deployment)
    with pytest.raises(ImageBuildError) as info:
        ensure_image(docker_client, deployment)
    message = str(info.value)
    assert message.startswith("the image of deployment blue was built but its packages do "
                              "not import: importing flask fails: Flask 2.0.3 does not work "
                              "with the installed Werkzeug 3.")
    assert "cannot import name 'url_quote' from 'werkzeug.urls'" in message
    assert "pin Werkzeug to a release Flask 2.0.3 supports" in message
    tag = f"devkit-env:{environment_hash(deployment)[:16]}"
    assert not docker_client.images.list(name=tag)


def test_dockerfile_from_azureml_inference_image_builds_offline_and_serves(
        docker_client: Any, tmp_path: Path, fresh: Fresh,
        served: Callable[[Path], Any]) -> None:
    context = tmp_path / "docker-context"
    context.mkdir()
    (context / "requirements.txt").write_text("# pinned as in Azure's examples\nsix==1.16.0\n")
    (context / "Dockerfile").write_text(
        f"FROM {INFERENCE_IMAGE}\n"
        "COPY requirements.txt /tmp/requirements.txt\n"
        "RUN pip install --no-cache-dir -r /tmp/requirements.txt && \\\n"
        "    python -m pip install 'markupsafe<3'\n")
    folder = endpoint_folder(tmp_path / "ep", "env-byoc",
                             f"  build:\n    path: {context}\n    dockerfile_path: Dockerfile\n",
                             ["six", "markupsafe"])
    [deployment] = load([folder]).deployments
    fresh(deployment)
    lines: list[str] = []
    built = ensure_image(docker_client, deployment, progress=lines.append)

    assert not docker_client.images.list(name=INFERENCE_IMAGE.split(":")[0])  # never pulled
    [notice] = [n for n in built.notices if INFERENCE_IMAGE in n]
    assert "Dockerfile:1: FROM" in notice and "not the 3.9 that image has" in notice
    # One line per step, continuation lines joined, long ones cut.
    assert any("] RUN pip install --no-cache-dir -r /tmp/requirements.txt && python -m pip "
               in line for line in lines)
    assert any(line.startswith("built the Dockerfile of deployment blue in") for line in lines)
    # docker's log goes to a file; only the status line (replaced, never kept) may quote it
    events = [line for line in lines if not isinstance(line, Status)]
    assert not any("Successfully installed" in line for line in events)
    assert (context / "Dockerfile").read_text().startswith(f"FROM {INFERENCE_IMAGE}\n")
    versions = served(folder)
    assert versions["six"] == "1.16.0" and versions["markupsafe"].startswith("2.")
