"""No-code MLflow deployments on each engine, for real: scikit-learn and LightGBM models
made by MLflow at test time, deployed with neither score.py nor environment. The
environment comes from each model's conda.yaml (mlflow as mlflow-skinny), the runtime's
MLflow scorer answers; requests go through the router, pinned to each deployment.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from engine_helpers import unique

from devkit.engines import DeploymentState, EndpointStatus, Engine, UpOptions
from devkit.errors import EndpointNotFound
from devkit.router.keys import load_or_create_keys
from devkit.spec import load

IN_CI = bool(os.environ.get("CI"))
MAKER = Path(__file__).resolve().parents[1] / "mlflow" / "make_models.py"
SPLIT = {"columns": ["a", "b"], "index": [0, 1], "data": [[1.0, 2.0], [3.0, 4.0]]}
# The first run on a machine installs mlflow-skinny and scikit-learn/LightGBM into a venv
# (process) or an image (docker); later runs reuse both by their environment hash.
pytestmark = pytest.mark.timeout(1800)
DEPLOYMENT = """name: {name}
endpoint_name: {endpoint}
model:
  name: {name}-model
  version: 1
  path: models/{folder}
  type: mlflow_model
instance_type: Standard_DS2_v2
instance_count: 1
"""


@pytest.fixture(scope="module")
def deployments(engine_name: str, request: pytest.FixtureRequest) -> dict[str, str]:
    """Deployment -> model folder. LightGBM's wheel needs the OpenMP runtime (libgomp1) in
    the image: devkit's base image has it since it was added to the package list; an older
    base image on a developer's machine leaves LightGBM out (never under CI)."""
    wanted = {"skl": "sklearn-signature", "lgbm": "lightgbm"}
    if engine_name == "docker" and not IN_CI and not _has_openmp(request):
        del wanted["lgbm"]
    return wanted


def _has_openmp(request: pytest.FixtureRequest) -> bool:
    client = request.getfixturevalue("docker_client")
    output = client.containers.run(request.getfixturevalue("base_image"),
                                   ["sh", "-c", "ls /usr/lib/*/libgomp.so.1 || true"],
                                   remove=True, network_mode="none")
    return b"libgomp" in output


def need(deployments: dict[str, str], name: str) -> None:
    if name not in deployments:
        pytest.skip("this machine's devkit base image predates libgomp1; rebuild it with "
                    "`devkit base-image` to serve LightGBM on Docker")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, engine_name: str,
           deployments: dict[str, str]) -> Path:
    name = unique(f"mlf-{engine_name[:4]}")
    root = tmp_path_factory.mktemp("ep") / name
    subprocess.run([sys.executable, str(MAKER), str(root / "models")], check=True,
                   capture_output=True)
    (root / "endpoint.yml").write_text(f"name: {name}\nauth_mode: key\n")
    for deployment, model in deployments.items():
        (root / f"{deployment}.yml").write_text(
            DEPLOYMENT.format(name=deployment, endpoint=name, folder=model))
    return root


@pytest.fixture(scope="module")
def started(engine: Engine, folder: Path, module_state: Path) -> Iterator[EndpointStatus]:
    endpoint = load([folder])
    status = engine.up(endpoint, UpOptions(), lambda _line: None)
    yield status
    with contextlib.suppress(EndpointNotFound):
        engine.down(endpoint.name)


@pytest.fixture(scope="module")
def client(started: EndpointStatus) -> Iterator[httpx.Client]:
    key = load_or_create_keys(started.name).primary
    with httpx.Client(timeout=60, headers={"Authorization": f"Bearer {key}"}) as http:
        yield http


def score(client: httpx.Client, started: EndpointStatus, deployment: str, body: Any,
          content_type: str = "application/json") -> httpx.Response:
    assert started.scoring_uri is not None
    content = body if isinstance(body, str) else httpx.Request("POST", "/", json=body).content
    return client.post(started.scoring_uri, content=content,
                       headers={"azureml-model-deployment": deployment,
                                "Content-Type": content_type})


def test_both_deployments_come_up_without_code_or_environment(
        started: EndpointStatus, deployments: dict[str, str]) -> None:
    assert [(d.name, d.state) for d in started.deployments] == [
        (name, DeploymentState.READY) for name in sorted(deployments)]


@pytest.mark.parametrize("deployment", ["skl", "lgbm"])
def test_azure_shapes_through_the_router(client: httpx.Client, started: EndpointStatus,
                                         deployment: str,
        deployments: dict[str, str]) -> None:
    need(deployments, deployment)
    split = score(client, started, deployment, {"input_data": SPLIT})
    named = score(client, started, deployment, {"input_data": {"a": [1.0, 3.0],
                                                               "b": [2.0, 4.0]}})
    assert split.status_code == 200 and named.status_code == 200, split.text
    assert split.headers["azureml-model-deployment"] == deployment
    assert len(split.json()) == 2 and split.json() == named.json()
    if deployment == "skl":  # the regression is a + b
        assert [round(v, 6) for v in split.json()] == [3.0, 7.0]


@pytest.mark.parametrize("deployment", ["skl", "lgbm"])
def test_mlflow_protocol_through_the_router(client: httpx.Client, started: EndpointStatus,
                                            deployment: str,
        deployments: dict[str, str]) -> None:
    need(deployments, deployment)
    azure = score(client, started, deployment, {"input_data": SPLIT}).json()
    for body in ({"dataframe_split": SPLIT},
                 {"dataframe_records": [{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": 4.0}]}):
        reply = score(client, started, deployment, body)
        assert reply.status_code == 200, reply.text
        assert reply.json() == {"predictions": azure}


@pytest.mark.parametrize("deployment", ["skl", "lgbm"])
def test_errors_reach_the_client_as_the_front_end_reports_them(
        client: httpx.Client, started: EndpointStatus, deployment: str,
        deployments: dict[str, str]) -> None:
    need(deployments, deployment)
    # The managed front end answers 424 for a model's non-200, naming its status.
    missing = score(client, started, deployment, {"data": [[1, 2]]})
    assert missing.status_code == 424
    assert missing.headers["ms-azureml-model-error-statuscode"] == "400"
    assert missing.json() == {"message": "A value is not provided for the 'input_data' "
                                         "parameter."}
    not_json = score(client, started, deployment, "a,b\n1,2", "text/csv")
    assert not_json.headers["ms-azureml-model-error-statuscode"] == "415"
    mismatch = score(client, started, deployment, {"input_data": {"columns": ["a"],
                                                                  "data": [[1.0]]}})
    assert mismatch.headers["ms-azureml-model-error-statuscode"] == "400"
    assert "Failed to enforce schema" in mismatch.json()["message"]
