"""``init()`` failure, on each engine: the deployment stays up but is reported unhealthy
with the runtime's traceback, in ``status`` and in ``logs``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_helpers import FIXTURES, SAMPLES, copy_endpoint, unique

from devkit.engines import DeploymentState, EndpointStatus, Engine, RunSettings
from devkit.spec import load


@pytest.fixture(scope="module")
def broken(engine: Engine, engine_name: str, module_state: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[EndpointStatus]:
    name = unique(f"broken-{engine_name[:4]}")
    folder = copy_endpoint(FIXTURES / "broken", tmp_path_factory.mktemp("ep") / name,
                           "broken", name)
    spec = folder / "main.yml"
    conda = SAMPLES / "regression" / "environment" / "conda.yml"
    spec.write_text(spec.read_text().replace("../../../../samples/regression/environment/"
                                             "conda.yml", str(conda)))
    try:
        yield engine.up(load([folder]), RunSettings(), lambda _: None)
    finally:
        engine.down(name)


def test_init_failure_is_unhealthy_with_the_traceback(broken: EndpointStatus,
                                                      engine: Engine) -> None:
    [status] = engine.status(broken.name)
    [main] = status.deployments
    assert main.state is DeploymentState.UNHEALTHY
    assert main.error is not None
    assert "model file is corrupt" in main.error and "Traceback" in main.error


def test_init_failure_is_in_the_logs(broken: EndpointStatus, engine: Engine) -> None:
    text = "\n".join(engine.logs(broken.name, tail=None))
    assert "model file is corrupt (deliberate test failure)" in text
    assert "score_init_fails.py" in text
