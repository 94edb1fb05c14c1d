"""``rollout`` on a real endpoint (process engine) under a steady load of real clients:
a healthy candidate reaches 100%, one failing 5% of requests is rolled back at the first
step with the reason, and no request fails because of the rollout itself.

Intervals are 1 s; a step is judged only after the candidate answered --min-requests, so
nothing here depends on how fast the machine is."""

from __future__ import annotations

import json
import subprocess
import sys

from actions_helpers import Load

from devkit.actions.rollout import COMPLETED, ROLLED_BACK, Event, RolloutPlan, rollout
from devkit.actions.router_view import local_view
from devkit.engines import EndpointStatus


def test_a_healthy_candidate_reaches_100_percent_and_no_request_fails(
        endpoint: EndpointStatus) -> None:
    view = local_view(endpoint.name)
    view.set_traffic({"blue": 100}, {"green": 50})  # mirrored first: the shadow diff counts
    events: list[Event] = []
    # Latency is judged with a wide margin: on a shared machine two identical deployments'
    # p99 differ by scheduling noise, and this test is about the traffic machinery.
    plan = RolloutPlan(steps=(10, 50, 100), interval_s=1.0, min_requests=50,
                       max_p99_ratio=3.0, p99_slack_ms=50.0, max_wait_s=60.0)
    with Load(view.scoring_uri, dict(view.headers)) as load:
        outcome = rollout(view, "green", plan, on_event=events.append)
    assert outcome.result == COMPLETED, outcome.reason
    assert {n: w for n, w in outcome.traffic.items() if w} == {"green": 100}
    assert view.traffic().traffic["green"] == 100 and view.traffic().mirror == {}
    kinds = [e.kind for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done"
    assert kinds.index("shadow") < kinds.index("step")  # judged before any live traffic
    assert [e.step for e in events if e.kind == "check"] == [10, 50, 100]
    assert all(e.passed for e in events if e.kind == "check")
    assert load.total > 0 and load.failures() == {} and load.transport_errors == []
    assert {deployment for _, deployment, _ in load.answers} == {"blue", "green"}


def test_a_candidate_failing_5_percent_is_rolled_back_at_the_first_step(
        endpoint: EndpointStatus) -> None:
    """Through the CLI with --json; the only failed requests are the candidate's own
    (424 with the model's 500), none from the traffic changes."""
    view = local_view(endpoint.name)
    view.set_traffic({"blue": 100}, {})
    with Load(view.scoring_uri, dict(view.headers)) as load:
        done = subprocess.run(
            [sys.executable, "-m", "devkit.cli.main", "rollout", endpoint.name, "failing",
             "--steps", "20,50,100", "--interval", "1s", "--min-requests", "300",
             "--max-error-rate", "1%", "--max-wait", "60s", "--json"],
            capture_output=True, text=True, timeout=300)
    assert done.returncode == 9, (done.stdout, done.stderr)
    events = [json.loads(line) for line in done.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[:2] == ["start", "step"] and kinds[-1] == "rollback"
    assert set(kinds[2:-1]) <= {"wait"}  # no check passed before the rollback
    assert [e["step"] for e in events if e["event"] == "step"] == [20]
    rollback = events[-1]
    assert rollback["event"] == "rollback" and rollback["passed"] is False
    assert "failing's error rate" in rollback["message"]
    assert "exceeds --max-error-rate 1.0%" in rollback["message"]
    assert "rolled back" in done.stderr and "error rate" in done.stderr
    assert {n: w for n, w in view.traffic().traffic.items() if w} == {"blue": 100}
    failures = load.failures()
    assert failures, "the failing candidate never failed under load"
    assert set(failures) == {(424, "failing", "500")}
    assert load.transport_errors == []


def test_a_slow_candidate_fails_the_p99_check(endpoint: EndpointStatus) -> None:
    """Same plan, a candidate slower than blue by far more than the slack: its p99 ratio
    decides (error rate 0%)."""
    view = local_view(endpoint.name)
    view.set_traffic({"blue": 100}, {})
    plan = RolloutPlan(steps=(50, 100), interval_s=1.0, min_requests=30,
                       max_p99_ratio=1.5, p99_slack_ms=5.0, max_wait_s=60.0)
    with Load(view.scoring_uri, dict(view.headers)) as load:
        outcome = rollout(view, "slow", plan)
    assert outcome.result == ROLLED_BACK
    assert "slow's p99" in outcome.reason and "--max-p99-ratio 1.5" in outcome.reason
    assert view.traffic().traffic["blue"] == 100
    assert load.failures() == {}
