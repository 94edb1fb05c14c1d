"""``egress_public_network_access: disabled`` rendered for Kubernetes: a NetworkPolicy that
selects exactly that deployment's pods and allows them no egress, valid against the
official schema (strict); a deployment with egress enabled gets none."""

from __future__ import annotations

from pathlib import Path

from k8s_schemas import problems
from k8s_specs import images, write_endpoint

from devkit.promote.kubernetes import egress, render
from devkit.promote.kubernetes.settings import ClusterSettings, GatewayParent
from devkit.promote.kubernetes.target import from_release
from devkit.promote.release import deployment_release
from devkit.spec.model import Endpoint

TARGET = ClusterSettings(name="aks", namespace="ml",
                         gateways=(GatewayParent("devkit-gateway", "gateway-system"),))


def _endpoint(tmp_path: Path) -> Endpoint:
    return write_endpoint(tmp_path / "ep", "sealed", {"blue": 100, "green": 0},
                          deployments={"blue": {"egress_public_network_access": "disabled"},
                                       "green": {}})


def test_a_disabled_deployment_gets_a_deny_all_egress_policy(tmp_path: Path) -> None:
    endpoint = _endpoint(tmp_path)
    manifests = render.render(endpoint, images(endpoint), TARGET)
    policies = [m for m in manifests if m["kind"] == "NetworkPolicy"]
    assert [p["metadata"]["name"] for p in policies] == ["sealed-blue"]
    [policy] = policies
    assert policy["apiVersion"] == "networking.k8s.io/v1"
    assert policy["spec"]["policyTypes"] == ["Egress"]  # ingress left alone
    assert policy["spec"]["egress"] == []  # no rule: nothing may leave
    blue = next(m for m in manifests if m["kind"] == "Deployment"
                and m["metadata"]["name"] == "sealed-blue")
    assert policy["spec"]["podSelector"]["matchLabels"] == blue["spec"]["selector"][
        "matchLabels"]
    assert [line for m in manifests for line in problems(m)] == []
    # before the HTTPRoute: the route never sends traffic to pods that could still leave
    kinds = [m["kind"] for m in manifests]
    assert kinds.index("NetworkPolicy") < kinds.index("HTTPRoute")


def test_the_schema_check_sees_a_broken_policy(tmp_path: Path) -> None:
    endpoint = _endpoint(tmp_path)
    [policy] = [m for m in render.render(endpoint, images(endpoint), TARGET)
                if m["kind"] == "NetworkPolicy"]
    policy["spec"]["policyTypes"] = "Egress"
    assert problems(policy) != []


def test_the_promote_release_carries_it_too(tmp_path: Path) -> None:
    endpoint = _endpoint(tmp_path)
    release = [deployment_release(d, "r/x:1") for d in endpoint.deployments]
    assert [d.egress_disabled for d in release] == [True, False]
    from devkit.promote.release import Release

    manifests = render.render_release(from_release(Release(
        "sealed", "key", {"blue": 100}, {}, tuple(release), "r/router:1")), TARGET)
    assert [m["metadata"]["name"] for m in manifests if m["kind"] == egress.KIND] == [
        "sealed-blue"]
