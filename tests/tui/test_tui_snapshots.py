"""Snapshots of the main screens at 80×24, on ``samples/regression`` while it is not
running: a still state (no ports, pids or timings), so every run draws the same thing.

Update after an intended change with ``pytest tests/tui --snapshot-update`` and review
the SVGs under ``__snapshots__``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from tui_support import REGRESSION

from devkit.tui import DevkitApp, create_app


@pytest.fixture
def still_app(isolated_state: Path, repo_cwd: Path) -> DevkitApp:
    return create_app([REGRESSION.relative_to(repo_cwd)], engines=["process"], poll_s=0)


async def _first_poll(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, DevkitApp)
    while not app.main.polls:
        await pilot.pause(0.05)
    await pilot.pause(0.1)


def test_main_screen_overview(snap_compare: Any, still_app: DevkitApp) -> None:
    assert snap_compare(still_app, run_before=_first_poll)


def test_invoke_tab_with_the_sample_request(snap_compare: Any, still_app: DevkitApp) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await _first_poll(pilot)
        await pilot.press("down", "i")
        await pilot.pause(0.3)

    assert snap_compare(still_app, run_before=run_before)


def test_traffic_editor_flags_a_bad_sum(snap_compare: Any, still_app: DevkitApp) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await _first_poll(pilot)
        await pilot.press("t")
        await pilot.pause(0.1)
        await pilot.press("backspace", "backspace", "7", "0")
        await pilot.pause(0.1)

    assert snap_compare(still_app, run_before=run_before)


def test_help_lists_the_bindings(snap_compare: Any, still_app: DevkitApp) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await _first_poll(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.2)

    assert snap_compare(still_app, run_before=run_before, terminal_size=(120, 40))
