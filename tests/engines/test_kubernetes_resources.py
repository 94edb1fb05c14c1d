"""A ``type: kubernetes`` deployment's ``resources`` are its containers' CPU and memory
limits on the docker engine (read back with ``docker inspect``), and a Kubernetes
deployment without ``instance_type`` runs as Azure's ``defaultinstancetype``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from engine_helpers import SAMPLES, copy_endpoint, unique

from devkit.engines.docker import DockerEngine
from devkit.engines.sku import GIB
from devkit.spec import load

pytestmark = [pytest.mark.docker, pytest.mark.timeout(600)]

KUBERNETES = """\
type: kubernetes
resources:
  requests:
    cpu: "100m"
    memory: "200Mi"
  limits:
    cpu: "0.5"
    memory: "0.75Gi"
"""


def test_resources_are_container_limits(docker_client: Any, base_image: str,
                                        module_state: Path, tmp_path: Path) -> None:
    name = unique("k8sres")
    folder = copy_endpoint(SAMPLES / "regression", tmp_path / name, "regression", name)
    blue, green = folder / "blue.yml", folder / "green.yml"
    blue.write_text(blue.read_text().replace("instance_type: Standard_DS3_v2\n", KUBERNETES))
    green.write_text(green.read_text().replace("instance_type: Standard_DS3_v2\n",
                                               "type: Kubernetes\n"))
    engine = DockerEngine()
    try:
        engine.up(load([folder]), engine_options(), lambda _: None)
        host = docker_client.info()
        limits = {}
        for deployment in ("blue", "green"):
            [container] = docker_client.containers.list(filters={"label": [
                f"devkit.endpoint={name}", f"devkit.deployment={deployment}"]})
            config = container.attrs["HostConfig"]
            limits[deployment] = (config["NanoCpus"], config["Memory"])
        assert limits["blue"] == (500_000_000, int(0.75 * GIB))
        # defaultinstancetype: 2 CPUs and 2 GiB, capped at the host.
        assert limits["green"] == (min(2, host["NCPU"]) * 1_000_000_000,
                                   min(2 * GIB, host["MemTotal"]))
    finally:
        engine.down(name)


def engine_options() -> Any:
    from devkit.engines import UpOptions

    return UpOptions()
