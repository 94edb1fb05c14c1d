"""Fixtures of the fault suite: endpoints under a steady bounded loopback load through
their router, faults injected into the real parts (containers, processes, the engine),
and what healing took (failed requests, seconds, what ``status`` said) recorded for
RELIABILITY.md.

Every test here is marked ``fault``; ``pytest -m fault tests/faults -s`` prints one table
row per case (``REL|...`` lines, from ``support.faults.report``) and writes them to
``$DEVKIT_FAULT_REPORT`` when set.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from faulty_endpoint import Faulty, copy_fixture

from devkit.engines import RunSettings
from devkit.engines.docker import DockerEngine
from devkit.spec import load as load_spec


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.fault)



@pytest.fixture(scope="module")
def faulty(docker_client: Any, base_image: str, module_state: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Faulty]:
    name = f"faulty-{uuid.uuid4().hex[:6]}"
    folder = copy_fixture(tmp_path_factory.mktemp("ep") / name, name)
    engine = DockerEngine()
    try:
        status = engine.up(load_spec([folder]), RunSettings(), lambda _: None)
        assert status.scoring_uri is not None
        yield Faulty(name, folder, engine, status.scoring_uri, docker_client)
    finally:
        DockerEngine().down(name)  # a fresh client: a dockerd restart broke the old one's
