"""The shadow diff and replay on a real endpoint (process engine): blue live, green
identical, skewed wrong on 20% of answers. Mirroring, comparing and replaying go through
the endpoint's real router with its key, as any client's requests would."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from actions_helpers import post_many

from devkit.actions.replay import load_requests, replay
from devkit.actions.router_view import RouterView, local_view
from devkit.engines import EndpointStatus

SKEW = 0.2


def devkit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "devkit.cli.main", *args],
                          capture_output=True, text=True, timeout=300)


def settled_pair(view: RouterView, live: str, shadow: str) -> dict[str, Any]:
    """The pair once every mirror copy sent to ``shadow`` has been compared."""
    pair: dict[str, Any] = {}
    for _ in range(200):
        mirrored = view.metrics()["deployments"][shadow]["mirrored"]
        found = view.shadow()
        pair = next((p for p in found["pairs"] if p["live_deployment"] == live
                     and p["shadow_deployment"] == shadow), {})
        if pair and pair["compared"] + pair["dropped"] >= mirrored and not found["queued"]:
            return pair
        time.sleep(0.05)
    raise AssertionError(f"the comparisons of {live}/{shadow} never settled: {pair}")


def within_3_sigma(count: int, n: int, p: float) -> bool:
    spread = 3 * math.sqrt(n * p * (1 - p))
    return n * p - spread <= count <= n * p + spread


def test_identical_mirrored_deployments_agree_on_every_request(endpoint: EndpointStatus
                                                               ) -> None:
    view = local_view(endpoint.name)
    view.set_traffic({"blue": 100}, {"green": 50})
    answers = post_many(view.scoring_uri, dict(view.headers), 300)
    assert {(r.status_code, r.headers["azureml-model-deployment"]) for r in answers} == {
        (200, "blue")}
    pair = settled_pair(view, "blue", "green")
    assert pair["compared"] > 0 and pair["dropped"] == 0
    assert pair["agreed"] == pair["compared"] and pair["agreement_rate"] == 1.0
    assert pair["fields"] == [] and pair["live"]["errors"] == pair["shadow"]["errors"] == 0
    shown = devkit("compare", endpoint.name, "--json")
    assert shown.returncode == 0, shown.stderr
    [cli_pair] = [p for p in json.loads(shown.stdout)["pairs"]
                  if p["shadow_deployment"] == "green"]
    assert cli_pair["agreement_rate"] == 1.0 and cli_pair["compared"] == pair["compared"]


def test_a_field_off_beyond_tolerance_gives_the_expected_rate_and_is_named(
        endpoint: EndpointStatus) -> None:
    view = local_view(endpoint.name)
    view.set_traffic({"blue": 100}, {"skewed": 50})
    post_many(view.scoring_uri, dict(view.headers), 600)
    pair = settled_pair(view, "blue", "skewed")
    n, disagreed = pair["compared"], pair["compared"] - pair["agreed"]
    assert n > 200 and within_3_sigma(disagreed, n, SKEW), (disagreed, n)
    assert pair["fields"] == [{"path": "$.score", "count": disagreed}]
    assert pair["status_mismatches"] == 0 and pair["body_mismatches"] == disagreed
    [difference] = pair["recent"][-1]["differences"]
    assert difference["path"] == "$.score"
    assert float(difference["shadow"]) - float(difference["live"]) == 1.0
    shown = devkit("compare", endpoint.name)
    assert shown.returncode == 0, shown.stderr
    assert "blue (live) vs skewed (shadow)" in shown.stdout
    assert "fields differing most: $.score" in shown.stdout and "  - " in shown.stdout


def test_replaying_a_recorded_file_reports_the_same(endpoint: EndpointStatus,
                                                    tmp_path: Path) -> None:
    """A request collection file as Azure writes it (CONTRACT.md §7), replayed to the
    skewed deployment against blue while neither gets mirrored or live traffic from it."""
    view = local_view(endpoint.name)
    view.set_traffic({"blue": 100}, {})
    recorded = tmp_path / "request" / "2026" / "12" / "01" / "20" / "blue-0.jsonl"
    recorded.parent.mkdir(parents=True)
    events = [{"specversion": "1.0", "id": f"evt-{i}", "source": "/test",
               "type": "azureml.inference.request", "datacontenttype": "application/json",
               "time": "2026-12-01T20:00:00Z", "data": {"x": i % 10},
               "correlationid": f"c-{i}", "xrequestid": f"req-{i}", "agent": "test",
               "contentrange": "bytes 0-8/8"} for i in range(400)]
    recorded.write_text("".join(json.dumps(e) + "\n" for e in events))
    requests = load_requests(tmp_path / "request")
    assert len(requests) == 400 and requests[0].body == b'{"x": 0}'
    before = view.metrics()["deployments"]["skewed"]["mirrored"]
    report = replay(view, requests, "skewed", "blue", rate=500)
    pair = report.pair
    n, disagreed = pair["compared"], pair["compared"] - pair["agreed"]
    assert n == 400 and within_3_sigma(disagreed, n, SKEW), disagreed
    assert pair["fields"] == [{"path": "$.score", "count": disagreed}]
    assert {e["request_id"] for e in pair["recent"]} <= {f"req-{i}" for i in range(400)}
    # pinned requests are never mirrored: the live diff did not count the replay
    assert view.metrics()["deployments"]["skewed"]["mirrored"] == before


def test_replay_of_a_folder_of_request_files_from_the_cli(endpoint: EndpointStatus,
                                                          tmp_path: Path) -> None:
    for i in range(30):
        (tmp_path / f"request-{i:02}.json").write_text(json.dumps({"x": i % 10}))
    done = devkit("replay", endpoint.name, "--from", str(tmp_path), "-d", "green",
                  "--json", "--min-agreement", "99%")
    assert done.returncode == 0, done.stderr
    pair = json.loads(done.stdout)["pair"]
    assert pair["live_deployment"] == "blue" and pair["compared"] == 30
    assert pair["agreement_rate"] == 1.0
    refused = devkit("replay", endpoint.name, "--from", str(tmp_path), "-d", "skewed",
                     "--min-agreement", "100%")
    assert refused.returncode == 8 and "below --min-agreement" in refused.stderr
