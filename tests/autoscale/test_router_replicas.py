"""The router-config side of scaling (real files, the router's own parser): a replica
joins, drains and leaves one deployment's list; ``instance_count`` follows the active
replicas (the 429 threshold); other deployments and the weights are left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.errors import RouterError
from devkit.router import replicas
from devkit.router.config import load_router_config, write_router_config
from devkit.spec import load


def test_join_drain_forget(scaled_folder: Path) -> None:
    endpoint = load([scaled_folder])
    name = endpoint.name
    write_router_config(endpoint, {"blue": ["http://blue-0:5001"]})
    before = load_router_config(name)
    replicas.join(name, "blue", "http://blue-1:5001")
    replicas.join(name, "blue", "http://blue-1:5001")  # twice is once
    joined = load_router_config(name).deployment("blue")
    assert joined is not None
    assert [r.url for r in joined.replicas] == ["http://blue-0:5001", "http://blue-1:5001"]
    assert joined.instance_count == 2 and joined.max_in_flight == 2 * 2 * 2
    replicas.drain(name, "blue", ["http://blue-1:5001"])
    draining = load_router_config(name).deployment("blue")
    assert draining is not None and draining.draining == frozenset({"http://blue-1:5001"})
    assert [r.url for r in draining.active] == ["http://blue-0:5001"]
    assert draining.instance_count == 1
    replicas.forget(name, "blue", ["http://blue-1:5001"])
    after = load_router_config(name)
    gone = after.deployment("blue")
    assert gone is not None and [r.url for r in gone.replicas] == ["http://blue-0:5001"]
    assert not gone.draining and after.generation == before.generation + 4
    assert gone.weight == 100


def test_a_deployment_the_config_lacks_is_named(scaled_folder: Path) -> None:
    endpoint = load([scaled_folder])
    write_router_config(endpoint, {"blue": ["http://blue-0:5001"]})
    with pytest.raises(RouterError, match="has no deployment 'green'"):
        replicas.join(endpoint.name, "green", "http://green-0:5001")


def test_up_writes_the_running_count_for_an_autoscaled_deployment(scaled_folder: Path) -> None:
    endpoint = load([scaled_folder])
    write_router_config(endpoint, {"blue": ["http://blue-0:5001", "http://blue-1:5001",
                                            "http://blue-2:5001"]})
    blue = load_router_config(endpoint.name).deployment("blue")
    assert blue is not None and blue.instance_count == 3  # the spec says 1
