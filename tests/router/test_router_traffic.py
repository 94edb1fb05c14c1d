"""Traffic over real HTTP: weighted split, mirroring, header pin, live changes.

A real router process in front of real upstream servers on loopback.
"""

from __future__ import annotations

import asyncio
import math
import os
import signal
import time
from collections import Counter
from typing import Any

import httpx
from router_helpers import deployment_entry, write_config


async def _fire(url: str, count: int, concurrency: int,
                headers: dict[str, str] | None = None) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    semaphore = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        async def one(i: int) -> httpx.Response:
            async with semaphore:
                return await client.post(f"{url}/score", content=f'{{"i": {i}}}',
                                         headers=headers)
        return await asyncio.gather(*(one(i) for i in range(count)))


def fire(url: str, count: int, concurrency: int = 10, **kw: Any) -> list[httpx.Response]:
    return asyncio.run(_fire(url, count, concurrency, **kw))


def test_weighted_split_meets_the_gateway_api_conformance_method(upstreams, router) -> None:
    """70/30/0, 500 requests at 10 concurrent, each share within ±0.05, none to the 0%
    deployment; up to 10 attempts as the Gateway API conformance suite allows."""
    blue, green, red = upstreams("blue"), upstreams("green"), upstreams("red")
    proc = router([deployment_entry("blue", [blue], 70), deployment_entry("green", [green], 30),
                   deployment_entry("red", [red], 0)])
    for _attempt in range(10):
        responses = fire(proc.url, 500)
        assert all(r.status_code == 200 for r in responses)
        shares = Counter(r.headers["azureml-model-deployment"] for r in responses)
        assert shares["red"] == 0 and red.count == 0
        if abs(shares["blue"] / 500 - 0.7) <= 0.05 and abs(shares["green"] / 500 - 0.3) <= 0.05:
            break
    else:
        raise AssertionError(f"split outside tolerance in 10 attempts: {shares}")
    # the header names the deployment that really answered
    assert all(r.json()["deployment"] == r.headers["azureml-model-deployment"]
               for r in responses)


def _mirror_run(upstreams, router, percent: int) -> None:
    blue, shadow = upstreams("blue"), upstreams("shadow")
    proc = router([deployment_entry("blue", [blue], 100),
                   deployment_entry("shadow", [shadow], 0, mirror=percent)])
    n = 500
    responses = fire(proc.url, n)
    assert all(r.status_code == 200 for r in responses)
    # no mirrored answer ever reaches the client
    assert {r.json()["deployment"] for r in responses} == {"blue"}
    assert {r.headers["azureml-model-deployment"] for r in responses} == {"blue"}
    mirrored = _settled(lambda: shadow.count)
    p = percent / 100
    spread = 3 * math.sqrt(n * p * (1 - p))
    assert n * p - spread <= mirrored <= n * p + spread, (mirrored, n * p, spread)
    stats = httpx.get(f"{proc.url}/-/metrics.json").json()["deployments"]
    assert stats["shadow"]["mirrored"] == mirrored and stats["shadow"]["requests"] == 0


def _settled(read: Any) -> int:
    """The value once it stops changing (mirror copies finish in the background)."""
    last = -1
    for _ in range(50):
        value = read()
        if value == last:
            return int(value)
        last = value
        time.sleep(0.1)
    return int(last)


def test_mirror_20_percent(upstreams, router) -> None:
    _mirror_run(upstreams, router, 20)


def test_mirror_50_percent(upstreams, router) -> None:
    _mirror_run(upstreams, router, 50)


def test_failing_mirror_never_changes_the_client_response(upstreams, router) -> None:
    blue = upstreams("blue")
    proc = router([deployment_entry("blue", [blue], 100),
                   deployment_entry("shadow", [], 0, mirror=50)])  # nothing to mirror to
    responses = fire(proc.url, 100)
    assert {r.status_code for r in responses} == {200}
    stats = httpx.get(f"{proc.url}/-/metrics.json").json()["deployments"]["shadow"]
    assert stats["mirror_failed"] == stats["mirrored"] > 0


def test_header_pins_a_zero_percent_deployment(upstreams, router) -> None:
    blue, green = upstreams("blue"), upstreams("green")
    proc = router([deployment_entry("blue", [blue], 100), deployment_entry("green", [green], 0)])
    responses = fire(proc.url, 50, headers={"azureml-model-deployment": "green"})
    assert {r.json()["deployment"] for r in responses} == {"green"}
    assert green.count == 50 and blue.count == 0


def test_replicas_share_the_load_over_kept_alive_connections(upstreams, router) -> None:
    one, two = upstreams("blue"), upstreams("blue")
    proc = router([deployment_entry("blue", [one, two], 100)])
    fire(proc.url, 400, concurrency=4)
    assert one.count > 100 and two.count > 100
    # keep-alive: connections are reused, not opened per request
    assert one.connections + two.connections <= 16


def test_traffic_change_under_steady_load_loses_no_request(upstreams, router) -> None:
    blue, green = upstreams("blue"), upstreams("green")
    entries = [deployment_entry("blue", [blue], 100), deployment_entry("green", [green], 0)]
    proc = router(entries)

    async def until(condition: Any) -> None:
        for _ in range(400):
            if condition():
                return
            await asyncio.sleep(0.025)
        raise AssertionError("load did not progress")

    async def scenario() -> list[int]:
        statuses: list[int] = []
        stop = asyncio.Event()
        async with httpx.AsyncClient(timeout=10) as client:
            async def worker() -> None:
                while not stop.is_set():
                    answer = await client.post(f"{proc.url}/score", content="{}")
                    statuses.append(answer.status_code)

            workers = [asyncio.create_task(worker()) for _ in range(8)]
            await until(lambda: blue.count >= 200)
            entries[0]["weight"], entries[1]["weight"] = 0, 100
            write_config(proc.config_path, entries, generation=2)
            await until(lambda: green.count >= 200)  # the change landed mid-load
            stop.set()
            await asyncio.gather(*workers)
        return statuses

    statuses = asyncio.run(scenario())
    assert set(statuses) == {200} and len(statuses) >= 400
    proc.wait_ready(generation=2)
    after = fire(proc.url, 50)
    assert {r.json()["deployment"] for r in after} == {"green"}


def test_sighup_reloads_and_a_bad_file_keeps_the_last_good_config(upstreams, router) -> None:
    blue = upstreams("blue")
    proc = router([deployment_entry("blue", [blue], 100)])
    proc.config_path.write_text('{"version": 1, "generation": 2')  # truncated JSON
    os.kill(proc.process.pid, signal.SIGHUP)
    for _ in range(100):
        described = httpx.get(f"{proc.url}/-/config").json()
        if described["last_error"]:
            break
        time.sleep(0.05)
    assert "cannot be read as JSON" in described["last_error"]
    assert described["generation"] == 1
    assert httpx.post(f"{proc.url}/score", content="{}").status_code == 200
    applied = (proc.config_path.parent / "router.applied.json").read_text()
    assert '"generation": 1' in applied and "error" in applied
