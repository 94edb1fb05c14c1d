"""What local autoscaling reads from the router and how it drains a replica: a real
router process in front of real upstream servers on loopback.

``/-/load.json`` publishes, per deployment, the requests in flight (+ queued), the active
and draining replicas and a running tally of in-flight samples; a replica listed under
``draining`` gets no new request while the ones it serves finish.
"""

from __future__ import annotations

import threading
import time

import httpx
from router_helpers import deployment_entry, write_config


def _slow_requests(url: str, count: int, ms: int) -> tuple[list[threading.Thread], list[int]]:
    codes: list[int] = []

    def one() -> None:
        answer = httpx.post(f"{url}/score", content=b"{}", headers={"x-behave": f"slow={ms}"},
                            timeout=30)
        codes.append(answer.status_code)

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads, codes


def _load(url: str) -> dict:
    return httpx.get(f"{url}/-/load.json", timeout=5).json()


def _wait(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_load_counts_in_flight_and_samples_it(upstreams, router) -> None:
    blue = upstreams("blue")
    proc = router([deployment_entry("blue", [blue], 100,
                                    max_concurrent_requests_per_instance=2)])
    idle = _load(proc.url)["deployments"]["blue"]
    assert (idle["in_flight"], idle["active"], idle["utilization"]) == (0, 1, 0.0)
    threads, codes = _slow_requests(proc.url, 3, 1500)
    _wait(lambda: _load(proc.url)["deployments"]["blue"]["in_flight"] == 3)
    time.sleep(0.5)  # a few samples taken while 3 are in flight
    busy = _load(proc.url)["deployments"]["blue"]
    assert busy["utilization"] == 1.5  # 3 over 1 replica x 2
    assert busy["replicas"] == [{"url": blue.url, "in_flight": 3, "draining": False}]
    assert busy["samples"] > idle["samples"]
    assert busy["in_flight_sum"] >= 3 * 2  # at least two samples saw all three
    for thread in threads:
        thread.join()
    assert codes == [200, 200, 200]
    metrics = httpx.get(f"{proc.url}/metrics", timeout=5).text
    assert 'devkit_router_replicas{endpoint="test-ep",deployment="blue",state="active"} 1' \
        in metrics
    assert 'devkit_router_utilization{endpoint="test-ep",deployment="blue"} 0.0' in metrics


def test_a_draining_replica_gets_no_new_request_and_finishes_its_own(upstreams,
                                                                      router) -> None:
    first, second = upstreams("blue"), upstreams("blue")
    entry = deployment_entry("blue", [first, second], 100)
    proc = router([entry])
    threads, codes = _slow_requests(proc.url, 4, 1500)
    _wait(lambda: first.count + second.count == 4)
    assert first.count and second.count  # least in flight spreads them
    before = second.count
    write_config(proc.config_path, [{**entry, "draining": [second.url]}], generation=2)
    proc.wait_ready(generation=2)
    drained = _load(proc.url)["deployments"]["blue"]
    assert (drained["active"], drained["draining"]) == (1, 1)
    on_second = next(r for r in drained["replicas"] if r["url"] == second.url)
    assert on_second["draining"] and on_second["in_flight"] == before  # still finishing
    answers = [httpx.post(f"{proc.url}/score", content=b"{}", timeout=10) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 6
    assert second.count == before  # nothing new reached the draining replica
    for thread in threads:
        thread.join()
    assert codes == [200] * 4  # the requests it was serving finished normally
    _wait(lambda: next(r for r in _load(proc.url)["deployments"]["blue"]["replicas"]
                       if r["url"] == second.url)["in_flight"] == 0)


def test_a_draining_replica_must_be_one_of_the_replicas(upstreams, router) -> None:
    blue = upstreams("blue")
    entry = deployment_entry("blue", [blue], 100)
    proc = router([entry])
    write_config(proc.config_path, [{**entry, "draining": ["http://127.0.0.1:1"]}],
                 generation=2)
    deadline = time.monotonic() + 5
    while "draining replicas" not in httpx.get(f"{proc.url}/-/config").json()["last_error"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert httpx.get(f"{proc.url}/-/config").json()["generation"] == 1  # kept the good one
