"""The pip environment of a deployment, including the one a no-code MLflow model brings.

Every environment kind reads its packages through :func:`conda_environment`, so the image
build, the environment hash and the process engine's venv agree on them. For a no-code
MLflow deployment (``type: mlflow_model``, no code, no environment: CONTRACT.md §6) the
environment comes from the model folder, as in Azure: the ``python_function`` flavour's
``conda.yaml``, else ``requirements.txt``. Two edits are made to it, decided here:

* ``mlflow`` becomes ``mlflow-skinny`` at the same version. The full ``mlflow`` package
  carries the tracking server, its UI and database drivers (hundreds of MB); loading a
  pyfunc model needs only ``mlflow.pyfunc``, which the skinny package ships whole (checked
  with scikit-learn and LightGBM models in tests/mlflow).
* ``pandas`` is added when missing: the skinny package leaves it out, and the scorer turns
  every request into a DataFrame.
"""

from __future__ import annotations

import dataclasses
import re

from devkit.images.conda import (
    CondaEnvironment,
    load_conda_file,
    load_requirements_file,
    normalize,
)
from devkit.spec.mlflow_model import MlflowModel, is_no_code_mlflow, read_mlflow_model
from devkit.spec.model import DeploymentSpec

SKINNY = "mlflow-skinny"
_NAME = re.compile(r"^\s*([A-Za-z0-9_][A-Za-z0-9._-]*)(.*)$", re.DOTALL)


def uses_model_environment(deployment: DeploymentSpec) -> bool:
    """Whether the deployment's packages come from its MLflow model folder."""
    environment = deployment.environment
    model = deployment.model
    return (model is not None
            and is_no_code_mlflow(model.type, deployment.code_configuration is not None)
            and environment.image is None and environment.build is None
            and environment.conda_file is None and not environment.is_byoc)


def conda_environment(deployment: DeploymentSpec) -> CondaEnvironment | None:
    """The deployment's pip requirements: its conda file, its MLflow model's, or None."""
    if deployment.environment.conda_file is not None:
        return load_conda_file(deployment.environment.conda_file)
    if not uses_model_environment(deployment):
        return None
    assert deployment.model is not None
    return model_environment(read_mlflow_model(deployment.model.path))


def model_environment(model: MlflowModel) -> CondaEnvironment:
    """An MLflow model's environment with the two edits of the module docstring."""
    if model.conda_file is not None:
        env = load_conda_file(model.conda_file)
    elif model.requirements_file is not None:
        env = load_requirements_file(model.requirements_file)
    else:
        source = model.folder / "MLmodel"
        return CondaEnvironment(source, None, (SKINNY, "pandas"), (), (
            f"{source}: the model names no conda.yaml or requirements.txt; serving it with "
            "mlflow-skinny and pandas only (save it with mlflow to record its packages).",))
    return dataclasses.replace(env, requirements=skinny_requirements(env.requirements))


def skinny_requirements(requirements: tuple[str, ...]) -> tuple[str, ...]:
    """``mlflow[extras]==V`` -> ``mlflow-skinny==V``; add mlflow-skinny and pandas if absent."""
    result: list[str] = []
    names: set[str] = set()
    for requirement in requirements:
        match = _NAME.match(requirement)
        name = normalize(match.group(1)) if match else ""
        if match and name == "mlflow":
            rest = re.sub(r"^\[[^\]]*\]", "", match.group(2))  # extras need the full package
            requirement, name = f"{SKINNY}{rest}", SKINNY
        names.add(name)
        result.append(requirement)
    result += [extra for extra in (SKINNY, "pandas") if extra not in names]
    return tuple(result)
