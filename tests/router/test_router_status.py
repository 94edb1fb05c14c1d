"""The managed front end's status codes, each provoked for real, plus request ids,
metrics and the router's own routes."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
from router_helpers import deployment_entry


def test_404_when_no_deployment_has_traffic(upstreams, router) -> None:
    blue = upstreams("blue")
    proc = router([deployment_entry("blue", [blue], 0)])
    answer = httpx.post(f"{proc.url}/score", content="{}")
    assert answer.status_code == 404
    assert "devkit traffic" in answer.json()["message"]
    assert blue.count == 0


def test_404_for_an_unknown_pinned_deployment_names_the_real_ones(upstreams, router) -> None:
    blue = upstreams("blue")
    proc = router([deployment_entry("blue", [blue], 100)])
    answer = httpx.post(f"{proc.url}/score", content="{}",
                        headers={"azureml-model-deployment": "purple"})
    assert answer.status_code == 404
    assert "'purple'" in answer.json()["message"] and "blue" in answer.json()["message"]


def test_408_past_the_request_timeout(upstreams, router) -> None:
    blue = upstreams("blue")
    proc = router([deployment_entry("blue", [blue], 100, request_timeout_ms=200)])
    answer = httpx.post(f"{proc.url}/score", content="{}", headers={"x-behave": "slow=2000"},
                        timeout=10)
    assert answer.status_code == 408
    assert answer.headers["azureml-model-deployment"] == "blue"
    assert "200 ms" in answer.json()["message"]
    # the router keeps serving the same replica afterwards
    assert httpx.post(f"{proc.url}/score", content="{}").status_code == 200


def test_each_request_keeps_its_own_deadline(upstreams, router) -> None:
    """One timer keeps every request's request_timeout_ms (router/deadlines.py): a short
    deadline set after a long one still fires, on a reused connection, and the long one
    is not cut short by it."""
    blue, green = upstreams("blue"), upstreams("green")
    proc = router([deployment_entry("blue", [blue], 100, request_timeout_ms=8000),
                   deployment_entry("green", [green], 0, request_timeout_ms=200)])
    pin_green = {"azureml-model-deployment": "green"}
    assert httpx.post(f"{proc.url}/score", content="{}", headers=pin_green).status_code == 200

    async def both() -> list[int]:
        async with httpx.AsyncClient(timeout=20) as client:
            long = client.post(f"{proc.url}/score", content="{}",
                               headers={"x-behave": "slow=1000"})
            short = client.post(f"{proc.url}/score", content="{}",
                                headers={"x-behave": "slow=3000", **pin_green})
            return [answer.status_code for answer in await asyncio.gather(long, short)]

    assert asyncio.run(both()) == [200, 408]
    assert httpx.post(f"{proc.url}/score", content="{}", headers=pin_green).status_code == 200


def test_424_carries_the_model_status_and_reason(upstreams, router) -> None:
    blue = upstreams("blue")
    proc = router([deployment_entry("blue", [blue], 100)])
    answer = httpx.post(f"{proc.url}/score", content="{}", headers={"x-behave": "status=500"})
    assert answer.status_code == 424
    assert answer.headers["ms-azureml-model-error-statuscode"] == "500"
    assert answer.headers["ms-azureml-model-error-reason"] == "Teapot Trouble"
    assert answer.json()["deployment"] == "blue"  # the model's body passes through


def test_429_past_twice_max_concurrent_times_instances(upstreams, router) -> None:
    blue = upstreams("blue")
    proc = router([deployment_entry("blue", [blue], 100, max_concurrent_requests_per_instance=1,
                                    instance_count=1)])

    async def three_at_once() -> list[int]:
        async with httpx.AsyncClient(timeout=10) as client:
            slow = [client.post(f"{proc.url}/score", content="{}",
                                headers={"x-behave": "slow=2000"}) for _ in range(2)]
            tasks = [asyncio.create_task(call) for call in slow]
            for _ in range(200):  # wait until the router counts both slow ones in flight
                stats = (await client.get(f"{proc.url}/-/metrics.json")).json()
                if stats["deployments"].get("blue", {}).get("in_flight") == 2:
                    break
                await asyncio.sleep(0.01)
            third = await client.post(f"{proc.url}/score", content="{}")
            return [third.status_code] + [(await t).status_code for t in tasks]

    assert asyncio.run(three_at_once()) == [429, 200, 200]


def test_502_when_nothing_listens_and_when_the_replica_crashes(upstreams, router) -> None:
    blue = upstreams("blue")
    dead = deployment_entry("dead", [], 0)
    dead["replicas"] = ["http://127.0.0.1:9"]  # discard port: nothing listens
    proc = router([deployment_entry("blue", [blue], 100), dead])
    refused = httpx.post(f"{proc.url}/score", content="{}",
                         headers={"azureml-model-deployment": "dead"})
    # 502 from the request that found it refusing, 503 once a health probe ejected it
    assert refused.status_code in (502, 503)
    assert "cannot connect" in refused.json()["message"]
    crashed = httpx.post(f"{proc.url}/score", content="{}", headers={"x-behave": "crash"})
    assert crashed.status_code == 502
    assert crashed.headers["azureml-model-deployment"] == "blue"


def test_close_delimited_answer_is_read_to_the_end(upstreams, router) -> None:
    blue = upstreams("blue")
    proc = router([deployment_entry("blue", [blue], 100)])
    for _ in range(3):
        answer = httpx.post(f"{proc.url}/score", content="{}", headers={"x-behave": "http10"})
        assert (answer.status_code, answer.text) == (200, "old style")


def test_503_when_a_deployment_has_no_replica(upstreams, router) -> None:
    proc = router([deployment_entry("blue", [], 100)])
    answer = httpx.post(f"{proc.url}/score", content="{}")
    assert answer.status_code == 503
    assert "no ready replica" in answer.json()["message"]


def test_request_ids_are_generated_or_propagated(upstreams, router) -> None:
    blue = upstreams("blue")
    proc = router([deployment_entry("blue", [blue], 100)])
    generated = httpx.post(f"{proc.url}/score", content="{}")
    made = uuid.UUID(generated.headers["x-request-id"])  # a random UUID, in its canonical form
    assert made.version == 4 and str(made) == generated.headers["x-request-id"]
    assert blue.last_headers["x-request-id"] == generated.headers["x-request-id"]
    sent = httpx.post(f"{proc.url}/score", content="{}",
                      headers={"x-request-id": "abc-123", "x-ms-client-request-id": "mine"})
    assert sent.headers["x-request-id"] == "abc-123"
    assert sent.headers["x-ms-client-request-id"] == "mine"
    assert blue.last_headers["x-ms-client-request-id"] == "mine"


def test_get_with_query_options_and_swagger_are_forwarded(upstreams, router) -> None:
    blue = upstreams("blue")
    proc = router([deployment_entry("blue", [blue], 100)])
    got = httpx.get(f"{proc.url}/score?a=1&b=x")
    assert got.json()["line"] == "GET /score?a=1&b=x HTTP/1.1"
    assert httpx.options(f"{proc.url}/score").status_code == 200
    swagger = httpx.get(f"{proc.url}/swagger.json?version=3", headers={"x-behave": "status=404"})
    assert swagger.status_code == 404  # swagger passes the status through; it is not scoring
    assert httpx.put(f"{proc.url}/score", content="{}").status_code == 405
    assert httpx.get(f"{proc.url}/nope").status_code == 404


def test_live_ready_config_and_metrics(upstreams, router) -> None:
    blue = upstreams("blue")
    proc = router([deployment_entry("blue", [blue], 100)])
    httpx.post(f"{proc.url}/score", content="{}")
    httpx.post(f"{proc.url}/score", content="{}", headers={"x-behave": "status=500"})
    assert httpx.get(f"{proc.url}/-/live").status_code == 200
    assert httpx.get(f"{proc.url}/-/ready").json() == {"status": "ready", "generation": 1}
    described = httpx.get(f"{proc.url}/-/config").json()
    assert described["deployments"][0]["replicas"] == [blue.url]
    stats = httpx.get(f"{proc.url}/-/metrics.json").json()["deployments"]["blue"]
    assert stats["requests"] == 2 and stats["errors"] == 1
    assert stats["by_status"] == {"200": 1, "424": 1} and stats["weight"] == 100
    text = httpx.get(f"{proc.url}/metrics").text
    assert 'devkit_router_requests_total{endpoint="test-ep",deployment="blue",code="424"} 1' \
        in text
    assert 'devkit_router_request_duration_seconds_count{endpoint="test-ep",' \
        'deployment="blue"} 2' in text


def test_router_without_config_is_live_but_not_ready(tmp_path) -> None:
    from router_helpers import RouterProcess

    proc = RouterProcess(tmp_path / "router.json")
    try:
        for _ in range(100):
            try:
                live = httpx.get(f"{proc.url}/-/live")
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert live.status_code == 200
        assert httpx.get(f"{proc.url}/-/ready").status_code == 503
        assert httpx.post(f"{proc.url}/score", content="{}").status_code == 503
    finally:
        proc.stop()
