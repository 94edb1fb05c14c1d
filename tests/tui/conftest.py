"""Fixtures for the TUI tests: real endpoints of ``samples/regression``. Helpers that
tests import by name live in ``tui_support.py`` (importing from a conftest breaks as soon
as another test folder's conftest is collected first)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tui_support import REGRESSION, REPO_ROOT, Running

from devkit.engines import Engine, RunSettings, get_engine, no_progress
from devkit.spec import load
from devkit.spec.model import Endpoint


@pytest.fixture(autouse=True, scope="session")
def no_user_targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The TUI lists the endpoints of every promote target in the user's targets file;
    the tests see none, whatever this machine's user has configured."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEVKIT_CONFIG_DIR", str(tmp_path_factory.mktemp("no-targets")))
        yield


@pytest.fixture
def regression_spec() -> Endpoint:
    return load([REGRESSION])


@pytest.fixture
def private_regression(tmp_path: Path) -> Endpoint:
    """``samples/regression`` under a unique endpoint name: the Docker engine is shared by
    everything on this machine, and another test's `down regression` must not hit ours."""
    import shutil
    import uuid

    folder = tmp_path / "regression"
    shutil.copytree(REGRESSION, folder, ignore=shutil.ignore_patterns("__pycache__"))
    name = f"tui-{uuid.uuid4().hex[:8]}"
    for file in ("endpoint.yml", "blue.yml", "green.yml"):
        path = folder / file
        text = path.read_text().replace("name: regression", f"name: {name}")
        path.write_text(text.replace("endpoint_name: regression", f"endpoint_name: {name}"))
    return load([folder])


@pytest.fixture
def repo_cwd(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the repository root, so paths shown in the TUI are the same everywhere."""
    monkeypatch.chdir(REPO_ROOT)
    return REPO_ROOT


@pytest.fixture
def up_regression(isolated_state: Path, private_regression: Endpoint
                  ) -> Iterator[Callable[[str], Running]]:
    """Bring ``samples/regression`` up on the named engine; take it down afterwards."""
    started: list[Engine] = []

    def start(engine_name: str) -> Running:
        engine = get_engine(engine_name)
        started.append(engine)
        status = engine.up(private_regression, RunSettings(), no_progress)
        assert status.scoring_uri is not None, "the engine started no router"
        url = status.scoring_uri.rsplit("/score", 1)[0]
        return Running(engine, private_regression, status, url)

    yield start
    for engine in started:
        engine.down(private_regression.name)


os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
