"""``egress_public_network_access: disabled`` on a real single-node swarm: green's tasks run
on the endpoint's internal overlay network with no route out, the router on both networks
still serves it, status says so, and ``down`` removes the network. Nothing is sent beyond
loopback and the endpoint's own networks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from load import burst

from devkit.actions import targets as ops
from devkit.actions.promote import PromoteOptions, promote
from devkit.errors import EndpointNotFound

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def sealed(base_image: str, target_config: str,
           regression: tuple[str, Path]) -> Iterator[dict[str, Any]]:
    name, folder = regression
    green = folder / "green.yml"
    green.write_text(green.read_text() + "egress_public_network_access: disabled\n")
    try:
        result = promote(str(folder), PromoteOptions(target=target_config, overcommit=True),
                         lambda line: None, lambda plan: True)
        assert result.applied and result.status is not None
        yield {"name": name, "url": result.status.scoring_uri, "folder": folder,
               "key": ops.keys(target_config, name)["primary"]}
    finally:
        with contextlib.suppress(EndpointNotFound):
            ops.down(target_config, name, lambda line: None)


def _task(docker_client: Any, endpoint: str, deployment: str) -> Any:
    [container] = docker_client.containers.list(filters={"label": [
        f"devkit.endpoint={endpoint}", f"devkit.deployment={deployment}"]})
    return container


def _default_routes(container: Any) -> list[str]:
    code, output = container.exec_run(["cat", "/proc/net/route"])
    assert code == 0, output
    return [line for line in output.decode().splitlines()[1:]
            if line.split() and line.split()[1] == "00000000"]


def test_green_runs_on_an_internal_overlay_with_no_route_out(
        sealed: dict[str, Any], docker_client: Any) -> None:
    name = sealed["name"]
    network = docker_client.networks.get(f"devkit-{name}-internal")
    assert network.attrs["Internal"] is True and network.attrs["Driver"] == "overlay"
    green, blue = _task(docker_client, name, "green"), _task(docker_client, name, "blue")
    assert set(green.attrs["NetworkSettings"]["Networks"]) == {f"devkit-{name}-internal"}
    assert _default_routes(green) == []
    assert _default_routes(blue) != []  # blue (egress enabled) keeps its way out


def test_the_router_still_serves_both(sealed: dict[str, Any], target_config: str) -> None:
    auth = {"Authorization": f"Bearer {sealed['key']}"}
    for deployment in ("blue", "green"):
        results = burst(sealed["url"], {**auth, "azureml-model-deployment": deployment}, 5, 1)
        assert results == [(200, deployment)] * 5
    [status] = ops.status(target_config, sealed["name"])
    assert {d.name: d.egress for d in status.deployments} == {"blue": "enabled",
                                                              "green": "disabled"}


def test_promoting_again_leaves_the_router_alone(sealed: dict[str, Any],
                                                 target_config: str) -> None:
    """Its second network is no reason to update (restart) the router on every promote."""
    lines: list[str] = []
    promote(str(sealed["folder"]), PromoteOptions(target=target_config, overcommit=True),
            lines.append, lambda plan: True)
    assert not any("router: updating" in line for line in lines), lines


def test_down_removes_the_internal_network(sealed: dict[str, Any], target_config: str,
                                           docker_client: Any) -> None:
    ops.down(target_config, sealed["name"], lambda line: None)
    assert docker_client.networks.list(names=[f"devkit-{sealed['name']}-internal"]) == []
