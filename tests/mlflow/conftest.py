"""MLflow models made at test time, and the runtime serving them as a no-code deployment."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))

from runtime_server import RunningServer, _spawn, find_free_port  # noqa: E402

MAKER = Path(__file__).with_name("make_models.py")


@pytest.fixture(scope="session")
def mlflow_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder holding sklearn-signature, sklearn-plain and lightgbm (see make_models)."""
    out = tmp_path_factory.mktemp("mlflow-models")
    subprocess.run([sys.executable, str(MAKER), str(out)], check=True, capture_output=True)
    return out


@contextmanager
def mlflow_server(model_dir: Path, tmp_path: Path, folder: str | None = None,
                  extra_env: dict[str, str] | None = None) -> Iterator[RunningServer]:
    """The runtime as an engine starts it for a no-code deployment: ``DEVKIT_SCORER=mlflow``
    with Azure's AZUREML_MODEL_DIR / MLFLOW_MODEL_FOLDER, no entry script."""
    port = find_free_port()
    env = {key: value for key, value in os.environ.items()
           if key not in ("AZUREML_ENTRY_SCRIPT", "AML_APP_ROOT", "SERVER_PORT")}
    env.update(DEVKIT_SCORER="mlflow", AZUREML_MODEL_DIR=str(model_dir), SERVER_PORT=str(port),
               **(extra_env or {}))
    if folder:
        env["MLFLOW_MODEL_FOLDER"] = folder
    log = tmp_path / f"mlflow-{port}.log"
    server = RunningServer(_spawn([sys.executable, "-m", "devkit_runtime"], env, log), port, log)
    try:
        server.wait_live(60)
        server.wait_ready(60)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def sklearn_server(mlflow_models: Path,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with mlflow_server(mlflow_models, tmp_path_factory.mktemp("sk"), "sklearn-signature") as s:
        yield s


@pytest.fixture(scope="module")
def plain_server(mlflow_models: Path,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with mlflow_server(mlflow_models / "sklearn-plain", tmp_path_factory.mktemp("pl")) as s:
        yield s


@pytest.fixture(scope="module")
def lightgbm_server(mlflow_models: Path,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with mlflow_server(mlflow_models, tmp_path_factory.mktemp("lg"), "lightgbm") as s:
        yield s
