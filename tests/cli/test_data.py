"""``devkit data`` as a user runs it: the real CLI in child processes against an endpoint
on the process engine whose score.py collects with ``azureml.ai.monitoring``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

FIXTURE = Path(__file__).resolve().parents[1] / "engines" / "fixtures" / "collect"


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "devkit.cli.main", *args], env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {**os.environ, "DEVKIT_STATE_DIR": str(tmp_path_factory.mktemp("state")),
            "DEVKIT_DATA_DIR": str(tmp_path_factory.mktemp("data"))}


@pytest.fixture(scope="module")
def endpoint(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    name = f"data-{uuid.uuid4().hex[:6]}"
    folder = tmp_path_factory.mktemp("ep") / name
    shutil.copytree(FIXTURE, folder)
    for spec in folder.glob("*.yml"):
        text = spec.read_text().replace("sampling_rate: 0.5", "sampling_rate: 1.0")
        spec.write_text(text.replace("collect\n", f"{name}\n"))
    result = run(env, "up", str(folder), "--engine", "process")
    assert result.returncode == 0, result.stderr
    yield name
    run(env, "down", name)


def score(env: dict[str, str], name: str, value: int) -> str:
    [status] = json.loads(run(env, "status", name, "--json").stdout)
    uri = status["scoring_uri"]
    key = json.loads(run(env, "keys", name, "--json").stdout)["primary"]
    request_id = str(uuid.uuid4())
    reply = httpx.post(uri, json={"x": [value, 1]}, timeout=30,
                       headers={"Authorization": f"Bearer {key}", "x-request-id": request_id})
    assert reply.status_code == 200, reply.text
    return request_id


def test_data_shows_the_latest_events_of_each_collection(env: dict[str, str],
                                                        endpoint: str) -> None:
    ids = [score(env, endpoint, value) for value in (10, 20, 30)]
    result = run(env, "data", endpoint, "--json", "-n", "0")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    # the router writes asynchronously: every request's four events are there once flushed
    kinds = {(e["collection"], e["correlationid"]) for e in events}
    for request_id in ids:
        for collection in ("model_inputs", "model_outputs", "request", "response"):
            assert (collection, request_id) in kinds or _retry(env, endpoint, collection,
                                                               request_id)
    assert all(e["deployment"] == "blue" for e in events)


def _retry(env: dict[str, str], endpoint: str, collection: str, request_id: str) -> bool:
    """One more look after the writers' next batch (they write within milliseconds)."""
    import time

    for _ in range(50):
        time.sleep(0.1)
        out = run(env, "data", endpoint, "--json", "-n", "0", "-c", collection).stdout
        if request_id in out:
            return True
    return False


def test_data_filters_by_collection_and_count(env: dict[str, str], endpoint: str) -> None:
    score(env, endpoint, 40)
    result = run(env, "data", endpoint, "-c", "model_outputs", "-n", "2", "-d", "blue")
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()
    assert len(rows) == 2 and all("model_outputs" in row and '{"sum":' in row for row in rows)


def test_data_follow_prints_new_events(env: dict[str, str], endpoint: str) -> None:
    command = [sys.executable, "-m", "devkit.cli.main", "data", endpoint, "-f", "--json",
               "-n", "0", "-c", "model_inputs"]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as follower:
        try:
            import time

            time.sleep(2)  # let it take the files' current ends
            request_id = score(env, endpoint, 99)
            assert follower.stdout is not None
            seen = [json.loads(follower.stdout.readline()) for _ in range(1)]
            while seen[-1]["correlationid"] != request_id:
                seen.append(json.loads(follower.stdout.readline()))
            assert seen[-1]["data"] == {"x": [99, 1]}
        finally:
            follower.terminate()


def test_data_of_an_endpoint_that_collects_nothing_is_exit_5(env: dict[str, str]) -> None:
    result = run(env, "data", "no-such-endpoint")
    assert result.returncode == 5
    assert "collects no data: add a `data_collector`" in result.stderr
    assert run(env, "data", "--help").stdout.count("devkit data") >= 3
