"""The TUI driven like a user against real endpoints of ``samples/regression``.

One endpoint per test (bringing it up is the slow part), then the whole loop through the
UI: select a deployment, invoke it, change traffic and see the router apply it, reload and
see the outcome, read its logs.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Log, Select, Static, TextArea
from tui_support import Running, screen_text, wait_for

from devkit.tui import create_app
from devkit.tui.screens.main import MainScreen
from devkit.tui.screens.traffic import TrafficScreen
from devkit.tui.widgets.endpoint_tree import Selection
from devkit.tui.widgets.invoke import InvokePanel


async def select(pilot: Pilot[None], main: MainScreen, target: Selection) -> None:
    """Move the tree's cursor down until ``target`` is selected, as a user would."""
    await wait_for(pilot, lambda: main.selection is not None, what="a first selection")
    for _ in range(40):
        if main.selection == target:
            return
        await pilot.press("down")
        await pilot.pause(0.05)
    raise AssertionError(f"{target} never selected; at {main.selection}")


async def _drive(running: Running, engine: str) -> None:
    app = create_app([running.spec.spec.source.file.parent], engines=[engine], poll_s=0.5)
    async with app.run_test(size=(100, 32)) as pilot:
        main = app.main
        await wait_for(pilot, lambda: main.polls > 0, what="first poll")
        assert running.name in screen_text(pilot)

        # select green with the keyboard (other endpoints may run on a shared engine),
        # pin the request to it and send
        await select(pilot, main, Selection(running.name, "green"))
        await pilot.press("i")
        panel = main.query_one(InvokePanel)
        await wait_for(pilot, lambda: '"data"' in panel.query_one("#body", TextArea).text,
                       what="sample request loaded")
        panel.query_one("#target", Select).value = "green"
        await pilot.press("s")
        await wait_for(pilot, lambda: panel.history, what="an answer")
        answer = panel.history[-1]
        assert answer.status == 200, answer.body
        assert answer.deployment == "green"
        assert isinstance(json.loads(answer.body), list)
        assert "200 OK from green" in screen_text(pilot)

        if running.routed:  # the engine's own router: its metrics reach the overview
            await pilot.press("o")
            await wait_for(pilot, lambda: "1 requests" in screen_text(pilot),
                           what="router metrics for green")

        # traffic: 50/50, validated inline, applied live by the router
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TrafficScreen), what="modal")
        modal = app.screen
        modal.query_one("#w-blue", Input).value = "60"
        await pilot.pause(0.1)
        assert "sum to 70" in str(modal.query_one("#traffic-error", Static).render())
        modal.query_one("#w-blue", Input).value = "50"
        modal.query_one("#w-green", Input).value = "50"
        await pilot.pause(0.1)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), what="modal closed")
        await wait_for(pilot, lambda: running.router_weights() == {"blue": 50, "green": 50},
                       what="router applying 50/50")
        await wait_for(pilot, lambda: "green ready 1/1 50%" in screen_text(pilot),
                       what="tree showing the new weights")

        # reload green in place and see the outcome on the overview
        await pilot.press("o", "r")
        await wait_for(pilot, lambda: "reloaded green in" in screen_text(pilot), timeout=60,
                       what="reload outcome")

        # logs of green: the reload is in them
        await pilot.press("L")
        log = main.query_one("#log-panel").query_one(Log)
        await wait_for(pilot, lambda: any("reloaded" in line for line in log.lines),
                       what="reload line in the logs")


def test_process_engine_select_invoke_traffic_reload_logs(
        up_regression: Callable[[str], Running], repo_cwd: object) -> None:
    running = up_regression("process")
    asyncio.run(_drive(running, "process"))


@pytest.mark.docker
@pytest.mark.slow
def test_docker_engine_select_invoke_traffic_reload_logs(
        docker_client: object, up_regression: Callable[[str], Running],
        repo_cwd: object) -> None:
    running = up_regression("docker")
    asyncio.run(_drive(running, "docker"))
