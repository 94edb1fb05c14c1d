"""Data collection on each engine, for real: a score.py using ``azureml.ai.monitoring``
behind the router, 1,000 requests at sampling_rate 0.5, then ``down``.

Every request carries its own ``x-request-id``, so the test knows which requests the
shared per-id sampling keeps: after ``down`` the four collections must hold exactly
those (nothing lost in the flush), joined by ``correlationid``, with the payloads sent
and answered; and the kept share must be within 3 sigma of the rate.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from devkit_runtime.collection.sampling import sampled
from engine_helpers import FIXTURES, copy_endpoint, unique

from devkit.engines import EndpointStatus, Engine, UpOptions
from devkit.errors import EndpointNotFound
from devkit.router.keys import load_or_create_keys
from devkit.spec import load

ENDPOINT = FIXTURES / "collect"
REQUESTS = 1000
RATE = 0.5
COLLECTIONS = ("model_inputs", "model_outputs", "request", "response")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, engine_name: str) -> Path:
    name = unique(f"dc-{engine_name[:4]}")
    return copy_endpoint(ENDPOINT, tmp_path_factory.mktemp("ep") / name, "collect", name)


@pytest.fixture(scope="module")
def sent(engine: Engine, folder: Path, module_state: Path) -> Iterator[dict[str, int]]:
    """Bring the endpoint up, score REQUESTS times, take it down: request id -> x sum."""
    endpoint = load([folder])
    status: EndpointStatus = engine.up(endpoint, UpOptions(), lambda _line: None)
    key = load_or_create_keys(endpoint.name).primary
    answers: dict[str, int] = {}
    try:
        assert status.scoring_uri is not None
        with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {key}"}) as client:
            for index in range(REQUESTS):
                request_id = str(uuid.uuid4())
                reply = client.post(status.scoring_uri, json={"x": [index, 1]},
                                    headers={"x-request-id": request_id})
                assert reply.status_code == 200, reply.text
                answers[request_id] = reply.json()["sum"]
    finally:
        with contextlib.suppress(EndpointNotFound):
            engine.down(endpoint.name)  # a clean down flushes every writer
    yield answers


def events(folder: Path, name: str, collection: str) -> list[dict[str, Any]]:
    root = folder / ".devkit" / "data" / name / "blue" / collection
    return [json.loads(line) for path in sorted(root.rglob("*.jsonl"))
            for line in path.read_text().splitlines()]


def test_sampling_keeps_the_configured_share(sent: dict[str, int]) -> None:
    kept = sum(sampled(request_id, RATE) for request_id in sent)
    sigma = (REQUESTS * RATE * (1 - RATE)) ** 0.5
    assert abs(kept - REQUESTS * RATE) <= 3 * sigma


def test_down_flushes_exactly_the_sampled_requests(sent: dict[str, int], folder: Path) -> None:
    expected = {request_id for request_id in sent if sampled(request_id, RATE)}
    for collection in COLLECTIONS:
        found = [event["correlationid"] for event in events(folder, folder.name, collection)]
        assert len(found) == len(set(found)), collection
        assert set(found) == expected, collection


def test_collections_join_by_correlation_id(sent: dict[str, int], folder: Path) -> None:
    by_id = {c: {e["correlationid"]: e for e in events(folder, folder.name, c)}
             for c in COLLECTIONS}
    for request_id, event in by_id["model_inputs"].items():
        index = event["data"]["x"][0]
        assert by_id["request"][request_id]["data"] == {"x": [index, 1]}
        assert by_id["model_outputs"][request_id]["data"] == {"sum": sent[request_id]}
        assert by_id["response"][request_id]["data"] == {"sum": sent[request_id]}
        assert event["xrequestid"] == request_id


def test_files_follow_azures_layout(sent: dict[str, int], folder: Path) -> None:
    root = folder / ".devkit" / "data" / folder.name / "blue"
    replica = sorted(p.relative_to(root).parts for p in (root / "model_inputs").rglob("*.jsonl"))
    assert replica and all(len(parts) == 6 and parts[-1] == "blue-0.jsonl" for parts in replica)
    router = sorted(p.name for p in (root / "request").rglob("*.jsonl"))
    assert set(router) == {"router.jsonl"}
    event = events(folder, folder.name, "request")[0]
    assert event["type"] == "azureml.inference.request"
    assert event["source"] == f"/onlineEndpoints/{folder.name}/deployments/blue"
    assert (folder / ".devkit" / ".gitignore").read_text().splitlines()[-1] == "*"
