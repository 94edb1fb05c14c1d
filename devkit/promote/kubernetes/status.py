"""Reading an endpoint back from a cluster: status and logs, from labels and live objects.

The HTTPRoute names the endpoint's deployments (one header-pin rule each) and carries the
live traffic; each deployment's ``Deployment`` says how many replicas are ready and which
image runs; the pods' own logs are the logs. Nothing comes from a local file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from devkit.engines.base import DeploymentState, DeploymentStatus, EndpointStatus
from devkit.engines.streams import Source, merge
from devkit.errors import EndpointNotFound
from devkit.promote.kubernetes import egress, names, route
from devkit.promote.kubernetes.client import GATEWAY_API, Cluster

Manifest = dict[str, Any]


def endpoint_names(cluster: Cluster) -> list[str]:
    """Every endpoint devkit promoted to this namespace (each has one HTTPRoute)."""
    routes = cluster.served(GATEWAY_API, "HTTPRoute")
    if routes is None:
        return []
    with cluster.translated("listing devkit's HTTPRoutes"):
        items = routes.get(namespace=cluster.settings.namespace,
                           label_selector=f"{names.MANAGED_BY}={names.MANAGER}").to_dict()
    return sorted({item["metadata"]["labels"][names.ENDPOINT] for item in items["items"]})


def endpoint_status(cluster: Cluster, endpoint: str) -> EndpointStatus | None:
    live = cluster.get(GATEWAY_API, "HTTPRoute", names.object_name(endpoint))
    if live is None:
        return None
    traffic, mirror = route.traffic_of(live)
    deployments = []
    auth = "key"
    for name, service in route.pinned_backends(live).items():
        obj = cluster.get("apps/v1", "Deployment", service)
        found = _deployment_status(name, obj, traffic.get(name, 0), mirror.get(name, 0))
        deployments.append(dataclasses.replace(found, egress=_egress(cluster, endpoint, name)))
        auth = _auth_mode(obj) or auth
    hosts = live["spec"].get("hostnames") or []
    uri = f"http://{hosts[0]}/score" if hosts else None
    return EndpointStatus(endpoint, uri, auth, f"kubernetes:{cluster.settings.name}",
                          tuple(deployments))


def logs(cluster: Cluster, endpoint: str, deployment: str | None = None, follow: bool = False,
         tail: int | None = 100) -> Iterator[str]:
    """The pods' logs, each line prefixed with ``deployment/pod`` when there are several."""
    from kubernetes import client

    selector = f"{names.ENDPOINT}={endpoint}" + (
        f",{names.DEPLOYMENT}={deployment}" if deployment else "")
    pods = cluster.resource("v1", "Pod")
    with cluster.translated(f"listing the pods of endpoint '{endpoint}'"):
        items = pods.get(namespace=cluster.settings.namespace,
                         label_selector=selector).to_dict()["items"]
    if not items:
        raise EndpointNotFound(
            f"Target '{cluster.settings.name}' runs no pod of endpoint '{endpoint}'"
            + (f" deployment '{deployment}'" if deployment else "")
            + f" in namespace '{cluster.settings.namespace}'; check `devkit status --target "
            f"{cluster.settings.name}`.")
    core = client.CoreV1Api(cluster.api_client)

    def opener(pod: str) -> Callable[[], Iterable[bytes]]:
        def open_log() -> Iterable[bytes]:
            with cluster.translated(f"reading the log of pod {pod}"):
                response: Any = core.read_namespaced_pod_log(
                    pod, cluster.settings.namespace, follow=follow, tail_lines=tail,
                    _preload_content=False)
            chunks: Iterable[bytes] = response.stream(4096)
            return chunks
        return open_log

    sources: list[Source] = [
        (f"{item['metadata']['labels'].get(names.DEPLOYMENT, '')}/{item['metadata']['name']}",
         opener(item["metadata"]["name"])) for item in items]
    return merge(sources, follow)


def _deployment_status(name: str, obj: Manifest | None, traffic: int,
                       mirror: int) -> DeploymentStatus:
    if obj is None:
        return DeploymentStatus(name, DeploymentState.STOPPED, 0, traffic, mirror, "",
                                error="its Deployment is missing; promote the endpoint again")
    wanted = int(obj["spec"].get("replicas") or 0)
    ready = int((obj.get("status") or {}).get("readyReplicas") or 0)
    state = DeploymentState.READY if wanted and ready >= wanted else DeploymentState.STARTING
    image = obj["spec"]["template"]["spec"]["containers"][0]["image"]
    return DeploymentStatus(name, state, wanted, traffic, mirror, str(image))


def _egress(cluster: Cluster, endpoint: str, deployment: str) -> str | None:
    """"disabled" when the deployment's deny-egress NetworkPolicy exists; None where the
    server does not serve NetworkPolicies."""
    if cluster.served(egress.API_VERSION, egress.KIND) is None:
        return None
    name = egress.policy_name(endpoint, deployment)
    return "disabled" if cluster.get(egress.API_VERSION, egress.KIND, name) else "enabled"


def _auth_mode(obj: Manifest | None) -> str | None:
    if obj is None:
        return None
    for item in obj["spec"]["template"]["spec"]["containers"][0].get("env") or []:
        if item.get("name") == "DEVKIT_AUTH_MODE":
            return str(item.get("value"))
    return None
