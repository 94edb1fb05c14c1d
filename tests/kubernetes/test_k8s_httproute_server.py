"""The HTTPRoute path end to end against a real Kubernetes API server (the upstream CRD
server with the Gateway API's HTTPRoute CRD): apply, plan by server dry run, traffic
change, prune, rollback, and the server's own refusals. Each test has a namespace of its own.

The server serves no core or apps APIs, so these tests apply the rendered HTTPRoute only;
the built-in kinds are checked against the official schemas in test_k8s_render.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from k8s_server import ApiServer
from k8s_specs import images, scaled_endpoint, write_endpoint

from devkit.errors import SpecError
from devkit.promote.kubernetes import apply, client, history, names, render, route, status
from devkit.promote.kubernetes.errors import GatewayApiMissing, KubernetesError
from devkit.promote.kubernetes.settings import ClusterSettings, GatewayParent
from devkit.spec.model import Endpoint

pytestmark = pytest.mark.slow


def _routes(endpoint: Endpoint, settings: ClusterSettings) -> list[dict[str, Any]]:
    return [m for m in render.render(endpoint, images(endpoint), settings)
            if m["kind"] == "HTTPRoute"]


def _live(cluster: client.Cluster, name: str) -> dict[str, Any]:
    found = cluster.get(route.API_VERSION, "HTTPRoute", name)
    assert found is not None
    return found



def test_a_70_30_split_with_20_percent_mirror_and_pins_is_accepted_and_retuned(
        api_server: ApiServer, tmp_path: Path) -> None:
    endpoint = write_endpoint(tmp_path / "split", "split",
                              {"blue": 70, "green": 30, "shadow": 0}, {"shadow": 20})
    settings = api_server.settings(gateways=(GatewayParent("edge", "gateways", "https"),),
                                   hostnames=("models.example.com",))
    cluster = client.connect(settings)
    done = apply.apply(cluster, "split", _routes(endpoint, settings))
    assert [c.describe() for c in done.pending] == ["create HTTPRoute split"]

    live = _live(cluster, "split")
    assert route.traffic_of(live) == ({"blue": 70, "green": 30, "shadow": 0}, {"shadow": 20})
    assert route.pinned_backends(live) == {"blue": "split-blue", "green": "split-green",
                                           "shadow": "split-shadow"}
    assert live["spec"]["parentRefs"] == [{"group": "gateway.networking.k8s.io",
                                           "kind": "Gateway", "name": "edge",
                                           "namespace": "gateways", "sectionName": "https"}]
    assert live["spec"]["hostnames"] == ["models.example.com"]
    assert live["metadata"]["labels"] == names.labels("split")

    generation = live["metadata"]["generation"]
    apply.set_traffic(cluster, "split", {"blue": 50, "green": 50, "shadow": 0}, {"shadow": 10})
    changed = _live(cluster, "split")
    assert route.traffic_of(changed) == ({"blue": 50, "green": 50, "shadow": 0},
                                         {"shadow": 10})
    assert changed["metadata"]["generation"] == generation + 1
    # Only the split moved: pins, parents, hostnames, labels and the release record stay.
    assert changed["spec"]["rules"][:3] == live["spec"]["rules"][:3]
    assert changed["spec"]["parentRefs"] == live["spec"]["parentRefs"]
    assert changed["metadata"]["annotations"] == live["metadata"]["annotations"]

    apply.set_traffic(cluster, "split", {"blue": 100}, {})
    assert route.traffic_of(_live(cluster, "split")) == (
        {"blue": 100, "green": 0, "shadow": 0}, {})


def test_plan_is_a_server_dry_run_diffed_against_the_live_route(
        api_server: ApiServer, tmp_path: Path) -> None:
    settings = api_server.settings()
    cluster = client.connect(settings)
    v1 = write_endpoint(tmp_path / "v1", "planned", {"blue": 90, "green": 10})
    apply.apply(cluster, "planned", _routes(v1, settings))
    before = _live(cluster, "planned")

    v2 = write_endpoint(tmp_path / "v2", "planned", {"blue": 60, "green": 40})
    plan = apply.plan(cluster, "planned", _routes(v2, settings))
    (change,) = plan.pending
    assert change.action == "update" and change.kind == "HTTPRoute"
    assert "spec.rules[2].backendRefs[0].weight: 90 -> 60" in change.details
    assert "spec.rules[2].backendRefs[1].weight: 10 -> 40" in change.details
    assert any(line.startswith("metadata.annotations.devkit.release: ")
               for line in change.details)
    # A plan writes nothing.
    assert _live(cluster, "planned")["metadata"]["resourceVersion"] == \
        before["metadata"]["resourceVersion"]

    apply.apply(cluster, "planned", _routes(v2, settings))
    written = _live(cluster, "planned")["metadata"]["resourceVersion"]
    again = apply.plan(cluster, "planned", _routes(v2, settings))
    assert again.nothing_to_do and [c.action for c in again.changes] == ["unchanged"]
    apply.apply(cluster, "planned", _routes(v2, settings))
    assert _live(cluster, "planned")["metadata"]["resourceVersion"] == written


def test_prune_removes_only_this_endpoints_objects_that_the_render_lacks(
        api_server: ApiServer, tmp_path: Path) -> None:
    settings = api_server.settings()
    cluster = client.connect(settings)
    endpoint = write_endpoint(tmp_path / "e", "pruned", {"blue": 100})
    (ours,) = _routes(endpoint, settings)
    leftover = {**ours, "metadata": {**ours["metadata"], "name": "pruned-legacy"}}
    other = write_endpoint(tmp_path / "o", "neighbour", {"blue": 100})
    unlabelled = {**ours, "metadata": {"name": "hand-made", "namespace": settings.namespace}}
    for manifest in (leftover, *_routes(other, settings), unlabelled):
        cluster.apply(manifest)

    plan = apply.plan(cluster, "pruned", [ours])
    assert sorted(c.describe() for c in plan.pending) == [
        "create HTTPRoute pruned", "delete HTTPRoute pruned-legacy"]
    apply.apply(cluster, "pruned", [ours])
    assert cluster.get(route.API_VERSION, "HTTPRoute", "pruned-legacy") is None
    for kept in ("pruned", "neighbour", "hand-made"):
        assert cluster.get(route.API_VERSION, "HTTPRoute", kept) is not None, kept

    assert apply.down(cluster, "pruned") == ["HTTPRoute pruned"]
    assert cluster.get(route.API_VERSION, "HTTPRoute", "pruned") is None
    assert cluster.get(route.API_VERSION, "HTTPRoute", "neighbour") is not None


def test_rollback_goes_back_to_the_previous_release_and_forward_again(
        api_server: ApiServer, tmp_path: Path) -> None:
    settings = api_server.settings()
    cluster = client.connect(settings)
    v1 = _routes(write_endpoint(tmp_path / "v1", "rolled", {"blue": 90, "green": 10}),
                 settings)
    apply.apply(cluster, "rolled", v1)
    with pytest.raises(KubernetesError, match="no earlier release to roll back to"):
        apply.rollback(cluster, "rolled")

    v2 = _routes(write_endpoint(tmp_path / "v2", "rolled", {"blue": 100, "green": 0},
                                {"green": 20}, deployments={"blue": {}, "green": {}}),
                 settings)
    apply.apply(cluster, "rolled", v2)
    assert route.traffic_of(_live(cluster, "rolled")) == ({"blue": 100, "green": 0},
                                                          {"green": 20})
    # Applying the same release again keeps the record (and so the rollback target).
    apply.apply(cluster, "rolled", v2)

    apply.rollback(cluster, "rolled")
    back = _live(cluster, "rolled")
    assert route.traffic_of(back) == ({"blue": 90, "green": 10}, {})
    assert back["metadata"]["annotations"][history.RELEASE] == history.release_id(v1)

    apply.rollback(cluster, "rolled")  # the release before v1's rollback is v2
    assert route.traffic_of(_live(cluster, "rolled")) == ({"blue": 100, "green": 0},
                                                          {"green": 20})


def test_the_route_of_every_feature_passes_the_servers_cel_rules(
        api_server: ApiServer, tmp_path: Path) -> None:
    """Mirror, a BYOC path rewrite on backendRefs, hostnames and a cross-namespace parent."""
    settings = api_server.settings(gateways=(GatewayParent("edge", "gateways"),),
                                   hostnames=("scaled.example.com",))
    cluster = client.connect(settings)
    endpoint = scaled_endpoint(tmp_path)
    apply.apply(cluster, "scaled", _routes(endpoint, settings))
    live = _live(cluster, "scaled")
    assert route.traffic_of(live) == ({"byoc": 0, "cpu": 80, "gpu": 20}, {"byoc": 10})
    byoc_ref = live["spec"]["rules"][0]["backendRefs"][0]
    assert byoc_ref["filters"][0]["urlRewrite"]["path"]["replaceFullPath"] == "/predict"
    apply.set_traffic(cluster, "scaled", {"byoc": 0, "cpu": 50, "gpu": 50}, {})
    retuned = _live(cluster, "scaled")
    assert retuned["spec"]["rules"][3]["backendRefs"][0]["filters"] == byoc_ref["filters"]


def test_an_invalid_route_is_refused_by_the_server_with_its_message(
        api_server: ApiServer, tmp_path: Path) -> None:
    settings = api_server.settings(hostnames=("Not A Hostname!",))
    cluster = client.connect(settings)
    endpoint = write_endpoint(tmp_path / "e", "invalid", {"blue": 100})
    with pytest.raises(KubernetesError) as refused:
        apply.plan(cluster, "invalid", _routes(endpoint, settings))
    text = str(refused.value)
    assert text.startswith(f"Target 'crd-test' refused HTTPRoute {settings.namespace}/invalid "
                           "(422): ")
    assert "spec.hostnames[0]" in text  # the server's own validation message
    assert text.endswith("fix the spec field it names")
    assert cluster.get(route.API_VERSION, "HTTPRoute", "invalid") is None


def test_a_traffic_change_is_checked_before_the_route_is_touched(
        api_server: ApiServer, tmp_path: Path) -> None:
    settings = api_server.settings()
    cluster = client.connect(settings)
    endpoint = write_endpoint(tmp_path / "e", "checked", {"blue": 90, "green": 10})
    apply.apply(cluster, "checked", _routes(endpoint, settings))
    version = _live(cluster, "checked")["metadata"]["resourceVersion"]
    with pytest.raises(SpecError, match="no deployment is named 'grene'"):
        apply.set_traffic(cluster, "checked", {"blue": 90, "grene": 10}, {})
    with pytest.raises(SpecError, match="only a deployment with 0% live traffic"):
        apply.set_traffic(cluster, "checked", {"blue": 90, "green": 10}, {"green": 5})
    assert _live(cluster, "checked")["metadata"]["resourceVersion"] == version
    with pytest.raises(KubernetesError, match="has no HTTPRoute in namespace"):
        apply.set_traffic(cluster, "absent", {"blue": 100}, {})


def test_a_cluster_without_the_gateway_api_says_how_to_install_it(
        bare_api_server: ApiServer, tmp_path: Path) -> None:
    settings = bare_api_server.settings()
    endpoint = write_endpoint(tmp_path / "e", "nogateway", {"blue": 100})
    with pytest.raises(GatewayApiMissing) as missing:
        apply.plan(client.connect(settings), "nogateway", _routes(endpoint, settings))
    text = str(missing.value)
    assert "does not serve the Gateway API" in text
    assert "gateway-api/releases/download/" in text and "standard-install.yaml" in text


def test_status_reads_the_endpoint_back_from_its_route(
        api_server: ApiServer, tmp_path: Path) -> None:
    settings = api_server.settings(hostnames=("seen.example.com",))
    cluster = client.connect(settings)
    endpoint = write_endpoint(tmp_path / "e", "seen", {"blue": 70, "green": 30})
    assert status.endpoint_status(cluster, "seen") is None
    apply.apply(cluster, "seen", _routes(endpoint, settings))
    assert status.endpoint_names(cluster) == ["seen"]
    found = status.endpoint_status(cluster, "seen")
    assert found is not None
    assert found.scoring_uri == "http://seen.example.com/score"
    assert found.engine == "kubernetes:crd-test"
    assert [(d.name, d.traffic) for d in found.deployments] == [("blue", 70), ("green", 30)]
    # This server has no apps API, so no Deployment exists: said, not hidden.
    assert all(d.error and "Deployment is missing" in d.error for d in found.deployments)
