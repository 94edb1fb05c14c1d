"""The side-by-side screen, driven like a user against a real endpoint of
``samples/regression`` on the process engine: blue live, green (another model) mirrored,
so the two disagree on the predictions and the screen shows it; then rollouts started
from it: one stopped by the shadow diff, one aborted during its first step."""

from __future__ import annotations

import asyncio

import httpx
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input
from tui_support import REGRESSION, Running, screen_text, wait_for

from devkit.actions import authorization
from devkit.actions.rollout import ROLLED_BACK, STOPPED
from devkit.actions.router_view import LocalTraffic
from devkit.tui import create_app
from devkit.tui.screens.rollout import RolloutScreen
from devkit.tui.screens.side_by_side import SideBySideScreen

REQUEST = (REGRESSION / "sample-request.json").read_bytes()


def test_side_by_side_shows_both_deployments_and_the_latest_disagreement(
        up_regression, repo_cwd) -> None:
    asyncio.run(_drive(up_regression("process")))


async def _drive(running: Running) -> None:
    LocalTraffic("process").set_traffic(running.name, {"blue": 100, "green": 0}, {"green": 50})
    headers = {"Content-Type": "application/json", **authorization(running.name)}
    with httpx.Client(headers=headers, timeout=30) as client:
        for _ in range(40):
            assert client.post(running.status.scoring_uri, content=REQUEST).status_code == 200
    app = create_app([running.spec.spec.source.file.parent], engines=["process"], poll_s=0.3)
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        await wait_for(pilot, lambda: main.polls > 0, what="first poll")
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, SideBySideScreen),
                       what="the side-by-side screen")
        screen = app.screen
        assert isinstance(screen, SideBySideScreen)
        await wait_for(pilot, lambda: screen.polls > 1 and screen.report is not None
                       and "agreement" in screen_text(pilot), timeout=60,
                       what="the shadow diff")
        text = screen_text(pilot)
        assert "blue  100%" in text and "green  0% (mirror 50%)" in text
        assert "req/s" in text and "p99" in text and "errors 0.00% of 40" in text
        assert "with blue (" in text and "compared)" in text
        assert "as mirror: p50 " in text  # the shadow side's own latency
        assert "latest disagreement" in text and "$[0]" in text
        assert "  - " in text and "  + " in text

        # a rollout of green while it disagrees with blue on every mirrored request: the
        # shadow gate rolls it back before green gets any live traffic
        await start_rollout(pilot, app, {"r-candidate": "green", "r-steps": "50,100",
                                         "r-interval": "30s", "r-min-requests": "10"})
        await wait_for(pilot, lambda: screen.outcome is not None, timeout=90,
                       what="the first outcome")
        assert screen.outcome is not None and screen.outcome.result == ROLLED_BACK
        assert "agreed with blue on 0.0%" in screen.outcome.reason
        assert running.router_weights() == {"blue": 100, "green": 0}

        # without the mirror the rollout starts; abort it during its first step: the
        # traffic stays where that step put it
        LocalTraffic("process").set_traffic(running.name, {"blue": 100}, {})
        await start_rollout(pilot, app, {"r-candidate": "green", "r-steps": "50,100",
                                         "r-interval": "30s", "r-min-requests": "10"})
        await wait_for(pilot, lambda: "green at 50%, blue at 50%." in screen.rollout_lines,
                       timeout=90, what="the first step")
        await wait_for(pilot, lambda: "green at 50%, blue at 50%" in screen_text(pilot),
                       what="the step on screen")
        await pilot.press("a")
        await wait_for(pilot, lambda: screen.outcome is not None, timeout=90,
                       what="the abort")
        assert screen.outcome is not None and screen.outcome.result == STOPPED
        assert "Stopped; traffic stays" in screen.rollout_lines[-1]
        assert running.router_weights() == {"blue": 50, "green": 50}

        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is main, what="back to the main screen")


async def start_rollout(pilot: Pilot[None], app: App[None], fields: dict[str, str]) -> None:
    await pilot.press("R")
    await wait_for(pilot, lambda: isinstance(app.screen, RolloutScreen), what="the modal")
    for name, value in fields.items():
        app.screen.query_one(f"#{name}", Input).value = value
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: isinstance(app.screen, SideBySideScreen),
                   what="the modal closed")
