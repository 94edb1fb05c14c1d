"""What ``devkit status`` (text and ``--json``) and the TUI show of an autoscaled
deployment, from the status the engines read back (the loop's ``scale`` object)."""

from __future__ import annotations

from rich.console import Console

from devkit.cli.commands.status import render_table, scale_sentence
from devkit.engines.status import DeploymentState, DeploymentStatus, EndpointStatus
from devkit.tui.views import from_status
from devkit.tui.widgets.endpoint_tree import deployment_label
from devkit.tui.widgets.overview import details

SCALE = {"current": 2, "min": 1, "max": 3, "target": 70, "utilization": 1.25,
         "last_decision": "scale out", "reason": "utilization 200% (...): above target, 1 → 2",
         "at": "2026-12-01T23:50:00+00:00", "loop": "running",
         "capped": "capped at 2: this machine holds 2 replica(s) (2 cores ...)"}


def _status(scale=SCALE) -> EndpointStatus:
    blue = DeploymentStatus("blue", DeploymentState.READY, 2, 100, 0, "img", scale=scale)
    return EndpointStatus("scaled", "http://127.0.0.1:1/score", "key", "docker", (blue,))


def test_status_json_has_the_scale_object_and_null_for_a_fixed_count() -> None:
    assert _status().to_json()["deployments"][0]["scale"] == SCALE
    assert _status(None).to_json()["deployments"][0]["scale"] is None


def test_status_text_shows_bounds_and_the_last_decision() -> None:
    assert "2 (1-3)" in render_table([_status()])
    sentence = scale_sentence(SCALE)
    assert "2 replica(s) in 1..3, utilization 125% (target 70%)" in sentence
    assert "last decision: scale out at 2026-12-01T23:50:00+00:00: utilization 200%" in sentence
    assert "this machine holds 2 replica(s)" in sentence


def test_the_tui_overview_and_tree_show_it() -> None:
    view = from_status(_status(), None)
    console = Console(width=200, record=True)
    console.print(details(view, "blue"))
    text = console.export_text()
    assert "autoscale" in text and "2 in 1..3, utilization 125% (target 70%)" in text
    assert "last scaling" in text and "scale out at 2026-12-01T23:50:00" in text
    assert "capped at 2" in text
    assert "2/2 (1-3)" in deployment_label(view.deployments[0]).plain
