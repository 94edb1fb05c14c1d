"""``devkit up/status/invoke/logs/down`` as a user runs them: the real CLI in child
processes, on the process engine (no Docker needed), against a copy of the regression
sample under a unique name, invoked through its router. One ``up`` is shared by the
module; the rawhttp sample checks binary bodies."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
COMMANDS = ("up", "status", "invoke", "logs", "down")


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "devkit.cli.main", *args], env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {**os.environ, "DEVKIT_STATE_DIR": str(tmp_path_factory.mktemp("state"))}


@pytest.fixture(scope="module")
def endpoint(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    name = f"cli-{uuid.uuid4().hex[:6]}"
    folder = tmp_path_factory.mktemp("ep") / name
    shutil.copytree(SAMPLES / "regression", folder)
    for spec in folder.glob("*.yml"):
        spec.write_text(spec.read_text().replace("regression\n", f"{name}\n"))
    result = run(env, "up", str(folder), "--engine", "process")
    assert result.returncode == 0, result.stderr
    assert "scoring URI: http://127.0.0.1:" in result.stdout
    yield name
    run(env, "down", name)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str, env: dict[str, str]) -> None:
    result = run(env, command, "--help")
    assert result.returncode == 0 and "devkit " + command in result.stdout


def test_status_json_has_the_documented_fields(endpoint: str, env: dict[str, str]) -> None:
    result = run(env, "status", "--json")
    assert result.returncode == 0, result.stderr
    [found] = [e for e in json.loads(result.stdout) if e["name"] == endpoint]
    assert found["engine"] == "process" and found["auth_mode"] == "key"
    assert found["scoring_uri"].endswith("/score")
    assert [(d["name"], d["state"], d["replicas"], d["traffic"], d["mirror"])
            for d in found["deployments"]] == [("blue", "ready", 1, 90, 0),
                                               ("green", "ready", 1, 10, 0)]
    assert all(d["image"] for d in found["deployments"])


def test_status_table_is_readable(endpoint: str, env: dict[str, str]) -> None:
    result = run(env, "status", endpoint)
    header, blue, green = result.stdout.splitlines()[:3]
    assert header.split()[:4] == ["ENDPOINT", "ENGINE", "DEPLOYMENT", "STATE"]
    assert blue.split()[:6] == [endpoint, "process", "blue", "ready", "1", "90%"]
    assert green.split()[:2] == ["green", "ready"]


def test_invoke_goes_through_the_router_and_names_the_deployment(
        endpoint: str, env: dict[str, str]) -> None:
    request = str(SAMPLES / "regression" / "sample-request.json")
    live = run(env, "invoke", endpoint, "--request-file", request)
    blue = run(env, "invoke", endpoint, "--request-file", request, "--deployment", "blue")
    green = run(env, "invoke", endpoint, "--request-file", request, "--deployment", "green")
    assert live.returncode == blue.returncode == green.returncode == 0, live.stderr
    assert "200 OK from blue" in blue.stderr and "200 OK from green" in green.stderr
    assert json.loads(blue.stdout) != json.loads(green.stdout)  # two different models
    answered = "blue" if "from blue" in live.stderr else "green"
    assert json.loads(live.stdout) == json.loads({"blue": blue, "green": green}[answered].stdout)


def test_invoke_non_2xx_exits_non_zero_with_the_status(endpoint: str, env: dict[str, str],
                                                       tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": "not rows"}')
    result = run(env, "invoke", endpoint, "--request-file", str(bad), "--json")
    assert result.returncode == 8
    answer = json.loads(result.stdout)
    assert answer["status"] == 424  # the front end's "model answered an error"
    assert answer["headers"]["ms-azureml-model-error-statuscode"] == "500"
    assert "answered 424" in result.stderr and "the model answered 500" in result.stderr
    assert f"devkit logs {endpoint}" in result.stderr


def test_invoke_with_no_live_traffic_explains_the_404(endpoint: str,
                                                       env: dict[str, str]) -> None:
    request = str(SAMPLES / "regression" / "sample-request.json")
    assert run(env, "traffic", endpoint, "blue=0", "green=0").returncode == 0
    try:
        result = run(env, "invoke", endpoint, "--request-file", request)
        status = json.loads(run(env, "status", endpoint, "--json").stdout)[0]
    finally:
        assert run(env, "traffic", endpoint, "blue=90", "green=10").returncode == 0
    assert result.returncode == 8
    [error] = result.stderr.strip().splitlines()[-1:]
    assert "answered 404" in error and f"devkit traffic {endpoint}" in error
    assert [d["traffic"] for d in status["deployments"]] == [0, 0]


def test_logs_of_one_deployment(endpoint: str, env: dict[str, str]) -> None:
    result = run(env, "logs", endpoint, "-d", "blue", "--tail", "-1")
    assert result.returncode == 0 and "regression: loaded" in result.stdout


def test_unknown_endpoint_lists_the_running_ones(endpoint: str, env: dict[str, str]) -> None:
    result = run(env, "logs", "no-such-endpoint")
    assert result.returncode == 5
    assert result.stderr.count("\n") == 1  # one sentence
    assert "no-such-endpoint" in result.stderr and endpoint in result.stderr


def test_down_needs_a_name_or_all(env: dict[str, str]) -> None:
    result = run(env, "down")
    assert result.returncode != 0 and "--all" in result.stderr


def test_down_then_nothing_runs(endpoint: str, env: dict[str, str]) -> None:
    assert run(env, "down", endpoint).returncode == 0
    result = run(env, "status", "--json")
    assert endpoint not in [e["name"] for e in json.loads(result.stdout)]


@pytest.fixture(scope="module")
def rawhttp(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """samples/rawhttp (bytes in, bytes out) under a unique name."""
    name = f"raw-{uuid.uuid4().hex[:6]}"
    folder = tmp_path_factory.mktemp("raw") / name
    shutil.copytree(SAMPLES / "rawhttp", folder)
    for spec in folder.glob("*.yml"):
        spec.write_text(spec.read_text().replace("rawhttp\n", f"{name}\n"))
    result = run(env, "up", str(folder), "--engine", "process")
    assert result.returncode == 0, result.stderr
    yield name
    run(env, "down", name)


def test_invoke_writes_binary_bodies_as_raw_bytes(rawhttp: str, env: dict[str, str],
                                                  tmp_path: Path) -> None:
    original = SAMPLES / "rawhttp" / "sample-request.bin"
    scrambled = subprocess.run([sys.executable, "-m", "devkit.cli.main", "invoke", rawhttp,
                                "--request-file", str(original)], env=env,
                               capture_output=True, timeout=600)
    assert scrambled.returncode == 0, scrambled.stderr
    assert b"200 OK from main" in scrambled.stderr
    assert len(scrambled.stdout) == len(original.read_bytes())
    assert scrambled.stdout != original.read_bytes()
    answer, back = tmp_path / "answer.bin", tmp_path / "back.bin"
    answer.write_bytes(scrambled.stdout)
    result = run(env, "invoke", rawhttp, "--request-file", str(answer), "--output", str(back))
    assert result.returncode == 0 and result.stdout == "", result.stderr
    assert back.read_bytes() == original.read_bytes()  # XOR twice: the original bytes
