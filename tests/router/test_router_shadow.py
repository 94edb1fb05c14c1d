"""The shadow diff over real HTTP: a real router process mirroring to real upstreams.

The test upstreams answer ``{"deployment": NAME, "line": ..., "body": ...}``, so two of
them agree exactly when ``$.deployment`` is ignored, and disagree on that one field
otherwise.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from router_helpers import deployment_entry, find_free_port
from test_router_traffic import fire


def shadow_json(url: str, settled_at: int | None = None) -> dict[str, Any]:
    """/-/shadow.json once the background comparisons stopped moving."""
    last: dict[str, Any] = {}
    for _ in range(100):
        found = httpx.get(f"{url}/-/shadow.json").json()
        compared = sum(p["compared"] + p["dropped"] + p["skipped"] for p in found["pairs"])
        if found == last and not found["queued"] and (settled_at is None
                                                       or compared >= settled_at):
            return found
        last = found
        time.sleep(0.05)
    return last


def mirrored(url: str, name: str) -> int:
    return int(httpx.get(f"{url}/-/metrics.json").json()["deployments"][name]["mirrored"])


def test_identical_answers_agree_every_time(upstreams, router) -> None:
    blue, green = upstreams("blue"), upstreams("green")
    proc = router([deployment_entry("blue", [blue], 100),
                   deployment_entry("green", [green], 0, mirror=50)],
                  shadow={"ignore": ["$.deployment"]})
    responses = fire(proc.url, 300)
    assert {r.json()["deployment"] for r in responses} == {"blue"}
    time.sleep(0.2)
    found = shadow_json(proc.url, settled_at=mirrored(proc.url, "green"))
    [pair] = found["pairs"]
    assert pair["live_deployment"] == "blue" and pair["shadow_deployment"] == "green"
    assert pair["compared"] == mirrored(proc.url, "green") > 0
    assert pair["agreed"] == pair["compared"] and pair["agreement_rate"] == 1.0
    assert pair["fields"] == [] and pair["recent"] == []
    assert pair["live"]["errors"] == pair["shadow"]["errors"] == 0
    assert pair["live"]["p99_ms"] is not None and pair["shadow"]["p50_ms"] is not None
    text = httpx.get(f"{proc.url}/metrics").text
    assert (f'devkit_router_shadow_agreed_total{{endpoint="test-ep",live="blue",'
            f'shadow="green"}} {pair["compared"]}') in text
    assert 'devkit_router_shadow_duration_seconds_count{endpoint="test-ep",live="blue",' \
           f'shadow="green",side="shadow"}} {pair["compared"]}' in text


def test_a_differing_field_is_named_with_request_ids_and_logged(upstreams, router,
                                                                 tmp_path) -> None:
    blue, green = upstreams("blue"), upstreams("green")
    proc = router([deployment_entry("blue", [blue], 100),
                   deployment_entry("green", [green], 0, mirror=50)],
                  shadow={"log_dir": str(tmp_path / "shadow")})
    ids = [f"req-{i}" for i in range(200)]
    with httpx.Client(base_url=proc.url) as client:
        for request_id in ids:
            assert client.post("/score", content=b'{"x": 1}',
                               headers={"x-request-id": request_id}).status_code == 200
    found = shadow_json(proc.url, settled_at=mirrored(proc.url, "green"))
    [pair] = found["pairs"]
    n = pair["compared"]
    assert n == mirrored(proc.url, "green") and pair["agreed"] == 0
    assert pair["body_mismatches"] == n and pair["status_mismatches"] == 0
    assert pair["fields"] == [{"path": "$.deployment", "count": n}]
    latest = pair["recent"][-1]
    assert latest["request_id"] in ids
    assert latest["differences"] == [{"path": "$.deployment", "live": '"blue"',
                                      "shadow": '"green"'}]
    assert len(pair["recent"]) == min(n, 20)  # bounded
    lines = (tmp_path / "shadow" / "blue-vs-green.jsonl").read_text().splitlines()
    assert len(lines) == n and {json.loads(line)["request_id"] for line in lines} <= set(ids)
    text = httpx.get(f"{proc.url}/metrics").text
    assert ('devkit_router_shadow_field_mismatch_total{endpoint="test-ep",live="blue",'
            f'shadow="green",path="$.deployment"}} {n}') in text


def test_a_shadow_that_cannot_answer_is_a_status_mismatch_and_a_shadow_error(
        upstreams, router) -> None:
    blue = upstreams("blue")
    dead = {"name": "green", "replicas": [f"http://127.0.0.1:{find_free_port()}"],
            "weight": 0, "mirror": 50}
    proc = router([deployment_entry("blue", [blue], 100), dead])
    responses = fire(proc.url, 100)
    assert all(r.status_code == 200 for r in responses)  # the live answer is unharmed
    [pair] = shadow_json(proc.url, settled_at=mirrored(proc.url, "green"))["pairs"]
    assert pair["compared"] > 0 and pair["status_mismatches"] == pair["compared"]
    assert pair["shadow"]["errors"] == pair["compared"] and pair["live"]["errors"] == 0
    assert pair["shadow"]["error_rate"] == 1.0
    assert pair["recent"][-1]["shadow_status"] in (502, 503)  # refused, then ejected


def test_compare_off_mirrors_without_comparing(upstreams, router) -> None:
    blue, green = upstreams("blue"), upstreams("green")
    proc = router([deployment_entry("blue", [blue], 100),
                   deployment_entry("green", [green], 0, mirror=50)],
                  shadow={"compare": False})
    fire(proc.url, 100)
    found = shadow_json(proc.url)
    assert found["compare"] is False and found["pairs"] == []
    assert mirrored(proc.url, "green") > 0


def test_the_shadow_section_is_validated(tmp_path) -> None:
    import pytest
    from devkit_runtime.router.config import parse_config

    def parse(shadow: dict[str, Any]) -> Any:
        return parse_config({"version": 1, "generation": 1, "endpoint": "e",
                             "deployments": [], "shadow": shadow}, base=tmp_path)

    settings = parse({"atol": 0.5, "ignore": ["$.t"], "log_dir": "sh"}).shadow
    assert settings.tolerance.atol == 0.5 and settings.tolerance.ignore == ("$.t",)
    assert settings.log_dir == tmp_path / "sh" and settings.compare
    with pytest.raises(ValueError, match="unknown fields"):
        parse({"tolerance": 1})
    with pytest.raises(ValueError, match=">= 0"):
        parse({"rtol": -1})


def test_with_data_collection_on_disagreements_go_next_to_the_collected_data(
        upstreams, router, tmp_path) -> None:
    blue, green = upstreams("blue"), upstreams("green")
    data = tmp_path / "data" / "test-ep"
    collecting = {"dir": str(data / "blue"), "endpoint": "test-ep", "deployment": "blue",
                  "collections": ["request"], "instance": "router"}
    proc = router([deployment_entry("blue", [blue], 100, data_collection=collecting),
                   deployment_entry("green", [green], 0, mirror=50)])
    fire(proc.url, 100)
    [pair] = shadow_json(proc.url, settled_at=mirrored(proc.url, "green"))["pairs"]
    lines = (data / "shadow" / "blue-vs-green.jsonl").read_text().splitlines()
    assert len(lines) == pair["compared"] - pair["agreed"] > 0
    assert json.loads(lines[0])["differences"][0]["path"] == "$.deployment"
