"""The local asset registry: register, resolve ``azureml:`` references, notice changes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from devkit.assets import Registry, local_registry
from devkit.errors import AssetError, SpecError, UnresolvableReference
from devkit.spec.assetfiles import read_environment_file, read_model_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "spec"))
from spec_support import Project  # noqa: E402  (the spec tests' endpoint folder)

MODEL_YML = """\
$schema: https://azuremlschemas.azureedge.net/latest/model.schema.json
name: sklearn-model
version: 1
path: ../ep/model
type: custom_model
description: a test model
"""

ENV_YML = """\
$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json
name: sklearn-env
version: "3"
image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04
conda_file: ../ep/conda.yml
"""


@pytest.fixture
def project(tmp_path: Path, isolated_state: Path) -> Project:
    return Project(tmp_path / "ep")


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    folder = tmp_path / "assets"
    folder.mkdir()
    (folder / "model.yml").write_text(MODEL_YML)
    (folder / "environment.yml").write_text(ENV_YML)
    return folder


def _register_model(assets: Path, **flags: str | None) -> None:
    model = read_model_file(assets / "model.yml", flags)
    local_registry().register_model(model, str(assets / "model.yml"))


def _use_model(project: Project, ref: str) -> None:
    project.edit("blue.yml", "model:\n  path: model\n", f"model: {ref}\n")


def test_a_registered_model_resolves_by_version_and_latest(project: Project,
                                                           assets: Path) -> None:
    _register_model(assets)
    _use_model(project, "azureml:sklearn-model:1")
    for ref in ("azureml:sklearn-model:1", "azureml:sklearn-model@latest"):
        blue = project.root / "blue.yml"
        blue.write_text(blue.read_text().replace("azureml:sklearn-model:1", ref))
        model = project.load().deployment("blue").model
        assert model is not None
        assert (model.name, model.version, model.path) == (
            "sklearn-model", "1", (project.root / "model").resolve())


def test_latest_is_the_last_registered_and_flags_override_the_file(project: Project,
                                                                   assets: Path) -> None:
    _register_model(assets)
    other = project.root / "model-2"
    other.mkdir()
    (other / "m.pkl").write_bytes(b"v2")
    _register_model(assets, version="2", path=str(other))
    _use_model(project, "azureml:sklearn-model@latest")
    model = project.load().deployment("blue").model
    assert model is not None and (model.version, model.path) == ("2", other)
    assert [r.version for r in local_registry().list("model")] == ["1", "2"]


def test_a_version_left_out_is_the_next_one(assets: Path, isolated_state: Path,
                                            tmp_path: Path) -> None:
    (tmp_path / "ep" / "model").mkdir(parents=True)
    registry = local_registry()
    for expected in ("1", "2"):
        (tmp_path / "ep" / "model" / "f").write_text(expected)
        model = read_model_file(None, {"name": "m", "path": str(tmp_path / "ep" / "model")})
        assert registry.register_model(model, "flags").version == expected


def test_an_unregistered_reference_names_the_command_that_registers_it(
        project: Project) -> None:
    _use_model(project, "azureml:sklearn-model:4")
    error = project.error()
    assert isinstance(error, UnresolvableReference)
    assert (error.line, error.field) == (3, "model")
    assert "'azureml:sklearn-model:4' cannot be resolved: model 'sklearn-model:4' is not " \
        "registered locally; register it with `devkit ml model create --name sklearn-model " \
        "--version 4 --path MODEL_FOLDER (or -f model.yml)`" in str(error)


def test_a_changed_folder_is_noticed_and_a_touched_one_is_not(project: Project,
                                                             assets: Path) -> None:
    _register_model(assets)
    _use_model(project, "azureml:sklearn-model:1")
    pickle = project.root / "model" / "model.pkl"
    stat = pickle.stat()
    os.utime(pickle, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # touched only
    project.load()
    pickle.write_bytes(b"retrained")
    error = project.error()
    assert "the files of model sklearn-model:1" in str(error)
    assert "changed after it was registered; register them as a new version" in str(error)


def test_registering_a_version_again(assets: Path, isolated_state: Path,
                                     project: Project) -> None:
    _register_model(assets)
    _register_model(assets)  # same content: nothing happens, as in Azure
    (project.root / "model" / "model.pkl").write_bytes(b"other")
    with pytest.raises(AssetError, match="already registered .* with other content; versions "
                                         "do not change"):
        _register_model(assets)


def test_a_registered_environment_resolves_with_its_conda_file(project: Project,
                                                               assets: Path) -> None:
    env = read_environment_file(assets / "environment.yml", {})
    local_registry().register_environment(env, "environment.yml")
    project.edit("blue.yml", "environment:\n  image: python:3.11-slim\n  conda_file: "
                 "conda.yml\n", "environment: azureml:sklearn-env:3\n")
    found = project.load().deployment("blue").environment
    assert (found.name, found.version) == ("sklearn-env", "3")
    assert found.image == "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04"
    assert found.conda_file == (project.root / "conda.yml").resolve()


def test_environment_flags_and_file_errors(assets: Path, isolated_state: Path) -> None:
    with pytest.raises(SpecError) as info:
        read_environment_file(assets / "environment.yml", {"conda_file": "missing.yml"})
    assert "(--conda-file missing.yml)" in str(info.value)
    (assets / "environment.yml").write_text(ENV_YML + "imag: typo\n")
    with pytest.raises(SpecError, match="did you mean 'image'"):
        read_environment_file(assets / "environment.yml", {})


def test_a_curated_environment_gets_the_local_fix(project: Project, tmp_path: Path) -> None:
    name = "AzureML-sklearn-1.0-ubuntu20.04-py38-cpu"
    project.edit("blue.yml", "environment:\n  image: python:3.11-slim\n  conda_file: "
                 "conda.yml\n", f"environment: azureml:{name}@latest\n")
    error = project.error()
    assert "register devkit's equivalent (Python 3.8, scikit-learn==1.0.2" in str(error)
    assert f"`devkit ml environment create --curated {name}`" in str(error)


def test_the_registry_lives_in_the_state_dir(isolated_state: Path) -> None:
    assert local_registry().root == isolated_state / "assets"
    assert Registry(isolated_state / "x").list("model") == []
