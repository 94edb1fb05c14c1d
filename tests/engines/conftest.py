"""Fixtures for engine tests: a private copy of ``samples/regression`` under a unique
endpoint name (so parallel runs and other engineers' endpoints never collide), a
module-wide state dir, and engines by name. The docker engine needs devkit's base image;
it is built here when missing, as ``.ci/run`` would."""

from __future__ import annotations

from typing import Any

import pytest

from devkit.engines import Engine, get_engine


@pytest.fixture(scope="module", params=[pytest.param("docker", marks=pytest.mark.docker),
                                        "process"])
def engine_name(request: pytest.FixtureRequest) -> str:
    if request.param == "docker":
        request.getfixturevalue("base_image")
    return str(request.param)


@pytest.fixture(scope="module")
def engine(engine_name: str) -> Engine:
    return get_engine(engine_name)


@pytest.fixture(scope="module")
def client_if_docker(engine_name: str, request: pytest.FixtureRequest) -> Any | None:
    """The Docker client on the docker engine's run of a module, None on the process one."""
    return request.getfixturevalue("docker_client") if engine_name == "docker" else None
