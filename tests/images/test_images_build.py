"""ensure_image against the real Docker engine: conda, Dockerfile and BYOC environments."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devkit.errors import ImageBuildError
from devkit.images.build import ensure_image, environment_hash
from devkit.images.docker_build import build_log
from devkit.paths import cache_dir
from devkit.spec.model import (
    BuildSpec,
    DeploymentSpec,
    EnvironmentSpec,
    InferenceConfig,
    Route,
)

pytestmark = pytest.mark.docker
Fresh = Callable[[DeploymentSpec], DeploymentSpec]
Make = Callable[..., DeploymentSpec]
AZUREML_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest"


def conda_env(folder: Path, body: str, image: str | None = AZUREML_IMAGE) -> EnvironmentSpec:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "conda.yml"
    path.write_text(body)
    return EnvironmentSpec(image=image, conda_file=path)


def run_in(client: Any, tag: str, *command: str) -> str:
    output = client.containers.run(tag, list(command), remove=True, network_disabled=True)
    return str(output.decode())


def test_conda_environment_builds_once_and_serves_runtime(
        docker_client: Any, base_image: str, tmp_path: Path, fresh: Fresh,
        make_deployment: Make) -> None:
    env = conda_env(tmp_path / "env", "dependencies:\n  - python=3.11\n  - pip:\n"
                    "    - six\n    - azureml-defaults\n")
    deployment = fresh(make_deployment(tmp_path, env))
    lines: list[str] = []

    first = ensure_image(docker_client, deployment, progress=lines.append)

    assert first.built and first.tag == f"devkit-env:{first.env_hash[:16]}"
    assert any("azureml-defaults replaced by devkit's runtime" in n for n in first.notices)
    assert any(AZUREML_IMAGE in n and base_image in n for n in first.notices)
    # Progress is one line per step, not docker's log; that goes to the log file.
    assert any(line.startswith("[1/") for line in lines)
    assert any(line.startswith("built the image of deployment blue in ") for line in lines)
    # uv installs (its output is absent when the layers came from Docker's cache).
    assert "/opt/devkit/bin/uv pip install" in build_log(first.tag).read_text()
    assert run_in(docker_client, first.tag, "python", "-c",
                  "import six, devkit_runtime; print('imports ok')").strip() == "imports ok"
    # the server runs on uvloop (a runtime dependency) and its bytecode was compiled in
    # the build (a replica start compiles nothing of it)
    assert run_in(docker_client, first.tag, "python", "-c",
                  "import uvloop, devkit_runtime.worker as w, importlib.util as u, os; "
                  "print(os.path.exists(u.cache_from_source(w.__file__)))").strip() == "True"
    assert "usage" in run_in(docker_client, first.tag, "python", "-m", "devkit_runtime",
                             "--help").lower()
    labels = docker_client.images.get(first.tag).labels
    assert labels["devkit.managed"] == "1" and labels["devkit.env-hash"] == first.env_hash

    second = ensure_image(docker_client, deployment)
    assert (second.built, second.tag, second.notices) == (False, first.tag, [])


def test_devkit_installer_pip_builds_the_same_environment_with_pip(
        docker_client: Any, base_image: str, tmp_path: Path, fresh: Fresh,
        make_deployment: Make, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVKIT_INSTALLER", "pip")
    env = conda_env(tmp_path / "env", "dependencies:\n  - pip:\n    - six\n", image=None)
    deployment = fresh(make_deployment(tmp_path, env))
    lines: list[str] = []

    built = ensure_image(docker_client, deployment, progress=lines.append)

    log = build_log(built.tag).read_text()
    assert built.built and "/pip install --no-index" in log and "COPY --from=wheels" in log
    assert "/opt/devkit/bin/uv" not in log
    assert run_in(docker_client, built.tag, "python", "-c",
                  "import six, devkit_runtime; print('imports ok')").strip() == "imports ok"


def test_environments_with_the_same_wheels_share_an_image_and_one_smoke_import(
        docker_client: Any, base_image: str, tmp_path: Path, fresh: Fresh,
        make_deployment: Make) -> None:
    # The records are a cache; without them this test's first build surely imports.
    shutil.rmtree(cache_dir() / "smoke-checked", ignore_errors=True)
    first = fresh(make_deployment(tmp_path / "a", conda_env(
        tmp_path / "env-a", "dependencies:\n  - pip:\n    - six\n", image=None)))
    # Another environment (its own hash, as an edited conda file), the same wheels.
    second = fresh(make_deployment(tmp_path / "b", conda_env(
        tmp_path / "env-b", "dependencies:\n  - pip:\n    - six; platform_release != 'x'\n",
        image=None)))
    assert environment_hash(first) != environment_hash(second)
    lines: list[str] = []

    one = ensure_image(docker_client, first)
    two = ensure_image(docker_client, second, progress=lines.append)

    logs = [build_log(built.tag).read_text() for built in (one, two)]
    shared = {line.split()[-1] for log in logs for line in log.splitlines()
              if line.startswith("Step 1/") and "FROM devkit-shared:" in line}
    assert len(shared) == 1  # both FROM one shared image, which holds the venv's settings
    [tag] = shared
    assert docker_client.images.get(tag).labels["devkit.role"] == "shared"
    assert "devkit_runtime.envcheck six" in logs[0]
    assert "devkit_runtime.envcheck" not in logs[1]
    assert any(line.startswith("smoke import of six skipped") for line in lines)
    # The environment's context held its small wheels only; its settings come from FROM.
    sent = next(line for line in lines if line.startswith("building the image of"))
    assert "kB)" in sent or float(sent.split("(context ")[1].split(" MB")[0]) < 10
    assert run_in(docker_client, two.tag, "python", "-c",
                  "import six, devkit_runtime; print('imports ok')").strip() == "imports ok"
    assert docker_client.images.get(two.tag).labels["devkit.role"] == "env"


def test_code_only_change_keeps_the_hash_and_image(
        docker_client: Any, base_image: str, tmp_path: Path, fresh: Fresh,
        make_deployment: Make) -> None:
    env = conda_env(tmp_path / "env", "dependencies:\n  - pip:\n    - six\n")
    blue = fresh(make_deployment(tmp_path / "a", env, code="src"))
    green = make_deployment(tmp_path / "b", env, name="green", code="other-src")
    (green.code_configuration.code / "extra.py").write_text("X = 1\n")  # type: ignore[union-attr]
    assert environment_hash(blue) == environment_hash(green)
    assert ensure_image(docker_client, blue).built
    again = ensure_image(docker_client, green)
    assert not again.built and again.tag == f"devkit-env:{environment_hash(blue)[:16]}"


def test_changed_requirements_change_the_hash(tmp_path: Path,
        make_deployment: Make) -> None:
    one = make_deployment(tmp_path, conda_env(tmp_path / "1", "dependencies:\n  - six\n"))
    two = make_deployment(tmp_path, conda_env(tmp_path / "2", "dependencies:\n  - six=1.17\n"))
    assert environment_hash(one) != environment_hash(two)


def test_conda_python_the_base_lacks_is_a_notice(
        docker_client: Any, base_image: str, tmp_path: Path, fresh: Fresh,
        make_deployment: Make) -> None:
    env = conda_env(tmp_path / "env", "dependencies:\n  - python=3.8\n  - pip:\n"
                    "    - six\n", image=None)
    result = ensure_image(docker_client, fresh(make_deployment(tmp_path, env)))
    [notice] = [n for n in result.notices if "python 3.8" in n]  # said once
    assert "conda.yml:2" in notice and "Python 3." in notice and base_image in notice


def test_dockerfile_build_gets_the_runtime_layer(
        docker_client: Any, base_image: str, tmp_path: Path, fresh: Fresh,
        make_deployment: Make) -> None:
    context = tmp_path / "ctx"
    (context / "docker").mkdir(parents=True)
    (context / "docker" / "app.Dockerfile").write_text(
        f"FROM {base_image}\nRUN echo from-user > /marker\nENTRYPOINT [\"false\"]\n")
    env = EnvironmentSpec(build=BuildSpec(context, "docker/app.Dockerfile"))
    deployment = fresh(make_deployment(tmp_path, env))
    lines: list[str] = []
    result = ensure_image(docker_client, deployment, progress=lines.append)
    assert result.built
    assert any(line.endswith("] RUN echo from-user > /marker") for line in lines)
    assert run_in(docker_client, result.tag, "sh", "-c",
                  "cat /marker && python -c 'import devkit_runtime'").strip() == "from-user"
    config = docker_client.images.get(result.tag).attrs["Config"]
    assert config["Cmd"] == ["python", "-m", "devkit_runtime"] and not config["Entrypoint"]
    assert not ensure_image(docker_client, deployment).built


def test_dockerfile_without_python_is_a_clear_error(
        docker_client: Any, base_image: str, tmp_path: Path, fresh: Fresh,
        make_deployment: Make) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text(
        f"FROM {base_image}\nRUN rm -f /usr/bin/python3 /usr/bin/python3.*\n")
    deployment = fresh(make_deployment(tmp_path, EnvironmentSpec(build=BuildSpec(context))))
    with pytest.raises(ImageBuildError, match=r"has no python3.*install python3"):
        ensure_image(docker_client, deployment)


def test_failing_dockerfile_step_is_named(
        docker_client: Any, base_image: str, tmp_path: Path, fresh: Fresh,
        make_deployment: Make) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text(
        f"FROM {base_image}\nRUN echo about-to-fail && exit 3\n")
    deployment = fresh(make_deployment(tmp_path, EnvironmentSpec(build=BuildSpec(context))))
    with pytest.raises(ImageBuildError) as info:
        ensure_image(docker_client, deployment)
    message = str(info.value)
    assert "failed at 'Step 2/" in message and ": RUN echo about-to-fail && exit 3'" in message
    assert "about-to-fail" in message and "code: 3" in message
    assert "full log: " in message


def test_non_pip_conda_package_fails_before_building(
        docker_client: Any, tmp_path: Path,
        make_deployment: Make) -> None:
    env = conda_env(tmp_path / "env", "dependencies:\n  - python=3.11\n  - cudatoolkit=11.8\n")
    with pytest.raises(ImageBuildError, match=r"conda\.yml:3: .*'cudatoolkit'"):
        ensure_image(docker_client, make_deployment(tmp_path, env))


def test_byoc_image_is_used_as_is(docker_client: Any, base_image: str, tmp_path: Path,
        make_deployment: Make) -> None:
    route = Route(port=8080, path="/")
    byoc = EnvironmentSpec(image=base_image,
                           inference_config=InferenceConfig(route, route, route))
    result = ensure_image(docker_client, make_deployment(tmp_path, byoc))
    assert (result.tag, result.built) == (base_image, False)
    absent = dataclasses.replace(byoc, image="devkit-test/absent-byoc:never")
    with pytest.raises(ImageBuildError, match=r"absent-byoc:never .*cannot be pulled.*docker load"):
        ensure_image(docker_client, make_deployment(tmp_path, absent))


def test_unpullable_non_azureml_image_is_an_error(docker_client: Any, tmp_path: Path,
        make_deployment: Make) -> None:
    env = EnvironmentSpec(image="devkit-test/absent-image:never")
    with pytest.raises(ImageBuildError, match=r"devkit-test/absent-image:never .*blue\.yml:1"):
        ensure_image(docker_client, make_deployment(tmp_path, env))
