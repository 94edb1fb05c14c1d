"""MLflow models made at test time, and the runtime serving them as a no-code deployment."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow_support import mlflow_server
from runtime_server import RunningServer

MAKER = Path(__file__).with_name("make_models.py")


@pytest.fixture(scope="session")
def mlflow_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder holding sklearn-signature, sklearn-plain and lightgbm (see make_models)."""
    out = tmp_path_factory.mktemp("mlflow-models")
    subprocess.run([sys.executable, str(MAKER), str(out)], check=True, capture_output=True)
    return out


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
