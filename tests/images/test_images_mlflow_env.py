"""The environment of a no-code MLflow deployment, read from its model folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.engines.process.venv import requirements_of
from devkit.images.envhash import environment_hash
from devkit.images.mlflow_env import conda_environment, skinny_requirements
from devkit.spec.model import (
    CodeSpec,
    DeploymentSpec,
    EnvironmentSpec,
    ModelSpec,
    Source,
)

MLMODEL = "flavors:\n  python_function:\n    env: {conda: conda.yaml}\n    loader_module: m\n"
CONDA = ("channels: [conda-forge]\ndependencies:\n- python=3.11.7\n- pip<=24\n- pip:\n"
         "  - mlflow==2.20.1\n  - scikit-learn==1.5.0\n  - cloudpickle==3.0.0\n")


def deployment(model: Path, **changes: object) -> DeploymentSpec:
    spec = DeploymentSpec(name="blue", endpoint_name="ep", source=Source(model / "blue.yml"),
                          environment=EnvironmentSpec(), instance_type="Standard_DS2_v2",
                          model=ModelSpec(path=model, type="mlflow_model"))
    return spec if not changes else DeploymentSpec(**{**spec.__dict__, **changes})


@pytest.fixture
def model(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "MLmodel").write_text(MLMODEL)
    (folder / "conda.yaml").write_text(CONDA)
    return folder


def test_mlflow_becomes_mlflow_skinny_at_its_version_and_pandas_is_added(model: Path) -> None:
    env = conda_environment(deployment(model))
    assert env is not None and env.path == model / "conda.yaml"
    assert env.requirements == ("mlflow-skinny==2.20.1", "scikit-learn==1.5.0",
                                "cloudpickle==3.0.0", "pandas")
    assert env.python is not None and env.python.spec == "3.11.7"


def test_requirements_txt_is_the_fallback(model: Path) -> None:
    (model / "conda.yaml").unlink()
    (model / "requirements.txt").write_text("mlflow[extras]>=2.9\nlightgbm==4.3.0\npandas\n")
    env = conda_environment(deployment(model))
    assert env is not None and env.path == model / "requirements.txt"
    assert env.requirements == ("mlflow-skinny>=2.9", "lightgbm==4.3.0", "pandas")


def test_a_model_naming_no_packages_gets_the_loader_alone(model: Path) -> None:
    (model / "conda.yaml").unlink()
    env = conda_environment(deployment(model))
    assert env is not None and env.requirements == ("mlflow-skinny", "pandas")
    assert "names no conda.yaml or requirements.txt" in env.notices[0]


def test_a_deployment_with_a_score_py_keeps_its_own_environment(model: Path) -> None:
    code = CodeSpec(code=model, scoring_script="score.py")
    assert conda_environment(deployment(model, code_configuration=code)) is None
    conda = model / "own.yml"
    conda.write_text("dependencies:\n- pip:\n  - mlflow==2.20.1\n")
    own = deployment(model, code_configuration=code,
                     environment=EnvironmentSpec(conda_file=conda))
    env = conda_environment(own)
    assert env is not None and env.requirements == ("mlflow==2.20.1",)  # the user's, as is


def test_the_hash_and_the_venv_follow_the_models_packages(model: Path) -> None:
    before = environment_hash(deployment(model))
    assert requirements_of(deployment(model)).source == model / "conda.yaml"
    (model / "conda.yaml").write_text(CONDA.replace("1.5.0", "1.5.1"))
    assert environment_hash(deployment(model)) != before
    assert "scikit-learn==1.5.1" in requirements_of(deployment(model)).packages


def test_skinny_rewrite_leaves_other_names_alone() -> None:
    assert skinny_requirements(("mlflow-skinny==2.1", "mlflowx==1")) == (
        "mlflow-skinny==2.1", "mlflowx==1", "pandas")
