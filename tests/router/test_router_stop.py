"""The router's graceful stop (server.py): on SIGTERM it stops accepting, lets the answer
in flight go out, then exits."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from router_helpers import deployment_entry


def test_a_stop_lets_the_answer_in_flight_finish(upstreams, router) -> None:
    blue = upstreams("blue")
    proc = router([deployment_entry("blue", [blue], 100)])
    with ThreadPoolExecutor(1) as threads:
        answer = threads.submit(httpx.post, f"{proc.url}/score", content="{}",
                                headers={"x-behave": "slow=1500"}, timeout=20)
        deadline = time.monotonic() + 10
        while httpx.get(f"{proc.url}/-/metrics.json").json()["deployments"].get(
                "blue", {}).get("in_flight") != 1:
            assert time.monotonic() < deadline, "the slow request never reached blue"
            time.sleep(0.02)
        proc.process.terminate()
        assert answer.result().status_code == 200
    assert proc.process.wait(15) == 0
