"""Serving a model folder the way an engine starts a no-code MLflow deployment."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))

from runtime_server import RunningServer, _spawn, find_free_port  # noqa: E402


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
