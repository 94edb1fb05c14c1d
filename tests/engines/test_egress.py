"""``egress_public_network_access: disabled`` on the docker engine (and what the process
engine says about it), tested without sending anything beyond loopback and this
endpoint's own Docker networks.

One endpoint for the module: the regression sample with blue's egress disabled and
green's left enabled, side by side behind one router. Tests run in file order.
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
from engine_helpers import SAMPLES, copy_endpoint, unique

from devkit.engines import EndpointStatus, RunSettings, get_engine, no_progress
from devkit.engines.docker import egress
from devkit.errors import EndpointNotFound, EngineError
from devkit.router.keys import load_or_create_keys
from devkit.spec import load

REQUEST = (SAMPLES / "regression" / "sample-request.json").read_bytes()
DISABLED = "egress_public_network_access: disabled\n"
# Connects to an address on green's network from inside blue: refused by a route table
# with no way there (ENETUNREACH), never by a peer.
PROBE = ("import socket, sys\ns = socket.socket(); s.settimeout(3)\n"
         "print(s.connect_ex((sys.argv[1], 5001)))")


def _folder(root: Path) -> Path:
    name = unique("egress")
    target = copy_endpoint(SAMPLES / "regression", root / name, "regression", name)
    blue = target / "blue.yml"
    blue.write_text(blue.read_text() + DISABLED)
    return target


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _folder(tmp_path_factory.mktemp("ep"))


@pytest.fixture(scope="module")
def endpoint_up(folder: Path, module_state: Path, base_image: str) -> Iterator[EndpointStatus]:
    engine = get_engine("docker")
    endpoint = load([folder])
    lines: list[str] = []
    status = engine.up(endpoint, RunSettings(watch=False), lines.append)
    assert any("blue: egress disabled" in line for line in lines), lines
    yield status
    with contextlib.suppress(EndpointNotFound):  # the last test takes it down itself
        engine.down(endpoint.name)


def _replica(docker_client: Any, endpoint: str, deployment: str) -> Any:
    [container] = docker_client.containers.list(filters={"label": [
        f"devkit.endpoint={endpoint}", f"devkit.deployment={deployment}",
        "devkit.role=deployment"]})
    return container


def _routes(container: Any) -> list[list[str]]:
    code, output = container.exec_run(["cat", "/proc/net/route"])
    assert code == 0, output
    return [line.split() for line in output.decode().splitlines()[1:] if line.strip()]


def _has_default(container: Any) -> bool:
    return any(fields[1] == "00000000" for fields in _routes(container))


@pytest.mark.docker
def test_disabled_replicas_are_on_an_internal_network(endpoint_up: EndpointStatus,
                                                     docker_client: Any) -> None:
    name = endpoint_up.name
    network = docker_client.networks.get(egress.network_name(name))
    assert network.attrs["Internal"] is True
    assert network.attrs["Labels"]["devkit.endpoint"] == name
    blue = _replica(docker_client, name, "blue")
    green = _replica(docker_client, name, "green")
    assert set(blue.attrs["NetworkSettings"]["Networks"]) == {egress.network_name(name)}
    assert set(green.attrs["NetworkSettings"]["Networks"]) == {f"devkit-{name}"}
    [router] = docker_client.containers.list(filters={"label": [
        f"devkit.endpoint={name}", "devkit.role=router"]})
    assert set(router.attrs["NetworkSettings"]["Networks"]) == {
        f"devkit-{name}", egress.network_name(name)}
    assert "CapAdd" not in blue.attrs["HostConfig"] or not blue.attrs["HostConfig"]["CapAdd"]


@pytest.mark.docker
def test_routing_tables_seen_from_inside(endpoint_up: EndpointStatus,
                                         docker_client: Any) -> None:
    blue = _replica(docker_client, endpoint_up.name, "blue")
    green = _replica(docker_client, endpoint_up.name, "green")
    assert not _has_default(blue), _routes(blue)
    assert _routes(blue), "blue keeps its own subnet's route"
    assert _has_default(green), _routes(green)
    # green sits on the endpoint network: from blue there is no route to it at all
    green_ip = green.attrs["NetworkSettings"]["Networks"][f"devkit-{endpoint_up.name}"][
        "IPAddress"]
    code, output = blue.exec_run(["python3", "-c", PROBE, green_ip])
    assert code == 0 and output.decode().strip() == "101", output  # ENETUNREACH


@pytest.mark.docker
def test_scoring_through_the_router_reaches_both(endpoint_up: EndpointStatus) -> None:
    assert endpoint_up.scoring_uri is not None
    key = load_or_create_keys(endpoint_up.name).primary
    for deployment in ("blue", "green"):
        reply = httpx.post(endpoint_up.scoring_uri, content=REQUEST, timeout=30,
                           headers={"Authorization": f"Bearer {key}",
                                    "Content-Type": "application/json",
                                    "azureml-model-deployment": deployment})
        assert reply.status_code == 200, reply.text
        assert reply.headers["azureml-model-deployment"] == deployment
        assert len(reply.json()) == 2


@pytest.mark.docker
def test_status_json_says_egress_per_deployment(endpoint_up: EndpointStatus) -> None:
    result = subprocess.run([sys.executable, "-m", "devkit.cli.main", "status",
                             endpoint_up.name, "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    [found] = json.loads(result.stdout)
    egress_of = {d["name"]: d["egress"] for d in found["deployments"]}
    assert egress_of == {"blue": "disabled", "green": "enabled"}
    blue = next(d for d in found["deployments"] if d["name"] == "blue")
    assert blue["state"] == "ready"


@pytest.mark.docker
def test_down_removes_the_internal_network(folder: Path, endpoint_up: EndpointStatus,
                                           docker_client: Any) -> None:
    get_engine("docker").down(endpoint_up.name)
    left = docker_client.networks.list(filters={"label": f"devkit.endpoint={endpoint_up.name}"})
    assert left == []
    assert docker_client.containers.list(
        all=True, filters={"label": f"devkit.endpoint={endpoint_up.name}"}) == []


def test_process_engine_refuses_under_strict(tmp_path: Path, isolated_state: Path) -> None:
    endpoint = load([_folder(tmp_path)])
    engine = get_engine("process")
    with pytest.raises(EngineError, match=r"deployment 'blue'.*cannot be enforced by the "
                                          r"process engine.*--engine docker"):
        engine.up(endpoint, RunSettings(strict=True), no_progress)
    assert engine.status(endpoint.name) == []  # refused before anything started


def test_process_engine_warns_once(tmp_path: Path, isolated_state: Path) -> None:
    endpoint = load([_folder(tmp_path)])
    engine = get_engine("process")
    lines: list[str] = []
    try:
        status = engine.up(endpoint, RunSettings(watch=False), lines.append)
        warnings = [line for line in lines if "egress_public_network_access" in line]
        assert len(warnings) == 1, lines
        assert warnings[0].startswith("warning: ") and "'blue'" in warnings[0]
        assert "'green'" not in warnings[0]
        assert {d.name: d.egress for d in status.deployments} == {"blue": "enabled",
                                                                  "green": "enabled"}
    finally:
        engine.down(endpoint.name)


def test_cli_up_strict_exits_before_starting(tmp_path: Path, isolated_state: Path) -> None:
    folder = _folder(tmp_path)
    result = subprocess.run([sys.executable, "-m", "devkit.cli.main", "up", str(folder),
                             "--engine", "process", "--strict"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "cannot be enforced by the process engine" in result.stderr
    assert "Traceback" not in result.stderr
