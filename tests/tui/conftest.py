"""Fixtures for the TUI tests: real endpoints of ``samples/regression`` and the helpers
that wait on the app the way a user would (until something shows up on screen)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from textual.pilot import Pilot

from devkit.engines import EndpointStatus, Engine, UpOptions, get_engine, no_progress
from devkit.spec import load
from devkit.spec.model import Endpoint

REPO_ROOT = Path(__file__).resolve().parents[2]
REGRESSION = REPO_ROOT / "samples" / "regression"


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


class Running:
    """An endpoint brought up by a real engine, and the router the engine put in front."""

    def __init__(self, engine: Engine, spec: Endpoint, status: EndpointStatus,
                 router_url: str, routed: bool = True) -> None:
        self.engine = engine
        self.spec = spec
        self.name = spec.name
        self.status = status
        self.router_url = router_url
        self.routed = routed  # the engine's own router answers at the scoring URI

    def router_weights(self) -> dict[str, int]:
        stats = httpx.get(f"{self.router_url}/-/metrics.json", timeout=5).json()
        return {name: entry["weight"] for name, entry in stats["deployments"].items()
                if name and "weight" in entry}


@pytest.fixture
def up_regression(isolated_state: Path, private_regression: Endpoint
                  ) -> Iterator[Callable[[str], Running]]:
    """Bring ``samples/regression`` up on the named engine; take it down afterwards."""
    started: list[Engine] = []

    def start(engine_name: str) -> Running:
        engine = get_engine(engine_name)
        started.append(engine)
        status = engine.up(private_regression, UpOptions(), no_progress)
        assert status.scoring_uri is not None, "the engine started no router"
        url = status.scoring_uri.rsplit("/score", 1)[0]
        return Running(engine, private_regression, status, url)

    yield start
    for engine in started:
        engine.down(private_regression.name)


async def wait_for(pilot: Pilot[None], condition: Callable[[], object],
                   timeout: float = 30.0, what: str = "condition") -> None:
    """Let the app run until ``condition()`` holds (workers deliver asynchronously)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def screen_text(pilot: Pilot[None]) -> str:
    """What the terminal shows, as plain text (from the same SVG a snapshot stores)."""
    import html
    import re

    svg = pilot.app.export_screenshot()
    rows: dict[float, list[tuple[float, str]]] = {}
    for match in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>',
                             svg):
        rows.setdefault(float(match[2]), []).append((float(match[1]), html.unescape(match[3])))
    return "\n".join("".join(t for _, t in sorted(rows[y])).replace("\xa0", " ")
                     for y in sorted(rows))


os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
