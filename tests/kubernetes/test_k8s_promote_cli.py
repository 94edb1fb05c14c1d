"""The Kubernetes target through devkit's own commands, as scripts call them: a targets file
naming the real CRD API server, ``devkit status/traffic --target`` and
``devkit promote --rollback`` on its HTTPRoute, and ``devkit promote --dry-run`` writing
manifests that pass the official schemas strictly and that the server accepts.

The server has no apps or core APIs, so the promote path's own apply cannot run against it;
these tests put the endpoint's HTTPRoute there with the same code the promote path uses
(:func:`devkit.promote.kubernetes.apply.apply`, the promote release recorded with it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from k8s_schemas import problems
from k8s_server import ApiServer
from k8s_specs import SAMPLE, images, write_endpoint

from devkit.promote.kubernetes import apply, client, render, route
from devkit.promote.kubernetes.target import from_release
from devkit.promote.release import Release, deployment_release
from devkit.spec.model import Endpoint

pytestmark = pytest.mark.slow


def _targets(tmp_path: Path, server: ApiServer, namespace: str) -> Path:
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    (config / "targets.yml").write_text(yaml.safe_dump({"targets": {"crd": {
        "kind": "kubernetes", "kubeconfig": server.kubeconfig, "namespace": namespace,
        "registry": "127.0.0.1:5999"}}}))
    return config


def _devkit(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEVKIT_CONFIG_DIR": str(config)}
    return subprocess.run([sys.executable, "-m", "devkit.cli.main", *args], env=env,
                          capture_output=True, text=True, timeout=300)


def _release(endpoint: Endpoint, tag: str) -> Release:
    refs = images(endpoint, tag).images
    return Release(endpoint.name, endpoint.spec.auth_mode.value, dict(endpoint.spec.traffic),
                   dict(endpoint.spec.mirror_traffic),
                   tuple(deployment_release(d, refs[d.name]) for d in endpoint.deployments),
                   "127.0.0.1:5999/devkit/router:1")


def _promote_route(cluster: client.Cluster, release: Release) -> None:
    manifests = render.render_release(from_release(release), cluster.settings)
    routes = [m for m in manifests if m["kind"] == "HTTPRoute"]
    apply.apply(cluster, release.endpoint, routes, release=release.to_json())


def _live(cluster: client.Cluster, name: str) -> dict[str, Any]:
    found = cluster.get(route.API_VERSION, "HTTPRoute", name)
    assert found is not None
    return found


def test_the_release_path_renders_what_the_spec_path_renders(tmp_path: Path) -> None:
    """The promote machinery's release carries every fact the renderer needs."""
    from k8s_specs import scaled_endpoint

    from devkit.promote.kubernetes.settings import ClusterSettings

    settings = ClusterSettings(namespace="ml")
    for endpoint in (write_endpoint(tmp_path / "r", "releasepath", {"blue": 90, "green": 10}),
                     scaled_endpoint(tmp_path)):
        via_spec = render.render(endpoint, images(endpoint), settings)
        via_release = render.render_release(from_release(_release(endpoint, "a")), settings)
        assert via_release == via_spec


def test_status_traffic_and_rollback_commands_act_on_the_route(
        api_server: ApiServer, tmp_path: Path) -> None:
    settings = api_server.settings()
    config = _targets(tmp_path, api_server, settings.namespace)
    cluster = client.connect(settings)
    v1 = write_endpoint(tmp_path / "v1", "split", {"blue": 70, "green": 30, "shadow": 0},
                        {"shadow": 20})
    _promote_route(cluster, _release(v1, "a"))

    shown = _devkit(config, "status", "--target", "crd", "--json")
    assert shown.returncode == 0, shown.stderr
    (status,) = json.loads(shown.stdout)
    assert {d["name"]: d["traffic"] for d in status["deployments"]} == {
        "blue": 70, "green": 30, "shadow": 0}

    changed = _devkit(config, "traffic", "split", "--target", "crd", "blue=40", "green=60",
                      "shadow=0", "--mirror", "shadow=10", "--json")
    assert changed.returncode == 0, changed.stderr
    assert json.loads(changed.stdout)["traffic"] == {"blue": 40, "green": 60, "shadow": 0}
    assert route.traffic_of(_live(cluster, "split")) == (
        {"blue": 40, "green": 60, "shadow": 0}, {"shadow": 10})

    refused = _devkit(config, "traffic", "split", "--target", "crd", "blue=40", "green=40")
    assert refused.returncode != 0
    assert "sum to 80" in refused.stderr

    v2 = write_endpoint(tmp_path / "v2", "split", {"blue": 100, "green": 0, "shadow": 0})
    _promote_route(cluster, _release(v2, "b"))
    assert route.traffic_of(_live(cluster, "split"))[0]["blue"] == 100
    rolled = _devkit(config, "promote", "split", "--target", "crd", "--rollback")
    assert rolled.returncode == 0, rolled.stderr
    assert route.traffic_of(_live(cluster, "split")) == (
        {"blue": 70, "green": 30, "shadow": 0}, {"shadow": 20})


@pytest.mark.docker
def test_promote_dry_run_writes_manifests_that_pass_strict_validation(
        base_image: str, api_server: ApiServer, tmp_path: Path) -> None:
    settings = api_server.settings()
    config = _targets(tmp_path, api_server, settings.namespace)
    out = tmp_path / "out"
    done = _devkit(config, "promote", str(SAMPLE), "--target", "crd", "--dry-run", str(out))
    assert done.returncode == 0, done.stderr
    assert "the target was not touched" in done.stdout
    manifests = list(yaml.safe_load_all((out / "regression.k8s.yaml").read_text()))
    assert [m["kind"] for m in manifests] == ["Secret", "Deployment", "Service", "Deployment",
                                              "Service", "HTTPRoute"]
    assert [line for m in manifests for line in problems(m)] == []
    assert "data" not in manifests[0]  # no keys on disk
    cluster = client.connect(settings)
    assert cluster.get(route.API_VERSION, "HTTPRoute", "regression") is None
    # The written route is one the real server accepts.
    plan = apply.plan(cluster, "regression", [manifests[-1]])
    assert [c.describe() for c in plan.pending] == ["create HTTPRoute regression"]
