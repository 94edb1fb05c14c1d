"""Conda environment files read into pip requirements (real files in tmp_path)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.errors import ImageBuildError
from devkit.images.conda import PythonRequirement, load_conda_file


def write(tmp_path: Path, text: str, name: str = "conda.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_python_version_and_packages_mapped_to_pip(tmp_path: Path) -> None:
    env = load_conda_file(write(tmp_path, """\
name: model-env
channels: [conda-forge]
dependencies:
  - python=3.11
  - pip
  - scikit-learn=1.4
  - numpy>=1.26,<3
  - conda-forge::pandas==2.2.1=py311h_0
  - pytorch
  - py-xgboost 2.0
  - pip:
    - inference-schema[numpy-support]==1.8
    - joblib
"""))
    assert env.python == PythonRequirement("3.11", 4)
    assert env.requirements == (
        "scikit-learn==1.4.*", "numpy>=1.26,<3", "pandas==2.2.1", "torch", "xgboost==2.0.*",
        "inference-schema[numpy-support]==1.8", "joblib",
    )
    assert env.notices == ()


def test_microsoft_server_packages_replaced_with_one_notice(tmp_path: Path) -> None:
    env = load_conda_file(write(tmp_path, """\
dependencies:
  - python=3.10
  - pip:
    - azureml-defaults>=1.50
    - Azureml_Inference_Server_Http
    - six
"""))
    assert env.requirements == ("six",)
    assert len(env.notices) == 1
    assert "azureml-defaults, Azureml_Inference_Server_Http" in env.notices[0]
    assert "devkit's runtime" in env.notices[0]


def test_requirements_file_and_index_options(tmp_path: Path) -> None:
    (tmp_path / "reqs").mkdir()
    write(tmp_path, "# pinned\nsix==1.16.0\n\n--pre\nattrs  # inline comment\n",
          "reqs/requirements.txt")
    env = load_conda_file(write(tmp_path, """\
dependencies:
  - pip:
    - --extra-index-url https://packages.example/simple
    - -r reqs/requirements.txt
"""))
    assert env.requirements == ("six==1.16.0", "attrs")
    assert env.pip_options == ("--extra-index-url", "https://packages.example/simple", "--pre")


def test_native_libraries_dropped_with_notice(tmp_path: Path) -> None:
    env = load_conda_file(write(tmp_path, """\
dependencies:
  - _libgcc_mutex=0.1
  - libstdcxx-ng
  - mkl
  - openssl=3
  - numpy
"""))
    assert env.requirements == ("numpy",)
    assert "_libgcc_mutex, libstdcxx-ng, mkl, openssl" in env.notices[0]


@pytest.mark.parametrize("package", ["cudatoolkit=11.8", "cudnn", "r-base=4.3", "cuda-nvcc"])
def test_package_without_pip_equivalent_names_file_and_line(tmp_path: Path,
                                                            package: str) -> None:
    path = write(tmp_path, f"dependencies:\n  - python=3.11\n  - {package}\n")
    with pytest.raises(ImageBuildError) as info:
        load_conda_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}:3: ")
    assert package.split("=")[0] in message
    assert "no pip equivalent" in message


def test_editable_pip_entry_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "dependencies:\n  - pip:\n    - -e ./mypkg\n")
    with pytest.raises(ImageBuildError, match=r"conda\.yml:3: .*editable"):
        load_conda_file(path)


def test_missing_requirements_file_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "dependencies:\n  - pip:\n    - six\n    - -r nope.txt\n")
    with pytest.raises(ImageBuildError, match=r"conda\.yml:4: cannot read .*nope\.txt"):
        load_conda_file(path)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "dependencies:\n  - numpy\n  - [unclosed\n")
    with pytest.raises(ImageBuildError, match=r"conda\.yml:\d+: the conda file is not valid"):
        load_conda_file(path)


def test_no_python_entry(tmp_path: Path) -> None:
    env = load_conda_file(write(tmp_path, "name: x\ndependencies:\n  - six\n"))
    assert env.python is None
    assert env.requirements == ("six",)


@pytest.mark.parametrize(("spec", "version", "allowed"), [
    ("3.11", "3.11.2", True),
    ("3.11", "3.10.12", False),
    ("3.11.*", "3.11.9", True),
    ("==3.11.2", "3.11.2", True),
    ("==3.11.4", "3.11.2", False),
    (">=3.10,<3.12", "3.11.2", True),
    (">=3.10,<3.12", "3.12.0", False),
    ("3.8|3.11", "3.11.1", True),
    ("*", "3.9.0", True),
    ("~=3.10", "3.11.2", True),
])
def test_python_requirement_allows(spec: str, version: str, allowed: bool) -> None:
    assert PythonRequirement(spec, 1).allows(version) is allowed
