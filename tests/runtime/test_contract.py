"""docs/contract.md §1-2 row by row against devkit's server over real loopback HTTP."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from runtime_server import SCRIPTS, RunningServer, devkit_server


@pytest.fixture(scope="module")
def echo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    env = {"AML_CORS_ORIGINS": "http://allowed.example", "DEVKIT_MAX_BODY_BYTES": "1000"}
    with devkit_server(SCRIPTS / "score_echo.py", tmp_path_factory.mktemp("echo"),
                       env=env) as server:
        yield server


def test_post_passes_the_raw_body_string(echo: RunningServer) -> None:
    reply = echo.request("POST", "/score", '{"a": 1}', {"Content-Type": "application/json"})
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.json() == {"echo": '{"a": 1}'}
    assert reply.body.endswith(b"}\n")  # devkit: trailing newline
    assert reply.headers["x-ms-run-function-failed"] == "False"
    assert float(reply.headers["x-ms-run-fn-exec-ms"]) >= 0
    assert reply.headers["x-ms-server-version"].startswith("devkit-runtime/")


def test_get_passes_the_query_as_a_json_object_string(echo: RunningServer) -> None:
    reply = echo.request("GET", "/score?a=1&a=2&b=x&c=%5B1,2%5D&d=null")
    assert reply.status == 200
    assert json.loads(reply.json()["echo"]) == {"a": [1, 2], "b": "x", "c": [1, 2],
                                                "d": None}


def test_non_utf8_body_is_400(echo: RunningServer) -> None:
    reply = echo.request("POST", "/score", b"\xff\xfe", {"Content-Type": "application/json"})
    assert reply.status == 400
    assert reply.json()["message"].startswith("Input cannot be decoded as UTF-8")


def test_health_route(echo: RunningServer) -> None:
    reply = echo.request("GET", "/")
    assert (reply.status, reply.body) == (200, b"Healthy")


def test_options_score_is_empty_200(echo: RunningServer) -> None:
    reply = echo.request("OPTIONS", "/score")
    assert (reply.status, reply.body) == (200, b"")


@pytest.mark.parametrize(("method", "path"), [("PUT", "/score"), ("DELETE", "/score"),
                                              ("POST", "/"), ("DELETE", "/")])
def test_other_methods_are_405_json(echo: RunningServer, method: str, path: str) -> None:
    reply = echo.request(method, path)
    assert reply.status == 405
    assert reply.json() == {"message": "The method is not allowed for the requested URL."}


def test_unknown_path_is_404_json(echo: RunningServer) -> None:
    reply = echo.request("GET", "/nope")
    assert reply.status == 404
    assert "not found" in reply.json()["message"]


def test_request_ids_echoed_or_generated(echo: RunningServer) -> None:
    given = echo.request("POST", "/score", "x", {"x-request-id": "rid-1",
                                                 "x-ms-client-request-id": "client-1"})
    assert given.headers["x-request-id"] == "rid-1"
    assert given.headers["x-ms-client-request-id"] == "client-1"
    assert given.headers["x-ms-request-id"] == "client-1"
    fresh = echo.request("POST", "/score", "x")
    made = uuid.UUID(fresh.headers["x-request-id"])  # a random UUID, in its canonical form
    assert made.version == 4 and str(made) == fresh.headers["x-request-id"]
    assert "x-ms-client-request-id" not in fresh.headers
    legacy = echo.request("POST", "/score", "x", {"x-ms-request-id": "old"})
    assert legacy.headers["x-ms-client-request-id"] == "old"


def test_long_request_id_is_431(echo: RunningServer) -> None:
    reply = echo.request("POST", "/score", "x", {"x-request-id": "a" * 101})
    assert reply.status == 431
    assert reply.json() == {"message": "x-request-id must not exceed 100 characters"}


def test_keep_alive_serves_many_requests_on_one_connection(echo: RunningServer) -> None:
    connection = echo.connect()
    try:
        for index in range(5):
            reply = echo.request("POST", "/score", str(index), connection=connection)
            assert reply.json() == {"echo": str(index)}
            assert reply.headers.get("connection", "").lower() != "close"
    finally:
        connection.close()


def test_body_over_the_limit_is_413(echo: RunningServer) -> None:
    assert echo.request("POST", "/score", "x" * 1000).status == 200
    reply = echo.request("POST", "/score", "x" * 1001)
    assert reply.status == 413
    assert "DEVKIT_MAX_BODY_BYTES" in reply.json()["message"]


def test_cors_allows_the_configured_origin_only(echo: RunningServer) -> None:
    allowed = echo.request("OPTIONS", "/score", headers={
        "Origin": "http://allowed.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert allowed.headers["access-control-allow-origin"] == "http://allowed.example"
    assert allowed.headers["access-control-allow-headers"] == "content-type"
    other = echo.request("POST", "/score", "x", {"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_live_ready_and_metrics(echo: RunningServer) -> None:
    assert echo.request("GET", "/-/live").json()["live"] is True
    ready = echo.request("GET", "/-/ready")
    assert ready.status == 200
    assert ready.json()["reload"]["ok"] is True
    echo.request("POST", "/score", "x")
    metrics = echo.request("GET", "/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.body.decode()
    assert 'route="/score",status="200"' in text
    assert "devkit_request_duration_seconds_bucket" in text
    assert "devkit_requests_in_flight" in text


def test_access_log_and_startup_lines(echo: RunningServer) -> None:
    echo.request("POST", "/score", "logged")
    deadline = time.monotonic() + 5  # access lines are flushed in batches, within 50 ms
    while "POST /score 200" not in echo.log_text() and time.monotonic() < deadline:
        time.sleep(0.02)
    log = echo.log_text()
    assert "1 worker(s), listening on http://127.0.0.1:" in log
    assert "score_echo.py" in log
    assert "echo init done" in log  # the script's print() from init()
    assert any("POST /score 200" in line and line.endswith("ms") for line in log.splitlines())


@pytest.mark.parametrize(("script", "status", "body"), [
    ("score_raises.py", 500, {"message": "An unexpected error occurred in scoring script. "
                                         "Check the logs for more info."}),
    ("score_none.py", 200, {}),
    ("score_unserialisable.py", 500, {"message": "An unexpected internal error occurred. "
                                                 "Check the logs for more info."}),
])
def test_run_outcomes(tmp_path: Path, script: str, status: int, body: object) -> None:
    with devkit_server(SCRIPTS / script, tmp_path) as server:
        reply = server.request("POST", "/score", "{}")
        assert (reply.status, reply.json()) == (status, body)
        if script == "score_raises.py":
            assert reply.headers["x-ms-run-function-failed"] == "True"
            assert "boom from run" in server.log_text()  # the traceback stays in the log
            assert "boom" not in reply.body.decode()


def test_request_headers_parameter(tmp_path: Path) -> None:
    with devkit_server(SCRIPTS / "score_headers.py", tmp_path) as server:
        reply = server.request("POST", "/score", "d", {"X-Custom": "yes",
                                                       "Content-Type": "text/plain"})
        assert reply.json() == {"data": "d", "custom": "yes", "has_content_type": True}


def test_print_and_logging_reach_the_server_log(tmp_path: Path) -> None:
    with devkit_server(SCRIPTS / "score_print.py", tmp_path) as server:
        assert server.request("POST", "/score", "x").status == 200
        server.stop()
        log = server.log_text()
    assert "PRINTED-FROM-INIT" in log
    assert "PRINTED-FROM-RUN" in log
    assert "LOGGED-FROM-RUN" in log


def test_the_script_sees_the_azure_ml_environment(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    with devkit_server(SCRIPTS / "score_env.py", tmp_path, model_dir=model) as server:
        seen = server.request("POST", "/score", "x").json()
    assert seen == {"AZUREML_MODEL_DIR": str(model), "AML_APP_ROOT": str(SCRIPTS),
                    "AZUREML_ENTRY_SCRIPT": "score_env.py"}
