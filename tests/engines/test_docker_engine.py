"""What only the docker engine shows: replicas, SKU limits, loopback-only ports, read-only
mounts and labels, all read from the real engine with ``docker inspect``; and the errors
for a missing engine and a GPU the engine cannot give."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from engine_helpers import SAMPLES, copy_endpoint, unique
from support.direct import headers_for

from devkit.engines import EndpointStatus, RunSettings, get_engine
from devkit.engines.docker import DockerEngine
from devkit.engines.sku import GIB
from devkit.errors import EngineUnavailable, GpuUnavailable
from devkit.spec import load

REQUEST = json.loads((SAMPLES / "regression" / "sample-request.json").read_text())

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def sized_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The regression sample with blue on a DS1_v2 and two DS3_v2 replicas of green."""
    name = unique("sized")
    folder = copy_endpoint(SAMPLES / "regression", tmp_path_factory.mktemp("ep") / name,
                           "regression", name)
    blue, green = folder / "blue.yml", folder / "green.yml"
    blue.write_text(blue.read_text().replace("Standard_DS3_v2", "Standard_DS1_v2"))
    green.write_text(green.read_text().replace("instance_count: 1", "instance_count: 2"))
    return folder


@pytest.fixture(scope="module")
def sized(docker_client: Any, base_image: str, module_state: Path,
          sized_folder: Path) -> Iterator[EndpointStatus]:
    engine = DockerEngine()
    endpoint = load([sized_folder])
    try:
        yield engine.up(endpoint, RunSettings(), lambda _: None)
    finally:
        engine.down(endpoint.name)


def containers(client: Any, endpoint: str, deployment: str) -> list[Any]:
    labels = [f"devkit.endpoint={endpoint}", f"devkit.deployment={deployment}"]
    return sorted(client.containers.list(all=True, filters={"label": labels}),
                  key=lambda c: c.labels["devkit.replica"])


def test_instance_count_replicas_exist_in_the_engine(sized: EndpointStatus,
                                                     docker_client: Any) -> None:
    assert len(containers(docker_client, sized.name, "blue")) == 1
    green = containers(docker_client, sized.name, "green")
    assert [c.labels["devkit.replica"] for c in green] == ["0", "1"]
    assert all(c.status == "running" for c in green)


def test_sku_limits_are_container_limits(sized: EndpointStatus, docker_client: Any) -> None:
    [blue] = containers(docker_client, sized.name, "blue")
    host = docker_client.info()
    assert blue.attrs["HostConfig"]["NanoCpus"] == 1_000_000_000  # DS1_v2: 1 core
    assert blue.attrs["HostConfig"]["Memory"] == int(3.5 * GIB)  # and 3.5 GiB
    for green in containers(docker_client, sized.name, "green"):  # DS3_v2: 4 cores, 14 GiB
        assert green.attrs["HostConfig"]["NanoCpus"] == min(4, host["NCPU"]) * 1_000_000_000
        assert green.attrs["HostConfig"]["Memory"] == min(14 * GIB, host["MemTotal"])


def published(container: Any) -> list[dict[str, str]]:
    container.reload()
    return [b for port in (container.attrs["NetworkSettings"]["Ports"] or {}).values()
            for b in port or []]


def test_only_the_router_is_reachable_from_the_host(sized: EndpointStatus,
                                                    docker_client: Any) -> None:
    for deployment in ("blue", "green"):
        for c in containers(docker_client, sized.name, deployment):
            assert published(c) == [] and not c.attrs["HostConfig"]["PortBindings"]
    [router] = docker_client.containers.list(
        filters={"label": [f"devkit.endpoint={sized.name}", "devkit.role=router"]})
    assert {b["HostIp"] for b in published(router)} == {"127.0.0.1"}
    # status says where each replica answers on the endpoint network: not callable here
    now = DockerEngine().status(sized.name)[0]
    for d in now.deployments:
        assert d.urls == ()
        for replica in d.replica_status:
            assert not replica.url_is_host and replica.admin_url is None
            with pytest.raises(httpx.TransportError):
                httpx.get(f"{replica.url}/-/ready", timeout=2)


def test_code_and_model_are_mounted_read_only_where_azure_puts_them(
        sized: EndpointStatus, docker_client: Any) -> None:
    [blue] = containers(docker_client, sized.name, "blue")
    mounts = {m["Destination"]: m for m in blue.attrs["Mounts"]}
    model = "/var/azureml-app/azureml-models/diabetes-regression/1"
    # The model folder appears inside AZUREML_MODEL_DIR under its own name, as in Azure.
    target = f"{model}/model"
    assert mounts[target]["Source"].endswith("model-1/model") and not mounts[target]["RW"]
    assert not mounts[f"/var/azureml-app/{sized.name}"]["RW"]
    env = dict(line.split("=", 1) for line in blue.attrs["Config"]["Env"])
    assert env["AZUREML_MODEL_DIR"] == model
    assert env["AML_APP_ROOT"] == f"/var/azureml-app/{sized.name}"
    assert env["AZUREML_ENTRY_SCRIPT"] == "score.py"


def test_labels_carry_what_status_needs(sized: EndpointStatus, docker_client: Any) -> None:
    [blue] = containers(docker_client, sized.name, "blue")
    labels = blue.labels
    assert labels["devkit.managed"] == "1" and labels["devkit.role"] == "deployment"
    assert len(labels["devkit.spec-hash"]) == 64 and labels["devkit.env-hash"]
    # traffic and auth live in the router config alone, never in immutable labels
    assert not {"devkit.auth-mode", "devkit.traffic", "devkit.mirror"} & set(labels)
    assert (sized.auth_mode, [d.traffic for d in sized.deployments]) == ("key", [90, 10])

