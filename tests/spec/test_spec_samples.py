"""The samples: each loads as a spec, and each one's score.py serves real requests.

Serving goes through ``devkit serve`` in a subprocess on a loopback port, with the script
and model folder taken from the loaded spec, so a sample whose YAML and code drift apart
fails here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import joblib
import numpy as np
import pytest

from devkit.spec import load
from devkit.spec.model import DeploymentSpec

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
DEVKIT = Path(sys.executable).parent / "devkit"


def test_regression_sample_spec() -> None:
    endpoint = load([SAMPLES / "regression"])
    assert endpoint.name == "regression"
    assert dict(endpoint.spec.traffic) == {"blue": 90, "green": 10}
    assert [d.name for d in endpoint.deployments] == ["blue", "green"]
    for deployment, folder in zip(endpoint.deployments, ("model-1", "model-2"), strict=True):
        assert deployment.model is not None
        assert deployment.model.path == SAMPLES / "regression" / folder / "model"
        pickle = deployment.model.path / "model.pkl"
        assert pickle.stat().st_size < 4096  # "saved small"
        assert deployment.environment.conda_file == (
            SAMPLES / "regression" / "environment" / "conda.yml")
        assert deployment.instance_type == "Standard_DS3_v2"
        assert deployment.instance_count == 1


@pytest.mark.parametrize("sample", ["regression", "rawhttp", "schema"])
def test_every_sample_loads_from_its_folder_and_its_file_list(sample: str) -> None:
    folder = SAMPLES / sample
    endpoint = load([folder])
    files = [folder / "endpoint.yml"] + [d.source.file for d in endpoint.deployments]
    assert load(files) == endpoint
    for deployment in endpoint.deployments:
        assert deployment.code_configuration is not None
        assert deployment.code_configuration.script_path.is_file()


def test_committed_regression_models_load_in_this_environment() -> None:
    request = json.loads((SAMPLES / "regression" / "sample-request.json").read_text())
    rows = np.array(request["data"])
    assert rows.shape[1] == 10
    v1 = joblib.load(SAMPLES / "regression" / "model-1" / "model" / "model.pkl")
    v2 = joblib.load(SAMPLES / "regression" / "model-2" / "model" / "model.pkl")
    assert not np.allclose(v1.predict(rows), v2.predict(rows))


@contextmanager
def served(deployment: DeploymentSpec, port: int) -> Iterator[httpx.Client]:
    """``devkit serve`` the deployment's script and model on loopback; yield a client.
    ``--model-dir`` is the model folder's parent: Azure shows the folder inside
    ``AZUREML_MODEL_DIR`` under its own name, and the samples' scripts read it there."""
    assert deployment.code_configuration is not None and deployment.model is not None
    command = [str(DEVKIT), "serve", str(deployment.code_configuration.script_path),
               "--model-dir", str(deployment.model.path.parent), "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            _wait_healthy(client, process)
            yield client
    finally:
        process.terminate()
        process.wait(timeout=30)
        assert process.stdout is not None
        process.stdout.close()


def _wait_healthy(client: httpx.Client, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            assert process.stdout is not None
            pytest.fail(f"devkit serve exited with {process.returncode}:\n"
                        f"{process.stdout.read()}")
        try:
            if client.get("/").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail("devkit serve did not answer GET / with 200 within 60 s")


@pytest.mark.slow
def test_regression_blue_and_green_serve_their_own_model(free_port: int) -> None:
    endpoint = load([SAMPLES / "regression"])
    body = (SAMPLES / "regression" / "sample-request.json").read_bytes()
    rows = np.array(json.loads(body)["data"])
    answers = {}
    for deployment in endpoint.deployments:
        assert deployment.model is not None
        expected = joblib.load(deployment.model.path / "model.pkl").predict(rows)
        with served(deployment, free_port) as client:
            response = client.post("/score", content=body,
                                   headers={"Content-Type": "application/json"})
        assert response.status_code == 200, response.text
        assert response.json() == pytest.approx(expected.tolist())
        answers[deployment.name] = response.json()
    assert answers["blue"] != answers["green"]


@pytest.mark.slow
def test_rawhttp_sample_round_trips_bytes(free_port: int) -> None:
    (deployment,) = load([SAMPLES / "rawhttp"]).deployments
    original = (SAMPLES / "rawhttp" / "sample-request.bin").read_bytes()
    octets = {"Content-Type": "application/octet-stream"}
    with served(deployment, free_port) as client:
        usage = client.get("/score")
        scrambled = client.post("/score", content=original, headers=octets)
        restored = client.post("/score", content=scrambled.content, headers=octets)
    assert usage.status_code == 200 and usage.json()["key_bytes"] == 16
    assert scrambled.status_code == 200
    assert scrambled.headers["content-type"] == "application/octet-stream"
    assert len(scrambled.content) == len(original) and scrambled.content != original
    assert restored.content == original


@pytest.mark.slow
def test_schema_sample_parses_typed_input_and_generates_swagger(free_port: int) -> None:
    (deployment,) = load([SAMPLES / "schema"]).deployments
    body = (SAMPLES / "schema" / "sample-request.json").read_bytes()
    as_json = {"Content-Type": "application/json"}
    with served(deployment, free_port) as client:
        scored = client.post("/score", content=body, headers=as_json)
        missing = client.post("/score", json={"data": [[5.1, 3.5, 1.4, 0.2]]})
        swagger = client.get("/swagger.json", params={"version": "3"})
    assert scored.status_code == 200, scored.text
    assert scored.json()["labels"] == ["other", "virginica", "other"]
    assert missing.status_code == 400 and "threshold" in missing.json()["message"]
    assert swagger.status_code == 200
    assert "threshold" in json.dumps(swagger.json())
