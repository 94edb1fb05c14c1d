"""The side-by-side screen, driven like a user against a real endpoint of
``samples/regression`` on the process engine: blue live, green (another model) mirrored,
so the two disagree on the predictions and the screen shows it."""

from __future__ import annotations

import asyncio

import httpx
from tui_support import REGRESSION, Running, screen_text, wait_for

from devkit.router.clients import authorization
from devkit.router.control import set_traffic
from devkit.tui import create_app
from devkit.tui.screens.side_by_side import SideBySideScreen

REQUEST = (REGRESSION / "sample-request.json").read_bytes()


def test_side_by_side_shows_both_deployments_and_the_latest_disagreement(
        up_regression, repo_cwd) -> None:
    asyncio.run(_drive(up_regression("process")))


async def _drive(running: Running) -> None:
    set_traffic(running.name, {"blue": 100}, {"green": 50})
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
                       and "agreement" in screen_text(pilot), what="the shadow diff")
        text = screen_text(pilot)
        assert "blue  100%" in text and "green  0% (mirror 50%)" in text
        assert "req/s" in text and "p99" in text and "errors 0.00% of 40" in text
        assert "with blue (" in text and "compared)" in text
        assert "as mirror: p50 " in text  # the shadow side's own latency
        assert "latest disagreement" in text and "$[0]" in text
        assert "  - " in text and "  + " in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is main, what="back to the main screen")
