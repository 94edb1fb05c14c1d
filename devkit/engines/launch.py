"""How a deployment's server is launched: its environment and the paths it sees.

Both engines start the same ``python -m devkit_runtime`` with the same variables; only the
paths differ (in a container: the Azure ML layout of docs/contract.md §5; on the host: the real
folders). Keeping that in one place is what makes the two engines behave alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from devkit import collection
from devkit.spec.mlflow_model import is_no_code_mlflow
from devkit.spec.model import DeploymentSpec

APP_ROOT = PurePosixPath("/var/azureml-app")
MODELS_ROOT = APP_ROOT / "azureml-models"
SERVER_PORT = 5001
ADMIN_PORT = 5002
DEBUG_PORT = 5678  # debugpy inside a container (published on a loopback host port)


def container_code_dir(deployment: DeploymentSpec) -> PurePosixPath | None:
    """``/var/azureml-app/<code dir name>``, where Azure mounts the code."""
    code = deployment.code_configuration
    return None if code is None else APP_ROOT / code.code.name


def container_model_dir(deployment: DeploymentSpec) -> PurePosixPath | None:
    """``AZUREML_MODEL_DIR`` in a container: ``model_mount_path`` when the spec sets one,
    else ``/var/azureml-app/azureml-models/<name>/<version>`` (docs/contract.md §5)."""
    model = deployment.model
    if model is None:
        return None
    if deployment.model_mount_path:
        return PurePosixPath(deployment.model_mount_path)
    return MODELS_ROOT / model.name / model.version


def container_model_target(deployment: DeploymentSpec) -> PurePosixPath | None:
    """Where the model folder (or file) itself appears: inside ``AZUREML_MODEL_DIR`` under
    its own name, as in Azure — a spec's ``path: model-1/model`` is read by score.py as
    ``$AZUREML_MODEL_DIR/model/...``, locally and in the cloud alike."""
    model_dir = container_model_dir(deployment)
    if deployment.model is None or model_dir is None:
        return None
    return model_dir / deployment.model.path.name


@dataclass(frozen=True)
class ServerPaths:
    """Where the server finds code and model, as seen by the server."""

    app_root: str | None
    model_dir: str | None


def container_paths(deployment: DeploymentSpec) -> ServerPaths:
    code_dir = container_code_dir(deployment)
    model_dir = container_model_dir(deployment)
    return ServerPaths(
        app_root=None if code_dir is None else str(code_dir),
        model_dir=None if model_dir is None else str(model_dir),
    )


def server_env(deployment: DeploymentSpec, paths: ServerPaths, *, host: str, port: int,
               admin_port: int, watch: bool = True, debug_port: int | None = None,
               instance: str = "") -> dict[str, str]:
    """The runtime's environment: devkit's defaults and the run settings (``watch``,
    debugpy's ``debug_port`` as the server sees it) first, the user's
    ``environment_variables`` last so they may override any of them (as in Azure).
    ``instance`` names the replica's collected-data files (default: its hostname)."""
    env: dict[str, str] = {
        "SERVER_HOST": host,
        "SERVER_PORT": str(port),
        "DEVKIT_ADMIN_PORT": str(admin_port),
        "WORKER_COUNT": "1",
        "SCORING_TIMEOUT_MS": str(deployment.request_settings.request_timeout_ms),
        "PYTHONUNBUFFERED": "1",
        "DEVKIT_WATCH": "1" if watch else "0",  # hot reload: the runtime watches its code
    }
    if debug_port is not None:
        env["DEVKIT_DEBUG_PORT"] = str(debug_port)
    env.update(liveness_env(deployment))
    env.update(collection.replica_env(deployment, instance))
    env.update(azure_env(deployment, paths))
    return env


def liveness_env(deployment: DeploymentSpec) -> dict[str, str]:
    """The ``liveness_probe`` the runtime's supervisor enforces on its workers (a replica
    restarts after ``failure_threshold`` failed probes in a row, as Azure's kubelet does)."""
    probe = deployment.liveness_probe
    return {"DEVKIT_LIVENESS_INITIAL_DELAY": str(probe.initial_delay),
            "DEVKIT_LIVENESS_PERIOD": str(probe.period),
            "DEVKIT_LIVENESS_TIMEOUT": str(probe.timeout),
            "DEVKIT_LIVENESS_FAILURE_THRESHOLD": str(probe.failure_threshold)}


def azure_env(deployment: DeploymentSpec, paths: ServerPaths) -> dict[str, str]:
    """What Azure sets for any deployment, devkit's runtime or a bring-your-own image:
    the model and code locations, then the user's ``environment_variables`` (which may
    override them)."""
    env: dict[str, str] = {}
    if paths.model_dir is not None:
        env["AZUREML_MODEL_DIR"] = paths.model_dir
    code = deployment.code_configuration
    if code is not None and paths.app_root is not None:
        env["AML_APP_ROOT"] = paths.app_root
        env["AZUREML_ENTRY_SCRIPT"] = code.scoring_script
    model = deployment.model
    if model is not None and is_no_code_mlflow(model.type, code is not None):
        # Scored by the runtime's MLflow scorer; Azure names the model's folder the same way.
        env["DEVKIT_SCORER"] = "mlflow"
        env["MLFLOW_MODEL_FOLDER"] = model.path.name
    env.update(deployment.environment_variables)
    return env


def server_command(python: str = "python3") -> list[str]:
    return [python, "-m", "devkit_runtime"]