# POST /-/reload on the replica's admin port from inside its container, without the secret
ADMIN_CALL = """
import urllib.request, urllib.error
try:
    urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:5002/-/reload",
                                                  data=b"", method="POST"), timeout=60)
    print(200)
except urllib.error.HTTPError as e:
    print(e.code)
"""


def bridge_url(container: Any, port: int) -> str:
    """``http://IP:port`` of the container on its endpoint network, from ``docker inspect``."""
    container.reload()
    [net] = [n for name, n in container.attrs["NetworkSettings"]["Networks"].items()
             if name.startswith("devkit-")]
    return f"http://{net['IPAddress']}:{port}"


def test_a_replica_bridge_address_takes_calls_only_with_the_replica_secret(
        sized: EndpointStatus, sized_folder: Path, docker_client: Any) -> None:
    """A Linux host reaches a container's address on the endpoint network; without the
    endpoint's replica secret /score and the admin reload are refused there, with it (the
    router's and the CLI's header) they work, and the value is in no Env or label."""
    [blue] = containers(docker_client, sized.name, "blue")
    score = bridge_url(blue, 5001) + "/score"
    try:
        refused = httpx.post(score, json=REQUEST, timeout=10)
    except httpx.TransportError:
        pytest.skip("this host does not reach container addresses (Docker Desktop)")
    assert refused.status_code == 401
    message = refused.json()["message"]
    assert "x-devkit-replica-secret" in message and message.count(". ") == 0
    secret = headers_for(score)
    [value] = secret.values()
    assert httpx.post(score, json=REQUEST, timeout=30, headers=secret).status_code == 200
    # The admin listener answers only on the container's loopback; there, too, a reload
    # without the secret is refused, and devkit's own (docker exec) reload carries it.
    with pytest.raises(httpx.TransportError):
        httpx.post(bridge_url(blue, 5002) + "/-/reload", timeout=10)
    code, output = blue.exec_run(["python3", "-c", ADMIN_CALL])
    assert output.decode().strip() == "401", output
    [replica] = [r for d in DockerEngine().status(sized.name)[0].deployments
                 if d.name == "blue" for r in d.replica_status]
    assert DockerEngine().reload_replica(replica)["ok"] is True
    assert httpx.get(bridge_url(blue, 5001) + "/-/ready", timeout=10).status_code == 200
    # through the router, with the endpoint's key, as a client calls it
    key = DockerEngine().keys(sized.name).primary
    assert sized.scoring_uri is not None
    routed = httpx.post(sized.scoring_uri, json=REQUEST, timeout=30,
                        headers={"Authorization": f"Bearer {key}"})
    assert routed.status_code == 200, routed.text
    for c in containers(docker_client, sized.name, "blue") + containers(
            docker_client, sized.name, "green"):
        shown = repr(c.attrs["Config"]["Env"]) + repr(c.attrs["Config"]["Labels"])
        assert value not in shown and "DEVKIT_REPLICA_SECRET_FILE=/run/devkit/" in shown
        [mount] = [m for m in c.attrs["Mounts"] if m["Destination"] == "/run/devkit/replica.secret"]
        assert not mount["RW"]
    assert value not in repr(DockerEngine().status(sized.name)[0])
    # the secret is per endpoint and stable: a second `up` restarts nothing
    said: list[str] = []
    DockerEngine().up(load([sized_folder]), RunSettings(), said.append)
    assert "blue: unchanged, left running" in said and "green: unchanged, left running" in said
    assert any(line.startswith("router: unchanged") for line in said), said
    assert headers_for(score) == secret


def test_gpu_without_nvidia_runtime_fails_before_any_build(
        docker_client: Any, isolated_state: Path, tmp_path: Path, require: Any) -> None:
    require("nvidia" not in (docker_client.info().get("Runtimes") or {}),
            "this engine has the NVIDIA runtime, so a GPU deployment cannot be refused here")
    name = unique("gpu")
    folder = copy_endpoint(SAMPLES / "regression", tmp_path / name, "regression", name)
    images_before = {i.id for i in docker_client.images.list()}
    with pytest.raises(GpuUnavailable, match="NVIDIA"):
        DockerEngine().up(load([folder]), RunSettings(gpu=True), lambda _: None)
    assert {i.id for i in docker_client.images.list()} == images_before
    label = {"label": [f"devkit.endpoint={name}"]}
    assert docker_client.containers.list(all=True, filters=label) == []


def test_no_engine_is_one_sentence_and_falls_back_to_process(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    with pytest.raises(EngineUnavailable, match="No Docker engine answers.*--engine process"):
        get_engine("docker")
    notices: list[str] = []
    assert get_engine(None, notices.append).name == "process"
    assert notices and "using the process engine" in notices[0]


def test_up_expose_publishes_replica_ports_on_loopback(sized: EndpointStatus,
                                                       sized_folder: Path,
                                                       docker_client: Any) -> None:
    """The last test of the module: it recreates the replicas with published ports."""
    status = DockerEngine().up(load([sized_folder]), RunSettings(expose=True), lambda _: None)
    for deployment in ("blue", "green"):
        for c in containers(docker_client, sized.name, deployment):
            bindings = published(c)
            assert bindings and {b["HostIp"] for b in bindings} == {"127.0.0.1"}
    for d in status.deployments:
        assert d.urls and all(u.startswith("http://127.0.0.1:") for u in d.urls)
        assert httpx.get(f"{d.urls[0]}/-/ready", timeout=10).status_code == 200
