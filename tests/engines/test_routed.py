"""The router every ``up`` puts in front of an endpoint, on each engine, through the real
scoring URI: auth, the Gateway API conformance method for weights, a header pin to a 0%
deployment, a traffic change under load, live weights in ``status``, the lifted timeout
of a debugged deployment, an unchanged ``up`` that touches nothing (router included) and
a ``down`` that leaves nothing.

One endpoint per engine for the module: the regression sample with a third deployment
(red, 0%) and a concurrency allowance high enough that 10 concurrent clients measure
routing, not the front end's 429. Tests run in file order.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from engine_helpers import SAMPLES, copy_endpoint, router_mark, unique

from devkit.engines import EndpointStatus, Engine, RunSettings
from devkit.engines.process import state as process_state
from devkit.errors import EndpointNotFound
from devkit.router import read_router_config, set_traffic
from devkit.router.keys import load_or_create_keys
from devkit.spec import load

REQUEST = (SAMPLES / "regression" / "sample-request.json").read_bytes()
PIN = "azureml-model-deployment"
SETTINGS = "request_settings:\n  max_concurrent_requests_per_instance: 8\n"
RED_TIMEOUT_MS = 1000  # red's own request timeout, so a slow request shows it in a second
RED_SCORE = """import json, time

def init():
    pass

def run(data):
    request = json.loads(data)
    if request == "slow":  # longer than red's request_timeout_ms
        time.sleep(1.5)
        return {"slept": True}
    return [0.0] * len(request["data"])  # one prediction per row, as the regression model
