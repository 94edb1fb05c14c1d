"""``devkit rollout --target`` on a real single-node swarm with a real registry: the same
action as locally, reading the router service's counters over its published loopback
port. The ``shadow`` fixture of tests/actions is promoted with blue live, green identical
to it and ``failing`` (5% of requests raise); under a steady load of real clients a
rollout to green (mirrored first) reaches 100%, one to failing is rolled back at its
first step with the reason, and the TUI starts, shows and aborts one.

Intervals are 1 s; a step is judged only once the candidate answered --min-requests, so
nothing here depends on how fast the machine is. Tests run in file order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.load import Load

from devkit.actions import targets as ops
from devkit.actions.promote import PromoteOptions, promote
from devkit.actions.rollout import COMPLETED, STOPPED, Event, RolloutPlan, rollout
from devkit.actions.target_view import target_view
from devkit.errors import EndpointNotFound

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(900)]

SHADOW = Path(__file__).resolve().parents[1] / "actions" / "fixtures" / "shadow"
PROBE = ("readiness_probe:\n  initial_delay: 1\n  period: 1\n  timeout: 2\n"
         "  failure_threshold: 30\n")
VARIANTS = {"green": '  SKEW_FRACTION: "0"\n', "failing": '  FAIL_FRACTION: "0.05"\n'}


def _spec(root: Path) -> tuple[str, Path]:
    name = f"roll-{uuid.uuid4().hex[:6]}"
    folder = root / name
    shutil.copytree(SHADOW, folder)
    blue = (folder / "blue.yml").read_text()
    for deployment, env in VARIANTS.items():
        text = blue.replace("name: blue\n", f"name: {deployment}\n")
        (folder / f"{deployment}.yml").write_text(
            text.replace('  SKEW_FRACTION: "0"\n', env))
    for spec in folder.glob("*.yml"):
        text = spec.read_text().replace("name: shadow\n", f"name: {name}\n")
        text = text.replace("endpoint_name: shadow\n", f"endpoint_name: {name}\n")
        spec.write_text(text + (PROBE if "endpoint_name:" in text else ""))
    return name, folder


@pytest.fixture(scope="module")
def promoted(base_image: str, target_config: str,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    name, folder = _spec(tmp_path_factory.mktemp("spec"))
    try:
        result = promote(str(folder), PromoteOptions(target=target_config, overcommit=True),
                         lambda line: None, lambda plan: True)
        assert result.applied and result.status is not None and result.status.healthy
        yield name
    finally:
        with contextlib.suppress(EndpointNotFound):
            ops.down(target_config, name, lambda line: None)


def _weights(target: str, name: str) -> dict[str, int]:
    [status] = ops.status(target, name)
    return {d.name: d.traffic for d in status.deployments if d.traffic}


def test_a_healthy_candidate_reaches_100_percent_on_the_swarm(
        promoted: str, target_config: str) -> None:
    view = target_view(target_config, promoted)
    assert view.unmeasured is None and view.shadow_diff
    assert view.origin.startswith("http://127.0.0.1:")  # the router's published port
    view.set_traffic({"blue": 100}, {"green": 50})  # mirrored first: the shadow diff counts
    events: list[Event] = []
    # Latency is judged with a wide margin: on a shared machine two identical services'
    # p99 differ by scheduling noise (7x was seen), and this test is about the machinery.
    plan = RolloutPlan(steps=(10, 50, 100), interval_s=1.0, min_requests=50,
                       max_p99_ratio=3.0, p99_slack_ms=1000.0, max_wait_s=60.0)
    with Load(view.scoring_uri, dict(view.headers)) as load:
        outcome = rollout(view, "green", plan, on_event=events.append)
    assert outcome.result == COMPLETED, outcome.reason
    assert _weights(target_config, promoted) == {"green": 100}
    kinds = [e.kind for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done"
    shadow = next(e for e in events if e.kind == "shadow")
    assert shadow.passed and shadow.details["compared"] >= 50  # the swarm router's diff
    assert [e.step for e in events if e.kind == "check"] == [10, 50, 100]
    assert load.total > 0 and load.failures() == {} and load.transport_errors == []


def test_a_candidate_failing_5_percent_is_rolled_back_with_the_reason(
        promoted: str, target_config: str) -> None:
    """Through the CLI, as a script would run it; only the candidate's own requests fail."""
    ops.traffic(target_config, promoted, {"blue": 100}, {})
    view = target_view(target_config, promoted)
    with Load(view.scoring_uri, dict(view.headers)) as load:
        done = subprocess.run(
            [sys.executable, "-m", "devkit.cli.main", "rollout", promoted, "failing",
             "--target", target_config, "--steps", "20,50,100", "--interval", "1s",
             "--min-requests", "300", "--max-error-rate", "1%", "--max-wait", "60s",
             "--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 9, (done.stdout, done.stderr)
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert [e["step"] for e in events if e["event"] == "step"] == [20]
    assert events[-1]["event"] == "rollback"
    assert "failing's error rate" in events[-1]["message"]
    assert "exceeds --max-error-rate 1.0%" in events[-1]["message"]
    assert "rolled back" in done.stderr and f"--target {target_config}" in done.stderr
    assert _weights(target_config, promoted) == {"blue": 100}
    assert set(load.failures()) == {(424, "failing", "500")}
    assert load.transport_errors == []


def test_the_tui_starts_shows_and_aborts_a_rollout_on_the_target(
        promoted: str, target_config: str) -> None:
    from textual.app import App
    from textual.widgets import Input

    from devkit.tui.backend import Backend
    from devkit.tui.screens.rollout import RolloutScreen
    from devkit.tui.screens.side_by_side import SideBySideScreen

    ops.traffic(target_config, promoted, {"blue": 100}, {})
    backend = Backend(engines=[])
    view = next(v for v in backend.snapshot().endpoints
                if v.name == f"{promoted}@{target_config}")

    async def drive() -> tuple[Any, list[str]]:
        app: App[None] = App()
        async with app.run_test(size=(120, 40)) as pilot:
            screen = SideBySideScreen(backend, view, poll_s=0.5)
            app.push_screen(screen)
            await _until(pilot, lambda: screen.report is not None, "the first poll")
            await pilot.press("R")
            await _until(pilot, lambda: isinstance(app.screen, RolloutScreen), "the modal")
            for field, value in {"r-candidate": "green", "r-steps": "50,100",
                                 "r-interval": "30s", "r-min-requests": "10"}.items():
                app.screen.query_one(f"#{field}", Input).value = value
            await pilot.press("ctrl+s")
            await _until(pilot, lambda: "green at 50%, blue at 50%." in screen.rollout_lines,
                         "the first step")
            await pilot.press("a")
            await _until(pilot, lambda: screen.outcome is not None, "the abort")
            return screen.outcome, screen.rollout_lines

    outcome, lines = asyncio.run(drive())
    assert outcome is not None and outcome.result == STOPPED
    assert "Stopped; traffic stays" in lines[-1]
    assert _weights(target_config, promoted) == {"blue": 50, "green": 50}


async def _until(pilot: Any, condition: Any, what: str, timeout_s: float = 90) -> None:
    for _ in range(int(timeout_s / 0.2)):
        if condition():
            return
        await pilot.pause(0.2)
    raise AssertionError(f"timed out waiting for {what}")
