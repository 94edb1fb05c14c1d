"""What devkit reads from an MLflow model folder (its ``MLmodel`` file) for a no-code deployment.

A deployment whose model has ``type: mlflow_model`` and no ``code_configuration`` is scored
by the runtime's MLflow scorer (CONTRACT.md §6). Before anything is built, this module
checks what that needs from the model folder, so a wrong folder is one sentence at
``devkit up`` time instead of a container that never gets ready:

* an ``MLmodel`` file (YAML) in the folder;
* a ``python_function`` flavour in it (the flavour ``mlflow.pyfunc.load_model`` loads);
* the environment file that flavour names (``env: {conda: conda.yaml}``, or the older
  ``env: conda.yaml``), else a ``requirements.txt`` beside ``MLmodel``.

Only reading YAML: what the environment's packages become is the image layer's business
(:mod:`devkit.images.mlflow_env`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from devkit.errors import SpecError

MLMODEL = "MLmodel"
PYFUNC = "python_function"


@dataclass(frozen=True)
class MlflowModel:
    """The parts of an MLflow model folder a no-code deployment depends on."""

    folder: Path
    flavors: tuple[str, ...]
    conda_file: Path | None
    requirements_file: Path | None
    has_signature: bool


def is_no_code_mlflow(model_type: str | None, has_code: bool) -> bool:
    """Azure's rule: an ``mlflow_model`` without a scoring script is scored for you."""
    return model_type == "mlflow_model" and not has_code


def read_mlflow_model(folder: Path) -> MlflowModel:
    """Read ``folder/MLmodel``; raise SpecError naming the file and the fix."""
    mlmodel = folder / MLMODEL
    if not folder.is_dir() or not mlmodel.is_file():
        raise SpecError(f"an mlflow_model must be a folder with an {MLMODEL} file, and "
                        f"{mlmodel} does not exist; point `model.path` at the folder "
                        "mlflow.<flavor>.save_model wrote, or set `type: custom_model` and "
                        "add a code_configuration", file=str(mlmodel))
    document = _load(mlmodel)
    flavors = document.get("flavors")
    if not isinstance(flavors, dict) or PYFUNC not in flavors:
        found = ", ".join(sorted(flavors)) if isinstance(flavors, dict) else "none"
        raise SpecError(f"the model has no '{PYFUNC}' flavour (found: {found}), so "
                        "mlflow.pyfunc cannot load it without a scoring script; save it with "
                        "a flavour that adds python_function (mlflow.sklearn, "
                        "mlflow.lightgbm, mlflow.pyfunc, ...) or add a code_configuration "
                        "with your own score.py", file=str(mlmodel), field="flavors")
    pyfunc = flavors[PYFUNC] if isinstance(flavors[PYFUNC], dict) else {}
    conda = _conda_file(folder, pyfunc.get("env"))
    requirements = folder / "requirements.txt"
    return MlflowModel(folder=folder, flavors=tuple(flavors), conda_file=conda,
                       requirements_file=requirements if requirements.is_file() else None,
                       has_signature=isinstance(document.get("signature"), dict))


def _load(mlmodel: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(mlmodel.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise SpecError(f"this MLmodel file cannot be read as YAML ({exc}); save the model "
                        "again with mlflow", file=str(mlmodel),
                        line=None if line is None else line + 1) from exc
    if not isinstance(document, dict):
        raise SpecError("this MLmodel file is not a YAML mapping; save the model again with "
                        "mlflow", file=str(mlmodel))
    return document


def _conda_file(folder: Path, env: Any) -> Path | None:
    """The pyfunc flavour's conda file: ``env: {conda: F}`` (MLflow >= 2) or ``env: F``."""
    name = env.get("conda") if isinstance(env, dict) else env
    if isinstance(name, str) and (folder / name).is_file():
        return folder / name
    return None
