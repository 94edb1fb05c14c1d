"""The TUI and the CLI act on one endpoint through the same actions: an endpoint brought
up from the TUI is the one ``devkit status`` shows and ``devkit down`` stops, and one
brought up by ``devkit up`` is the one the TUI shows and takes down. Real process-engine
endpoints; the CLI runs as a child process, as a user types it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from textual.pilot import Pilot
from tui_support import wait_for

from devkit.reload import recall_spec
from devkit.spec.model import Endpoint
from devkit.tui import create_app
from devkit.tui.screens.confirm import ConfirmScreen
from devkit.tui.screens.main import MainScreen


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    # The state folder comes from the isolated_state fixture, through the environment.
    return subprocess.run([sys.executable, "-m", "devkit.cli.main", *args], env=dict(os.environ),
                          capture_output=True, text=True, timeout=600)


def cli_status(name: str) -> dict[str, object] | None:
    done = cli("status", "--json")
    assert done.returncode == 0, done.stderr
    return next((e for e in json.loads(done.stdout) if e["name"] == name), None)


async def select_endpoint(pilot: Pilot[None], main: MainScreen, name: str) -> None:
    await wait_for(pilot, lambda: main.selection is not None, what="a first selection")
    for _ in range(40):
        if main.selection is not None and main.selection.endpoint == name:
            return
        await pilot.press("down")
        await pilot.pause(0.05)
    raise AssertionError(f"{name} never selected; at {main.selection}")


def running_in_tui(main: MainScreen, name: str) -> bool:
    view = main.snapshot.endpoint(name)
    return view is not None and view.running


def test_up_from_the_tui_then_status_and_down_from_the_cli(
        isolated_state: Path, private_regression: Endpoint) -> None:
    name = private_regression.name
    folder = private_regression.spec.source.file.parent

    async def drive() -> None:
        app = create_app([folder], engines=["process"], up_engine="process", poll_s=0.5)
        async with app.run_test(size=(100, 32)) as pilot:
            main = app.main
            await wait_for(pilot, lambda: main.polls > 0, what="first poll")
            await select_endpoint(pilot, main, name)
            await pilot.press("u")
            assert main.busy, "u started nothing"
            await wait_for(pilot, lambda: not main.busy, timeout=300, what="the up to end")
            await wait_for(pilot, lambda: running_in_tui(main, name), what="the endpoint up")

    try:
        asyncio.run(drive())
        found = cli_status(name)
        assert found is not None, "devkit status does not see the TUI's endpoint"
        assert found["engine"] == "process" and str(found["scoring_uri"]).endswith("/score")
        deployments = found["deployments"]
        assert isinstance(deployments, list)
        assert [(d["name"], d["state"], d["traffic"]) for d in deployments] == [
            ("blue", "ready", 90), ("green", "ready", 10)]
        # the spec bookkeeping `devkit up` does, done by the TUI's up as well
        recalled = recall_spec(name)
        assert recalled is not None and recalled.spec.source.file == \
            private_regression.spec.source.file
    finally:
        down = cli("down", name)
    assert down.returncode == 0, down.stderr
    assert f"{name}: stopped and removed" in down.stdout
    assert cli_status(name) is None
    assert recall_spec(name) is None


def test_up_from_the_cli_then_the_tui_shows_it_and_takes_it_down(
        isolated_state: Path, private_regression: Endpoint) -> None:
    name = private_regression.name
    folder = private_regression.spec.source.file.parent
    up = cli("up", str(folder), "--engine", "process")
    assert up.returncode == 0, up.stderr

    async def drive() -> None:
        app = create_app([folder], engines=["process"], poll_s=0.5)
        async with app.run_test(size=(100, 32)) as pilot:
            main = app.main
            await wait_for(pilot, lambda: running_in_tui(main, name), what="the CLI's endpoint")
            view = main.snapshot.endpoint(name)
            assert view is not None
            assert [(d.name, d.traffic) for d in view.deployments] == [("blue", 90),
                                                                       ("green", 10)]
            await select_endpoint(pilot, main, name)
            await pilot.press("d")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen),
                           what="the confirmation")
            await pilot.press("y")
            await wait_for(pilot, lambda: not main.busy, timeout=60, what="the down to end")
            await wait_for(pilot, lambda: not running_in_tui(main, name),
                           what="the tree showing it stopped")

    try:
        asyncio.run(drive())
        left = cli_status(name)
    finally:
        if cli_status(name) is not None:
            cli("down", name)
    assert left is None, "the TUI's down left the endpoint running"
    assert recall_spec(name) is None  # the TUI's down forgot the spec, as `devkit down` does
