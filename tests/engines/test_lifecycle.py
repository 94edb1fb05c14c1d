"""One endpoint's life on each engine, for real: ``up`` of the regression sample (two
deployments behind the endpoint's router), invoke, status from another process, an
unchanged second ``up``, a spec error, a changed and a removed deployment, logs, and
``down`` leaving nothing behind.

The whole module shares one ``up`` per engine (module-scoped fixture); the tests run in
file order and each leaves the endpoint in the state the next one expects.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from engine_helpers import SAMPLES, copy_endpoint, router_mark, unique

from devkit.engines import DeploymentState, EndpointStatus, Engine, RunSettings
from devkit.engines.process import state as process_state
from devkit.errors import EndpointNotFound
from devkit.router.keys import load_or_create_keys
from devkit.spec import load

REQUEST = (SAMPLES / "regression" / "sample-request.json").read_bytes()


def devkit(*args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI in a child process (another shell, as far as state goes)."""
    return subprocess.run([sys.executable, "-m", "devkit.cli.main", *args],
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, engine_name: str) -> Path:
    name = unique(f"reg-{engine_name[:4]}")
    return copy_endpoint(SAMPLES / "regression", tmp_path_factory.mktemp("ep") / name,
                         "regression", name)


@pytest.fixture(scope="module")
def started(engine: Engine, folder: Path, module_state: Path) -> Iterator[EndpointStatus]:
    lines: list[str] = []
    endpoint = load([folder])
    status = engine.up(endpoint, RunSettings(), lines.append)
    yield status
    with contextlib.suppress(EndpointNotFound):
        engine.down(endpoint.name)


def fingerprint(engine: Engine, docker_client: Any | None, name: str) -> dict[str, list[str]]:
    """Per deployment (and for the router), each replica's identity and start time:
    unchanged iff untouched."""
    result: dict[str, list[str]] = {"router": [router_mark(engine, docker_client, name)]}
    for d in engine.status(name)[0].deployments:
        marks = []
        for r in d.replica_status:
            if engine.name == "docker":
                started_at = docker_client.containers.get(r.ident).attrs["State"]["StartedAt"]
            else:
                started_at = str(process_state.start_time(int(r.ident)))
            marks.append(f"{r.ident}@{started_at}")
        result[d.name] = marks
    return result


def test_up_starts_every_deployment_ready(started: EndpointStatus, engine_name: str) -> None:
    assert started.engine == engine_name
    assert [(d.name, d.state, d.replicas, d.traffic) for d in started.deployments] == [
        ("blue", DeploymentState.READY, 1, 90), ("green", DeploymentState.READY, 1, 10)]
    assert started.scoring_uri is not None
    assert started.scoring_uri.startswith("http://127.0.0.1:")


def test_invoke_scores_through_the_router_and_on_each_deployment(
        started: EndpointStatus) -> None:
    assert started.scoring_uri is not None
    key = {"Authorization": f"Bearer {load_or_create_keys(started.name).primary}"}
    answer = httpx.post(started.scoring_uri, content=REQUEST, headers=key, timeout=30)
    assert answer.status_code == 200
    assert len(answer.json()) == 2
    # Each deployment on its own, through the router (replicas are not reachable from the
    # host on docker: only the router is).
    by_deployment = {d.name: httpx.post(started.scoring_uri, content=REQUEST, timeout=30,
                                        headers={**key, "azureml-model-deployment": d.name}
                                        ).json() for d in started.deployments}
    # blue (OLS) and green (ridge) are different models: different predictions.
    assert by_deployment["blue"] != by_deployment["green"]
    assert answer.json() == by_deployment[answer.headers["azureml-model-deployment"]]
    pinned = httpx.post(started.scoring_uri, content=REQUEST, timeout=30,
                        headers={**key, "azureml-model-deployment": "green"})
    assert pinned.json() == by_deployment["green"]


def test_status_is_true_from_another_process(started: EndpointStatus) -> None:
    result = devkit("status", started.name, "--json")
    assert result.returncode == 0, result.stderr
    [endpoint] = json.loads(result.stdout)
    assert set(endpoint) >= {"name", "scoring_uri", "auth_mode", "engine", "deployments"}
    assert endpoint["name"] == started.name and endpoint["auth_mode"] == "key"
    for d in endpoint["deployments"]:
        assert set(d) >= {"name", "state", "replicas", "traffic", "mirror", "image"}
        assert d["state"] == "ready"