"""


def devkit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "devkit.cli.main", *args],
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, engine_name: str) -> Path:
    """blue 90 / green 10 / red 0, each allowed 16 requests in flight; red's code answers
    "slow" after 1.5 s, past its 1 s request timeout."""
    name = unique(f"rt-{engine_name[:4]}")
    target = copy_endpoint(SAMPLES / "regression", tmp_path_factory.mktemp("ep") / name,
                           "regression", name)
    (target / "red-code").mkdir()
    (target / "red-code" / "score.py").write_text(RED_SCORE)
    green = (target / "green.yml").read_text()
    (target / "red.yml").write_text(green.replace("name: green\n", "name: red\n")
                                    .replace("  code: .\n", "  code: red-code\n"))
    for deployment in ("blue", "green"):
        path = target / f"{deployment}.yml"
        path.write_text(path.read_text() + SETTINGS)
    red = target / "red.yml"
    # the server's own run() timeout is raised, so the 408 is the router's, never a race
    red.write_text(red.read_text() + SETTINGS + f"  request_timeout_ms: {RED_TIMEOUT_MS}\n"
                   "environment_variables:\n  SCORING_TIMEOUT_MS: '10000'\n")
    return target


@pytest.fixture(scope="module")
def started(engine: Engine, folder: Path, module_state: Path) -> Iterator[EndpointStatus]:
    endpoint = load([folder])
    status = engine.up(endpoint, RunSettings(), lambda _: None)
    yield status
    with contextlib.suppress(EndpointNotFound):
        engine.down(endpoint.name)


@pytest.fixture(scope="module")
def uri(started: EndpointStatus) -> str:
    assert started.scoring_uri is not None
    return started.scoring_uri


@pytest.fixture(scope="module")
def client(started: EndpointStatus) -> Iterator[httpx.Client]:
    key = load_or_create_keys(started.name).primary
    with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=30,
                      limits=httpx.Limits(max_connections=16)) as shared:
        yield shared


def send(client: httpx.Client, uri: str, count: int, concurrency: int = 10
         ) -> list[tuple[int, str]]:
    """``count`` requests at ``concurrency``: (status, answering deployment) each."""
    def one(_: int) -> tuple[int, str]:
        answer = client.post(uri, content=REQUEST)
        return answer.status_code, answer.headers.get(PIN, "")

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, range(count)))


def test_the_router_is_the_scoring_uri_and_checks_the_key(
        started: EndpointStatus, uri: str, client: httpx.Client) -> None:
    assert uri.startswith("http://127.0.0.1:") and uri.endswith("/score")
    assert not any(uri.startswith(u) for d in started.deployments for u in d.urls)
    answer = client.post(uri, content=REQUEST)
    assert answer.status_code == 200, answer.text
    assert answer.headers[PIN] in ("blue", "green")
    assert len(answer.json()) == 2
    assert httpx.post(uri, content=REQUEST, timeout=30).status_code == 401
    wrong = httpx.post(uri, content=REQUEST, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    secondary = load_or_create_keys(started.name).secondary
    assert httpx.post(uri, content=REQUEST, timeout=30,
                      headers={"Authorization": f"Bearer {secondary}"}).status_code == 200


def test_cli_invoke_goes_through_the_router(started: EndpointStatus) -> None:
    request = str(SAMPLES / "regression" / "sample-request.json")
    pinned = devkit("invoke", started.name, "--request-file", request, "-d", "red")
    assert pinned.returncode == 0, pinned.stderr
    assert len(json.loads(pinned.stdout)) == 2
    assert "200 OK from red" in pinned.stderr


def test_traffic_split_meets_the_gateway_api_conformance_tolerance(
        started: EndpointStatus, uri: str, client: httpx.Client) -> None:
    changed = devkit("traffic", started.name, "blue=70", "green=30")
    assert changed.returncode == 0, changed.stderr
    assert "Applied live." in changed.stdout
    weights = {"blue": 0.70, "green": 0.30, "red": 0.0}
    for _attempt in range(10):  # the conformance suite's retry budget
        results = send(client, uri, 500)
        assert {status for status, _ in results} == {200}
        counts = Counter(deployment for _, deployment in results)
        assert counts["red"] == 0  # never, in any attempt
        if all(abs(counts[name] / 500 - share) <= 0.05 for name, share in weights.items()):
            return
    pytest.fail(f"shares outside ±0.05 of {weights} in 10 attempts; last {dict(counts)}")


def test_status_shows_the_live_weights(started: EndpointStatus) -> None:
    result = devkit("status", started.name, "--json")
    assert result.returncode == 0, result.stderr
    [endpoint] = json.loads(result.stdout)
    assert list(endpoint) == ["name", "scoring_uri", "auth_mode", "engine", "deployments",
                              "router_reason", "needs_rebuild"]
    assert endpoint["scoring_uri"] == started.scoring_uri
    assert {d["name"]: d["traffic"] for d in endpoint["deployments"]} == {
        "blue": 70, "green": 30, "red": 0}


def test_header_pins_a_zero_percent_deployment(uri: str, client: httpx.Client) -> None:
    answers = [client.post(uri, content=REQUEST, headers={PIN: "red"}) for _ in range(20)]
    assert {(a.status_code, a.headers[PIN]) for a in answers} == {(200, "red")}


def test_a_traffic_change_under_steady_load_loses_no_request(
        started: EndpointStatus, uri: str, client: httpx.Client) -> None:
    results: list[tuple[int, str]] = []
    stop = threading.Event()

    def load_loop() -> None:
        while not stop.is_set():
            answer = client.post(uri, content=REQUEST)
            results.append((answer.status_code, answer.headers.get(PIN, "")))

    workers = [threading.Thread(target=load_loop) for _ in range(4)]
    for worker in workers:
        worker.start()
    try:
        for traffic in ({"green": 100}, {"blue": 100}, {"blue": 50, "green": 50},
                        {"blue": 70, "green": 30}):
            before = len(results)
            change = set_traffic(started.name, traffic)
            assert change.applied
            while len(results) < before + 40:  # let each setting carry some load
                stop.wait(0.01)
    finally:
        stop.set()
        for worker in workers:
            worker.join(30)
    statuses = Counter(status for status, _ in results)
    assert statuses == {200: len(results)}, statuses
    assert {"blue", "green"} <= {deployment for _, deployment in results}


def test_a_debugged_deployment_gets_the_lifted_timeout_at_the_router(
        started: EndpointStatus, engine: Engine, folder: Path, uri: str,
        client: httpx.Client) -> None:
    from devkit.debug.session import debug_settings
    from devkit.engines.settings import DEBUG_TIMEOUT_MS
    from devkit.ports import free_port

    def slow() -> int:
        return client.post(uri, content=b'"slow"', headers={PIN: "red"}).status_code

    endpoint = load([folder])
    assert slow() == 408  # red's own 1 s timeout, at the live router
    engine.up(endpoint, debug_settings(endpoint, "red", free_port()), lambda _: None)
    timeouts = {d["name"]: d["request_timeout_ms"]
                for d in read_router_config(started.name)["deployments"]}
    assert timeouts == {"blue": 5000, "green": 5000, "red": DEBUG_TIMEOUT_MS}
    assert slow() == 200  # a paused breakpoint's worth of time passes the router
    engine.up(endpoint, RunSettings(), lambda _: None)
    timeouts = {d["name"]: d["request_timeout_ms"]
                for d in read_router_config(started.name)["deployments"]}
    assert timeouts["red"] == RED_TIMEOUT_MS
    assert slow() == 408


def test_up_again_with_the_spec_resets_live_weights_then_touches_nothing(
        started: EndpointStatus, engine: Engine, folder: Path,
        client_if_docker: Any | None) -> None:
    set_traffic(started.name, {"blue": 50, "green": 50})
    router = router_mark(engine, client_if_docker, started.name)
    lines: list[str] = []
    status = engine.up(load([folder]), RunSettings(), lines.append)
    assert any("traffic set to the spec's blue=90 green=10 red=0" in line and
               "blue=50 green=50" in line for line in lines), lines
    assert [d.traffic for d in status.deployments] == [90, 10, 0]
    generation = read_router_config(started.name)["generation"]

    lines.clear()
    status = engine.up(load([folder]), RunSettings(), lines.append)
    assert sum(line.endswith("unchanged, left running") for line in lines) == 3
    assert any(line.startswith("router: unchanged") for line in lines), lines
    assert read_router_config(started.name)["generation"] == generation
    assert router_mark(engine, client_if_docker, started.name) == router
    assert status.scoring_uri == started.scoring_uri


def test_down_removes_the_router_and_its_state(
        started: EndpointStatus, engine: Engine, client_if_docker: Any | None,
        module_state: Path) -> None:
    router = router_mark(engine, client_if_docker, started.name)
    engine.down(started.name)
    assert not (module_state / "endpoints" / started.name).exists()
    if client_if_docker is not None:
        label = {"label": [f"devkit.endpoint={started.name}"]}
        assert client_if_docker.containers.list(all=True, filters=label) == []
        assert client_if_docker.networks.list(filters=label) == []
    else:
        assert not process_state.pid_alive(int(router.split("@")[0]), None)
    with pytest.raises(httpx.TransportError):
        httpx.get(str(started.scoring_uri), timeout=2)
