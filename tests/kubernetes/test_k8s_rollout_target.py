"""``devkit rollout --target`` on Kubernetes, against the real CRD API server: the rollout
steps the HTTPRoute's weights (read back from the server at every step); without a
metrics source it refuses before touching anything, saying it cannot check health from
the cluster; ``--unchecked`` steps the weights with no check; with ``--metrics-url`` it
judges the candidate and rolls the route back on a failed check.

The server runs no pods, so the counters ``--metrics-url`` reads come from a small HTTP
exporter on loopback (the router's /-/metrics.json format) whose request counts follow
the weights the live HTTPRoute has at each read, with a given error rate per deployment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from k8s_server import ApiServer
from k8s_specs import images, write_endpoint

from devkit.actions.rollout import COMPLETED, Event, RolloutPlan, rollout
from devkit.actions.target_view import target_view
from devkit.errors import RouterError
from devkit.promote.kubernetes import apply, client, render, route
from devkit.promote.kubernetes.target import from_release
from devkit.promote.release import Release, deployment_release

pytestmark = pytest.mark.slow
PER_READ = 400  # requests the exporter counts per read, split by the live weights
BUCKETS = 14  # the router's latency buckets (13 bounds and the overflow)


@pytest.fixture
def crd(api_server: ApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
        ) -> Iterator[tuple[client.Cluster, str]]:
    """Endpoint ``split`` (blue 100, green 0, failing 0) as its HTTPRoute on the server,
    and a targets file naming the server as target ``crd``."""
    settings = api_server.settings()
    config = tmp_path / "config"
    config.mkdir()
    (config / "targets.yml").write_text(yaml.safe_dump({"targets": {"crd": {
        "kind": "kubernetes", "kubeconfig": api_server.kubeconfig,
        "namespace": settings.namespace, "registry": "127.0.0.1:5999"}}}))
    monkeypatch.setenv("DEVKIT_CONFIG_DIR", str(config))
    endpoint = write_endpoint(tmp_path / "ep", "split", {"blue": 100, "green": 0,
                                                         "failing": 0})
    refs = images(endpoint).images
    release = Release("split", "key", dict(endpoint.spec.traffic), {},
                      tuple(deployment_release(d, refs[d.name]) for d in endpoint.deployments),
                      "127.0.0.1:5999/devkit/router:1")
    cluster = client.connect(settings)
    manifests = render.render_release(from_release(release), cluster.settings)
    apply.apply(cluster, "split", [m for m in manifests if m["kind"] == "HTTPRoute"],
                release=release.to_json())
    yield cluster, str(config)


def _weights(cluster: client.Cluster) -> dict[str, int]:
    live = cluster.get(route.API_VERSION, "HTTPRoute", "split")
    assert live is not None
    return {name: weight for name, weight in route.traffic_of(live)[0].items() if weight}


class Exporter:
    """/-/metrics.json whose counts follow the live route: each read adds PER_READ
    requests split by the weights, ``error_rates`` of them failing."""

    def __init__(self, cluster: client.Cluster, error_rates: dict[str, float]) -> None:
        self.cluster, self.error_rates = cluster, error_rates
        self.counts: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's spelling)
                body = json.dumps(exporter.read()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/-/metrics.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def read(self) -> dict[str, Any]:
        with self.lock:
            for name, weight in _weights(self.cluster).items():
                entry = self.counts.setdefault(
                    name, {"requests": 0, "errors": 0, "bucket_counts": [0] * BUCKETS})
                served = PER_READ * weight // 100
                entry["requests"] += served
                entry["errors"] += round(served * self.error_rates.get(name, 0.0))
                entry["bucket_counts"][3] += served  # every answer within 10 ms
            return {"deployments": self.counts}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _devkit(config: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEVKIT_CONFIG_DIR": config}
    return subprocess.run([sys.executable, "-m", "devkit.cli.main", *args], env=env,
                          capture_output=True, text=True, timeout=300)


def test_without_metrics_it_refuses_before_touching_the_route(
        crd: tuple[client.Cluster, str]) -> None:
    cluster, config = crd
    done = _devkit(config, "rollout", "split", "green", "--target", "crd")
    assert done.returncode != 0
    assert "cannot check a deployment's health from the cluster" in done.stderr
    assert "--metrics-url" in done.stderr and "--unchecked" in done.stderr
    assert "Traceback" not in done.stderr
    assert _weights(cluster) == {"blue": 100}


def test_unchecked_steps_the_httproute_weights(crd: tuple[client.Cluster, str]) -> None:
    cluster, _ = crd
    seen: list[dict[str, int]] = []

    def record(event: Event) -> None:
        if event.kind == "step":
            seen.append(_weights(cluster))  # what the server holds once the step is set

    view = target_view("crd", "split")
    assert view.unmeasured is not None and not view.shadow_diff
    outcome = rollout(view, "green", RolloutPlan(steps=(25, 50, 100), interval_s=0.05,
                                                 checked=False), on_event=record)
    assert outcome.result == COMPLETED
    assert seen == [{"blue": 75, "green": 25}, {"blue": 50, "green": 50}, {"green": 100}]
    assert "UNCHECKED" in outcome.events[0].message
    assert all(e.passed is None for e in outcome.events if e.kind == "check")


def test_with_a_metrics_url_a_healthy_candidate_reaches_100_percent(
        crd: tuple[client.Cluster, str]) -> None:
    cluster, _ = crd
    exporter = Exporter(cluster, {})
    try:
        outcome = rollout(target_view("crd", "split", exporter.url), "green",
                          RolloutPlan(steps=(10, 50, 100), interval_s=0.05, min_requests=30,
                                      max_wait_s=5.0))
    finally:
        exporter.close()
    assert outcome.result == COMPLETED, outcome.reason
    assert _weights(cluster) == {"green": 100}
    assert [e.step for e in outcome.events if e.kind == "check" and e.passed] == [10, 50, 100]


def test_with_a_metrics_url_a_failing_candidate_is_rolled_back_through_the_cli(
        crd: tuple[client.Cluster, str]) -> None:
    cluster, config = crd
    exporter = Exporter(cluster, {"failing": 0.05})
    try:
        done = _devkit(config, "rollout", "split", "failing", "--target", "crd",
                       "--metrics-url", exporter.url, "--steps", "20,50,100", "--interval",
                       "100ms", "--min-requests", "50", "--max-wait", "10s", "--json")
    finally:
        exporter.close()
    assert done.returncode == 9, (done.stdout, done.stderr)
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert [e["step"] for e in events if e["event"] == "step"] == [20]
    assert events[-1]["event"] == "rollback"
    assert "failing's error rate 5.0%" in events[-1]["message"]
    assert _weights(cluster) == {"blue": 100}


def test_a_metrics_url_that_is_not_a_url_is_refused(crd: tuple[client.Cluster, str]) -> None:
    with pytest.raises(RouterError, match="not an http"):
        target_view("crd", "split", "localhost:9090")