def test_second_up_with_nothing_changed_touches_nothing(
        started: EndpointStatus, engine: Engine, folder: Path,
        client_if_docker: Any | None) -> None:
    before = fingerprint(engine, client_if_docker, started.name)
    lines: list[str] = []
    engine.up(load([folder]), RunSettings(), lines.append)
    assert not any("building" in line for line in lines), lines
    assert fingerprint(engine, client_if_docker, started.name) == before
    assert sum(line.endswith("unchanged, left running") for line in lines) == 2
    assert any(line.startswith("router: unchanged") for line in lines), lines


def test_spec_error_leaves_the_running_endpoint_untouched(
        started: EndpointStatus, engine: Engine, engine_name: str, folder: Path,
        tmp_path: Path, client_if_docker: Any | None) -> None:
    before = fingerprint(engine, client_if_docker, started.name)
    broken = copy_endpoint(folder, tmp_path / "broken", started.name, started.name)
    text = (broken / "green.yml").read_text()
    (broken / "green.yml").write_text(text.replace("instance_count: 1", "instance_cout: 2"))
    result = devkit("up", str(broken), "--engine", engine_name)
    assert result.returncode == 2
    assert "green.yml:" in result.stderr and "instance_cout" in result.stderr
    assert fingerprint(engine, client_if_docker, started.name) == before


def test_changed_deployment_is_the_only_one_restarted(
        started: EndpointStatus, engine: Engine, folder: Path,
        client_if_docker: Any | None) -> None:
    before = fingerprint(engine, client_if_docker, started.name)
    green = folder / "green.yml"
    green.write_text(green.read_text().replace("instance_count: 1", "instance_count: 2"))
    status = engine.up(load([folder]), RunSettings(), lambda _: None)
    after = fingerprint(engine, client_if_docker, started.name)
    assert after["blue"] == before["blue"] and after["router"] == before["router"]
    assert len(after["green"]) == 2 and not set(after["green"]) & set(before["green"])
    green_status = status.deployment("green")
    assert green_status is not None and green_status.replicas == 2
    assert green_status.state is DeploymentState.READY
    assert status.scoring_uri is not None
    key = {"Authorization": f"Bearer {load_or_create_keys(started.name).primary}",
           "azureml-model-deployment": "green"}
    for _ in range(4):  # both replicas, through the router
        assert httpx.post(status.scoring_uri, content=REQUEST, headers=key,
                          timeout=30).status_code == 200


def test_logs_show_the_scripts_output(started: EndpointStatus, engine: Engine) -> None:
    blue = list(engine.logs(started.name, "blue", tail=None))
    assert any("regression: loaded" in line for line in blue), blue[-20:]
    # Several replicas and the router: every line says which one wrote it.
    every = [line for line in engine.logs(started.name, tail=5) if line]
    prefixes = {line.split(" | ", 1)[0] for line in every}
    assert prefixes == {"blue-0", "green-0", "green-1", "router"}


def test_deployment_removed_from_the_spec_is_removed(
        started: EndpointStatus, engine: Engine, folder: Path,
        client_if_docker: Any | None) -> None:
    before = fingerprint(engine, client_if_docker, started.name)
    (folder / "green.yml").unlink()
    endpoint_file = folder / "endpoint.yml"
    endpoint_file.write_text(endpoint_file.read_text().replace("blue: 90", "blue: 100")
                             .replace("  green: 10\n", ""))
    status = engine.up(load([folder]), RunSettings(), lambda _: None)
    assert [d.name for d in status.deployments] == ["blue"]
    assert fingerprint(engine, client_if_docker, started.name) == {
        "blue": before["blue"], "router": before["router"]}
    assert status.deployments[0].traffic == 100


def test_down_leaves_nothing_behind(started: EndpointStatus, engine: Engine,
                                    client_if_docker: Any | None,
                                    module_state: Path) -> None:
    idents = [r.ident for d in engine.status(started.name)[0].deployments
              for r in d.replica_status]
    if engine.name == "process":
        idents.append(router_mark(engine, client_if_docker, started.name).split("@")[0])
    engine.down(started.name)
    assert engine.status(started.name) == []
    if client_if_docker is not None:
        label = {"label": [f"devkit.endpoint={started.name}"]}
        assert client_if_docker.containers.list(all=True, filters=label) == []
        assert client_if_docker.networks.list(filters=label) == []
        assert client_if_docker.volumes.list(filters=label) == []
    else:
        assert not any(process_state.pid_alive(int(pid), None) for pid in idents)
        assert not (module_state / "endpoints" / started.name).exists()
    with pytest.raises(EndpointNotFound, match="devkit up"):
        engine.down(started.name)
