"""What only the docker engine shows: replicas, SKU limits, loopback-only ports, read-only
mounts and labels, all read from the real engine with ``docker inspect``; and the errors
for a missing engine and a GPU the engine cannot give."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from engine_helpers import SAMPLES, copy_endpoint, unique

from devkit.engines import EndpointStatus, RunSettings, get_engine
from devkit.engines.docker import DockerEngine
from devkit.engines.sku import GIB
from devkit.errors import EngineUnavailable, GpuUnavailable
from devkit.spec import load

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
