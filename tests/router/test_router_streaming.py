"""Streamed responses through a real router in front of a real devkit runtime: the first
part reaches the client before the script produced the last (a gate file is the
handshake), the router's metrics count the stream once it ended, the request timeout
still applies (408 before the head, a cut-off stream after it), and ordinary buffered
answers and the mirror path are unchanged."""

from __future__ import annotations

import http.client
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from router_helpers import RouterProcess, deployment_entry, write_config

# The runtime's server helpers (a real ``python -m devkit_runtime`` on loopback).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
from runtime_server import SCRIPTS, RunningServer, devkit_server  # noqa: E402


@pytest.fixture
def replica(tmp_path: Path) -> Iterator[RunningServer]:
    with devkit_server(SCRIPTS / "score_stream_sse.py", tmp_path) as server:
        yield server


def start_router(tmp_path: Path, replica: RunningServer, **settings: Any) -> RouterProcess:
    config = tmp_path / "router.json"
    write_config(config, [{"name": "blue", "replicas": [f"http://127.0.0.1:{replica.port}"],
                           "weight": 100, "max_concurrent_requests_per_instance": 4,
                           **settings}])
    router = RouterProcess(config)
    router.wait_ready()
    return router


def open_stream(router: RouterProcess, query: str) -> tuple[http.client.HTTPConnection,
                                                             http.client.HTTPResponse]:
    conn = http.client.HTTPConnection("127.0.0.1", router.port, timeout=60)
    conn.request("GET", f"/score?{query}")
    return conn, conn.getresponse()


def blue(router: RouterProcess) -> dict[str, Any]:
    return dict(httpx.get(f"{router.url}/-/metrics.json").json()["deployments"]["blue"])


def test_first_event_arrives_before_the_last_is_produced(tmp_path: Path,
                                                         replica: RunningServer) -> None:
    router = start_router(tmp_path, replica)
    gate = tmp_path / "gate"
    try:
        conn, response = open_stream(router, f"gate={gate}")
        assert response.status == 200
        assert response.getheader("transfer-encoding") == "chunked"
        assert response.getheader("content-type") == "text/event-stream"
        assert response.getheader("azureml-model-deployment") == "blue"
        assert response.read1(65536) == b"data: first\n\n"
        assert blue(router)["in_flight"] == 1  # a stream counts until its last part
        gate.touch()
        assert response.read() == b"data: last\n\n"
        conn.close()
        metrics = blue(router)
        assert (metrics["in_flight"], metrics["by_status"], metrics["streams_cut"]) == (
            0, {"200": 1}, 0)
        # the upstream connection went back to the pool and carries buffered answers too
        plain = httpx.get(f"{router.url}/swagger.json")
        assert plain.status_code == 200 and plain.headers["content-length"]
    finally:
        router.stop()


def test_request_timeout_cuts_off_a_stream(tmp_path: Path, replica: RunningServer) -> None:
    router = start_router(tmp_path, replica, request_timeout_ms=1000)
    try:
        # the gate never opens: the head and first event come in time, the last cannot
        conn, response = open_stream(router, f"gate={tmp_path / 'never'}")
        assert response.status == 200
        assert response.read1(65536) == b"data: first\n\n"
        with pytest.raises(http.client.IncompleteRead):
            response.read()
        conn.close()
        metrics = blue(router)
        assert (metrics["streams_cut"], metrics["in_flight"]) == (1, 0)
        assert "cut off at its request_timeout_ms" in router.log_path.read_text()
    finally:
        router.stop()


def test_a_failing_stream_is_cut_off_through_the_router(tmp_path: Path,
                                                        replica: RunningServer) -> None:
    router = start_router(tmp_path, replica)
    try:
        conn, response = open_stream(router, "fail=1")
        assert response.read1(65536) == b"data: first\n\n"
        with pytest.raises(http.client.IncompleteRead):
            response.read()
        conn.close()
        assert blue(router)["streams_cut"] == 1
        assert httpx.get(f"{router.url}/swagger.json").status_code == 200
    finally:
        router.stop()


def test_a_client_leaving_the_router_closes_the_generator(tmp_path: Path) -> None:
    with devkit_server(SCRIPTS / "score_stream.py", tmp_path) as plain:
        router = start_router(tmp_path, plain)
        gate = tmp_path / "gate"
        try:
            conn = http.client.HTTPConnection("127.0.0.1", router.port, timeout=60)
            conn.request("POST", "/score", body=json.dumps({"gate": str(gate)}))
            response = conn.getresponse()
            assert response.read1(65536) == b"first\n"
            conn.close()
            # the router lets go at once, while the generator still waits for its gate
            deadline = time.monotonic() + 30
            while blue(router)["in_flight"] and time.monotonic() < deadline:
                time.sleep(0.02)
            metrics = blue(router)
            assert (metrics["in_flight"], metrics["streams_cut"]) == (0, 1)
            gate.touch()
            outcome = tmp_path / "gate.outcome"
            deadline = time.monotonic() + 30
            while not (outcome.exists() and outcome.read_text()) and time.monotonic() < deadline:
                time.sleep(0.02)
            assert outcome.read_text() == "closed"  # router -> replica -> generator.close()
        finally:
            router.stop()


def test_a_close_delimited_stream_is_relayed_part_by_part(upstreams, router) -> None:
    """A bring-your-own-container server streaming HTTP/1.0 style (no length, no chunks:
    the body ends when it closes) reaches the client part by part too."""
    byoc = upstreams("byoc")
    proc = router([deployment_entry("byoc", [byoc], 100)])
    conn = http.client.HTTPConnection("127.0.0.1", proc.port, timeout=60)
    conn.request("POST", "/score", body=b"{}", headers={"x-behave": "stream10"})
    response = conn.getresponse()
    assert response.getheader("content-type") == "text/event-stream"
    assert response.read1(65536) == b"data: first\n\n"
    byoc.gate.set()
    assert response.read() == b"data: last\n\n"
    conn.close()
