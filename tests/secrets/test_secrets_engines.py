"""Secrets on real engines, through the real CLI: resolved at replica start, seen by
score.py as plain variables, absent from every place the issue lists (image, labels,
``Config.Env``, logs, ``status --json``, devkit's state and spec copies, the supervisor's
environment), rotated with a restart of only the deployment that uses them, and a missing
one refused before anything starts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FIXTURE = Path(__file__).parent / "fixture"
URI = "azureml://connections/db/credentials/password"


def devkit(env: dict[str, str], *args: str, stdin: str | None = None
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "devkit.cli.main", *args], env=env,
                          input=stdin, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module", params=[pytest.param("docker", marks=pytest.mark.docker),
                                        "process"])
def engine_name(request: pytest.FixtureRequest) -> str:
    if request.param == "docker":
        request.getfixturevalue("base_image")
    return str(request.param)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("secrets")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AZUREML_CONNECTIONS")}
    return {**clean, "DEVKIT_STATE_DIR": str(root / "state"),
            "DEVKIT_CONFIG_DIR": str(root / "config"), "DEVKIT_RUNTIME_DIR": str(root / "run")}


def endpoint_folder(parent: Path, name: str) -> Path:
    folder = parent / name
    shutil.copytree(FIXTURE, folder)
    for spec in folder.glob("*.yml"):
        spec.write_text(spec.read_text().replace("ENDPOINT", name))
    return folder


@pytest.fixture(scope="module")
def endpoint(engine_name: str, env: dict[str, str],
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, str]]:
    name = f"sec-{engine_name[:3]}-{uuid.uuid4().hex[:6]}"
    folder = endpoint_folder(tmp_path_factory.mktemp("ep"), name)
    value = f"first-{uuid.uuid4().hex}"
    assert devkit(env, "secrets", "set", URI, stdin=value).returncode == 0
    done = devkit(env, "up", str(folder), "--engine", engine_name)
    assert done.returncode == 0, done.stderr
    yield name, folder, value
    devkit(env, "down", name)


def invoke(env: dict[str, str], name: str, deployment: str) -> dict[str, Any]:
    request = FIXTURE / "score.py"  # any body: run() ignores it
    done = devkit(env, "invoke", name, "--request-file", str(request), "-d", deployment)
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def test_score_py_sees_the_resolved_value(endpoint: tuple[str, Path, str],
                                          env: dict[str, str]) -> None:
    name, _, value = endpoint
    blue = invoke(env, name, "blue")
    assert blue["secret"] == f"pg://app:{value}@db/app" and blue["mode"] == "plain"
    assert invoke(env, name, "green")["secret"] == ""


def test_the_value_is_nowhere_it_would_stay(endpoint: tuple[str, Path, str],
                                            env: dict[str, str], engine_name: str,
                                            request: pytest.FixtureRequest) -> None:
    name, folder, value = endpoint
    places: dict[str, str] = {
        "status --json": devkit(env, "status", "--json").stdout,
        "logs": devkit(env, "logs", name, "--tail", "-1").stdout,
        "state dir": _tree_text(Path(env["DEVKIT_STATE_DIR"])),
        "spec folder": _tree_text(folder),
    }
    if engine_name == "docker":
        client = request.getfixturevalue("docker_client")
        containers = client.containers.list(all=True, filters={"label": f"devkit.endpoint={name}"})
        assert len(containers) >= 3  # blue, green, router
        for container in containers:
            config = container.attrs["Config"]
            places[f"{container.name} Config.Env"] = json.dumps(config.get("Env"))
            places[f"{container.name} labels"] = json.dumps(config.get("Labels"))
            image = client.images.get(config["Image"])
            places[f"{container.name} image"] = json.dumps(image.attrs) + json.dumps(
                image.history())
    else:
        places["supervisor environ"] = _supervisor_environ(env, name)
    leaked = [where for where, text in places.items() if value in text]
    assert leaked == [], f"the secret value shows in: {leaked}"
    assert URI in places["state dir"] or URI in places["spec folder"]  # the reference may


def test_rotation_restarts_only_the_deployment_using_it(endpoint: tuple[str, Path, str],
                                                         env: dict[str, str],
                                                         engine_name: str) -> None:
    name, folder, _ = endpoint
    before = {d: invoke(env, name, d)["token"] for d in ("blue", "green")}
    rotated = f"second-{uuid.uuid4().hex}"
    assert devkit(env, "secrets", "set", URI, stdin=rotated).returncode == 0
    done = devkit(env, "up", str(folder), "--engine", engine_name)
    assert done.returncode == 0, done.stderr
    assert "green: unchanged" in done.stderr and "blue: restarting" in done.stderr
    blue, green = invoke(env, name, "blue"), invoke(env, name, "green")
    assert blue["secret"] == f"pg://app:{rotated}@db/app"
    assert blue["token"] != before["blue"] and green["token"] == before["green"]


def test_a_missing_secret_stops_up_before_anything_starts(engine_name: str,
                                                          env: dict[str, str],
                                                          tmp_path: Path) -> None:
    name = f"sec-miss-{uuid.uuid4().hex[:6]}"
    folder = endpoint_folder(tmp_path, name)
    (folder / "blue.yml").write_text((folder / "blue.yml").read_text().replace(
        "connections/db/", "connections/nowhere/"))
    done = devkit(env, "up", str(folder), "--engine", engine_name)
    assert done.returncode == 2
    assert "environment_variables.DB_URL" in done.stderr
    assert "devkit secrets set azureml://connections/nowhere/credentials/password" in done.stderr
    assert "AZUREML_CONNECTIONS__NOWHERE__CREDENTIALS__PASSWORD" in done.stderr
    assert name not in devkit(env, "status", "--json").stdout


def _tree_text(root: Path) -> str:
    parts = []
    for path in root.rglob("*"):
        if path.is_file():
            try:
                parts.append(path.read_text(errors="replace"))
            except OSError:
                continue
    return "\n".join(parts)


def _supervisor_environ(env: dict[str, str], name: str) -> str:
    """The environment every replica process of the endpoint started with (the runtime
    exports secrets only inside its workers, after start)."""
    record = json.loads((Path(env["DEVKIT_STATE_DIR"]) / "endpoints" / name / "process.json")
                        .read_text())
    pids = [r["pid"] for d in record["deployments"].values() for r in d["replicas"]]
    assert pids
    return "\n".join(Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
                     for pid in pids)
