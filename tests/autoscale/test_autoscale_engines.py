"""Local autoscaling end to end, on the real engines: ``devkit up`` (the CLI, in its own
process) starts the endpoint's autoscaler, a detached host process that outlives it; a
bounded loopback load from 4 client
threads (4 in flight over 1 replica x 2 = 200%, target 70%) makes it add replicas, each
joining the router once ready; a light load after it (1 client, ~25% over 2 replicas)
lets it drain and remove them back to min_instances. Not one request may fail in
either phase, and ``status --json`` and the loop's log must say what it did and why."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from support.load import Load

from devkit import actions
from devkit.actions.access import authorization
from devkit.autoscale import daemon
from devkit.autoscale.capacity import machine_cap
from devkit.engines import get_engine, scale_record
from devkit.spec import load

ENGINES = [pytest.param("docker", marks=pytest.mark.docker), "process"]


def _wait(what: str, condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g} s")
        time.sleep(0.2)


def _devkit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "devkit.cli.main", *args],
                          capture_output=True, text=True, timeout=300)


def _active(router: str, deployment: str = "blue") -> int:
    entry = httpx.get(f"{router}/-/load.json", timeout=5).json()["deployments"][deployment]
    return int(entry["active"])


@pytest.mark.slow
@pytest.mark.parametrize("engine_name", ENGINES)
def test_scales_out_under_load_and_back_to_min_without_failing_a_request(
        engine_name: str, scaled_folder: Path, request: pytest.FixtureRequest) -> None:
    if engine_name == "docker":
        request.getfixturevalue("base_image")
    endpoint = load([scaled_folder])
    name = endpoint.name
    engine = get_engine(engine_name)
    cap, _ = machine_cap(endpoint.deployments[0], *engine.host_resources())
    most = min(3, cap or 3)
    try:
        cli = _devkit("up", str(scaled_folder), "--engine", engine_name)
        assert cli.returncode == 0, cli.stderr
        assert "blue: autoscaling 1..3 replicas at 70% utilization" in cli.stderr
        assert daemon.alive(name), scale_record.log_path(name).read_text()  # CLI gone
        router = engine.router_url(name)
        scoring = f"{router}/score"
        assert router is not None
        headers = authorization(name)
        peak = 1
        with Load(scoring, headers, clients=4, limit_s=90) as heavy:
            _wait("scaling out", lambda: _active(router) > 1)
            peak = max(peak, _active(router))
            time.sleep(2)  # polls at the new count: it must not flap back while loaded
            peak = max(peak, _active(router))
            assert _active(router) > 1
        with Load(scoring, headers, clients=1, pause_s=0.05,
                  limit_s=90) as light:
            _wait("scaling back to min", lambda: _active(router) == 1)
            time.sleep(1)
        # the leaving replicas are really gone, not just out of the router
        _wait("the drained replicas being removed",
              lambda: len([r for r in engine.scaled_replicas(name, "blue") if r.running]) == 1
              and "drained and removed" in scale_record.log_path(name).read_text())
        log = scale_record.log_path(name).read_text()
        assert heavy.total > 0 and light.total > 0
        assert dict(heavy.failures()) == {} and heavy.transport_errors == [], log
        assert dict(light.failures()) == {} and light.transport_errors == [], log
        assert 1 < peak <= most, log
        assert "scale out 1 → " in log and "scale in " in log and "drained and removed" in log
        if cap is not None and cap < 3:  # this machine holds fewer than max_instances
            assert f"this machine holds {cap} replica(s)" in log
        _wait("status.json after scale-in", lambda: scale_record.read_status(name)
              .get("blue", {}).get("current") == 1)
        shown = [d for e in actions.status(name) for d in e.to_json()["deployments"]]
        scale = shown[0]["scale"]
        assert (scale["current"], scale["min"], scale["max"]) == (1, 1, 3)
        assert scale["last_decision"] == "scale in" and "below target" in scale["reason"]
        assert scale["at"] and scale["loop"] == "running" and scale["utilization"] is not None
        json.dumps(shown)
        text = _devkit("status", name).stdout
        assert f"{name}/blue: autoscaling (running), 1 replica(s) in 1..3" in text
        assert "1 (1-3)" in text and "last decision: scale in at " in text
        # `up` again with nothing changed keeps the deployment and restarts the loop
        again = actions.up(load([scaled_folder]), engine=engine_name)
        assert again.status.deployment("blue") is not None and daemon.alive(name)
    finally:
        actions.down(name)
    assert not daemon.alive(name)
    assert not scale_record.folder(name).exists()
