"""Fixtures for image tests: devkit's base image (built once per session when missing),
deployments written to disk, and removal by label of every image a test builds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devkit.images.build import HASH_LABEL
from devkit.images.envhash import environment_hash
from devkit.spec.model import CodeSpec, DeploymentSpec, EnvironmentSpec, Source


def _make_deployment(folder: Path, environment: EnvironmentSpec, *, name: str = "blue",
                    code: str = "code") -> DeploymentSpec:
    code_dir = folder / code
    code_dir.mkdir(parents=True, exist_ok=True)
    (code_dir / "score.py").write_text("def init():\n    pass\n\ndef run(data):\n    "
                                       "return data\n")
    return DeploymentSpec(name=name, endpoint_name="images-test",
                          source=Source(folder / f"{name}.yml", 1), environment=environment,
                          instance_type="Standard_DS2_v2",
                          code_configuration=CodeSpec(code_dir, "score.py"))


MakeDeployment = Callable[..., DeploymentSpec]


@pytest.fixture
def make_deployment() -> MakeDeployment:
    """``make_deployment(folder, environment, name=, code=)``: a deployment whose code
    folder (with a score.py) is written under ``folder``."""
    return _make_deployment


def remove_env_images(client: Any, env_hash: str) -> None:
    """Remove the images labelled with ``env_hash``; children go before their parents
    (a runtime layer sits on its user-built image), so retry until none is left."""
    import docker.errors

    for _attempt in range(4):
        images = client.images.list(filters={"label": f"{HASH_LABEL}={env_hash}"})
        if not images:
            return
        for image in images:
            try:
                client.images.remove(image.id, force=True)
            except (docker.errors.ImageNotFound, docker.errors.APIError):
                continue  # gone already, or a parent whose child goes first


@pytest.fixture
def fresh(docker_client: Any) -> Iterator[Callable[[DeploymentSpec], DeploymentSpec]]:
    """Mark a deployment's environment as this test's: images for its hash are removed
    before (leftovers of an interrupted run) and after the test."""
    hashes: list[str] = []

    def register(deployment: DeploymentSpec) -> DeploymentSpec:
        env_hash = environment_hash(deployment)
        remove_env_images(docker_client, env_hash)
        hashes.append(env_hash)
        return deployment

    yield register
    for env_hash in hashes:
        remove_env_images(docker_client, env_hash)
