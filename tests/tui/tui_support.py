"""Helpers the TUI tests import by name (fixtures stay in ``conftest.py``): the sample
they drive, a running endpoint's handle, and waits that watch the screen like a user."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from textual.pilot import Pilot

from devkit.engines import EndpointStatus, Engine
from devkit.spec.model import Endpoint

REPO_ROOT = Path(__file__).resolve().parents[2]
REGRESSION = REPO_ROOT / "samples" / "regression"


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
    svg = pilot.app.export_screenshot()
    rows: dict[float, list[tuple[float, str]]] = {}
    for match in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>',
                             svg):
        rows.setdefault(float(match[2]), []).append((float(match[1]), html.unescape(match[3])))
    return "\n".join("".join(t for _, t in sorted(rows[y])).replace("\xa0", " ")
                     for y in sorted(rows))
