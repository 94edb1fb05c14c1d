"""Router health: a replica that is gone or not ready stops getting requests at once
(passive ejection, one retry of a request that was never sent) or after its readiness
probe fails ``failure_threshold`` times (active checks), and comes back once ready; the
router's JSON and /metrics say which replica is out and why."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from router_helpers import Upstream, deployment_entry, find_free_port

FAST = {"period_s": 0.1, "timeout_s": 1, "failure_threshold": 2, "success_threshold": 1}


def health(url: str, deployment: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = httpx.get(f"{url}/-/health.json").json()["deployments"][
        deployment]
    return found


def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_replica_nothing_listens_on_is_ejected_and_its_requests_go_elsewhere(
        upstreams, router) -> None:
    blue = upstreams("blue")
    entry = deployment_entry("blue", [blue], 100)
    dead = f"http://127.0.0.1:{find_free_port()}"
    entry["replicas"] = [dead, blue.url]
    proc = router([entry])
    answers = [httpx.post(f"{proc.url}/score", content="{}").status_code for _ in range(20)]
    assert answers == [200] * 20  # the refused one was retried on blue, never failed
    assert blue.count == 20
    [out] = [r for r in health(proc.url, "blue") if r["url"] == dead]
    assert out["state"] == "ejected" and "cannot connect" in out["reason"]
    assert out["ejections"] == 1
    metrics = httpx.get(f"{proc.url}/metrics").text
    assert (f'devkit_router_replica_ready{{endpoint="test-ep",deployment="blue",'
            f'replica="{dead}"}} 0') in metrics
    assert (f'devkit_router_replica_ready{{endpoint="test-ep",deployment="blue",'
            f'replica="{blue.url}"}} 1') in metrics
    summary = httpx.get(f"{proc.url}/-/metrics.json").json()["deployments"]["blue"]
    assert summary["replicas"] == 2 and summary["replicas_ready"] == 1


def test_a_replica_that_goes_away_is_ejected_and_comes_back_when_it_listens_again(
        upstreams, router) -> None:
    one, two = upstreams("one"), upstreams("two")
    proc = router([deployment_entry("blue", [one, two], 100, readiness=FAST)])
    port = two.port
    two.stop()
    answers = [httpx.post(f"{proc.url}/score", content="{}").status_code for _ in range(30)]
    assert answers == [200] * 30
    until(lambda: not next(r for r in health(proc.url, "blue")
                           if r["url"] == two.url)["ready"])
    again = Upstream("two", port).start()
    try:
        until(lambda: all(r["ready"] for r in health(proc.url, "blue")))
        before = again.count
        for _ in range(20):
            assert httpx.post(f"{proc.url}/score", content="{}").status_code == 200
        assert again.count > before  # back in rotation
    finally:
        again.stop()


def test_failed_readiness_probes_take_a_replica_out_until_it_is_ready_again(
        upstreams, router) -> None:
    blue = upstreams("blue")
    proc = router([deployment_entry("blue", [blue], 100, readiness=FAST)])
    assert httpx.post(f"{proc.url}/score", content="{}").status_code == 200
    blue.ready_status = 503
    until(lambda: not health(proc.url, "blue")[0]["ready"])
    [out] = health(proc.url, "blue")
    assert "answered 503" in out["reason"] and "probes in a row" in out["reason"]
    refused = httpx.post(f"{proc.url}/score", content="{}")
    assert refused.status_code == 503  # the front end's "not ready"
    assert "no ready replica" in refused.json()["message"]
    assert "answered 503" in refused.json()["message"]
    count = blue.count
    blue.ready_status = 200
    until(lambda: health(proc.url, "blue")[0]["ready"])
    assert blue.count == count  # nothing reached it while it was out
    assert httpx.post(f"{proc.url}/score", content="{}").status_code == 200


def test_a_request_already_sent_is_never_retried(upstreams, router) -> None:
    one, two = upstreams("one"), upstreams("two")
    proc = router([deployment_entry("blue", [one, two], 100)])
    crashed = httpx.post(f"{proc.url}/score", content="{}", headers={"x-behave": "crash"})
    assert crashed.status_code == 502
    assert one.count + two.count == 1  # it reached one replica, and only that one
    # A dropped connection is not an ejection: the replica still listens.
    assert all(r["ready"] for r in health(proc.url, "blue"))


def test_the_only_replica_refusing_is_503_until_it_is_back(upstreams, router) -> None:
    port = find_free_port()
    entry = {"name": "blue", "replicas": [f"http://127.0.0.1:{port}"], "weight": 100,
             "readiness": FAST}
    proc = router([entry])
    # The request that finds it refusing answers 502 (unless a probe found it first).
    first = httpx.post(f"{proc.url}/score", content="{}")
    assert first.status_code in (502, 503) and "cannot connect" in first.json()["message"]
    second = httpx.post(f"{proc.url}/score", content="{}")
    assert second.status_code == 503 and "cannot connect" in second.json()["message"]
    blue = Upstream("blue", port).start()
    try:
        until(lambda: httpx.post(f"{proc.url}/score", content="{}").status_code == 200)
    finally:
        blue.stop()
