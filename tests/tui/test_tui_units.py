"""The TUI's pure parts: metrics history arithmetic and how views merge spec and engine."""

from __future__ import annotations

from devkit.reload import ReplicaReload
from devkit.spec.model import Endpoint
from devkit.tui.history import MetricsHistory
from devkit.tui.views import InvokeResult, Metrics, from_spec, with_state
from devkit.tui.widgets.overview import reload_text


def test_rates_come_from_counter_deltas_over_poll_time() -> None:
    history = MetricsHistory()
    history.record("ep", {"blue": Metrics(requests=10, p99_ms=4.0)}, now=100.0)
    history.record("ep", {"blue": Metrics(requests=30, p99_ms=6.0), "": Metrics(3)}, now=102.0)
    series = history.of("ep", "blue")
    assert list(series.rps) == [10.0]
    assert list(series.p99) == [4.0, 6.0]
    assert series.latest is not None and series.latest.requests == 30
    assert ("ep", "") not in history._series  # refusals before routing are not a deployment


def test_a_router_restart_never_gives_a_negative_rate() -> None:
    history = MetricsHistory()
    history.record("ep", {"blue": Metrics(requests=50)}, now=1.0)
    history.record("ep", {"blue": Metrics(requests=2)}, now=2.0)
    assert list(history.of("ep", "blue").rps) == [0.0]


def test_metrics_parse_the_router_json() -> None:
    raw = {"requests": 5, "errors": 1, "by_status": {"200": 4, "424": 1}, "in_flight": 0,
           "p50_ms": 1.5, "p99_ms": 9.0, "mirrored": 0}
    parsed = Metrics.from_json(raw)
    assert parsed.by_status == {"200": 4, "424": 1} and parsed.p99_ms == 9.0


def test_a_stopped_spec_shows_its_weights_and_sample(regression_spec: Endpoint) -> None:
    view = from_spec(regression_spec)
    assert not view.running
    assert [(d.name, d.state, d.traffic, d.wanted) for d in view.deployments] == [
        ("blue", "stopped", 90, 1), ("green", "stopped", 10, 1)]
    assert view.request_file is not None and view.request_file.name == "sample-request.json"
    busy = with_state(view, "green", "reloading")
    assert [d.state for d in busy.deployments] == ["stopped", "reloading"]


def test_reload_and_invoke_sentences() -> None:
    ok = ReplicaReload("blue", 0, True, 12.0, 3)
    bad = ReplicaReload("blue", 0, False, 5.0, 3, "SyntaxError: invalid syntax", "score.py", 7)
    first = ReplicaReload("blue", 0, True, 900.0, 1)  # the first load is not a reload
    assert reload_text(ok, "blue").plain == "last reload: reloaded blue in 12 ms (generation 3)"
    assert reload_text(first, "blue").plain.endswith("loaded blue in 900 ms (generation 1)")
    shown = reload_text(bad, "blue").plain
    assert "score.py:7" in shown and "previous version keeps serving" in shown
    result = InvokeResult("endpoint", "u", 200, "OK", "blue", (), '{"a": 1}', 3.25)
    assert result.pretty_body() == '{\n  "a": 1\n}' and result.summary().endswith("3.2 ms")
