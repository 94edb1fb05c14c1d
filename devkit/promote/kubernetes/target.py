"""The Kubernetes target as the promote machinery sees it (:class:`devkit.promote.places.Place`).

Glue only: the promote machinery's :class:`~devkit.promote.targets.Target` becomes
:class:`ClusterSettings`, its :class:`~devkit.promote.release.Release` an
:class:`EndpointRelease`, and the object-level plan of :mod:`devkit.promote.kubernetes.apply`
(a server-side dry run diffed against the live objects) the shared
:class:`~devkit.promote.plan.Plan` with its capacity check over the cluster's nodes.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from devkit.engines.base import EndpointStatus, Progress
from devkit.errors import EndpointNotFound
from devkit.promote import plan as shared
from devkit.promote.kubernetes import apply, client, deploy, render, status
from devkit.promote.kubernetes.errors import KubernetesError
from devkit.promote.kubernetes.inputs import LOCAL_ONLY, Autoscale, EndpointRelease, Workload
from devkit.promote.kubernetes.settings import ClusterSettings, Credentials, GatewayParent
from devkit.promote.release import Release
from devkit.promote.targets import Target
from devkit.spec.model import ProbeSettings, Route

_ACTIONS = {apply.CREATE: shared.CREATE, apply.UPDATE: shared.CHANGE,
            apply.DELETE: shared.REMOVE, apply.UNCHANGED: shared.KEEP}
DETAIL_LINES = 8  # of a change's field diff, in the plan's one line per object


def settings_for(target: Target) -> ClusterSettings:
    """The target's entry as cluster settings: its namespace (``default``), the Gateway the
    route attaches to (``gateway_name``, default ``devkit``, in the same namespace) and its
    ``address`` as the route's hostname when it is a DNS name (a Gateway matches host names,
    never IP addresses)."""
    hostnames = (target.address,) if target.address and not _is_ip(target.address) else ()
    return ClusterSettings(
        name=target.name, namespace=target.namespace or "default",
        gateways=(GatewayParent(target.gateway_name or "devkit"),), hostnames=hostnames,
        kubeconfig=os.path.expanduser(target.kubeconfig) if target.kubeconfig else None,
        context=target.context)


def from_release(release: Release) -> EndpointRelease:
    """The promote machinery's release as the renderer's input (the same facts; a BYOC
    deployment's one ``port`` serves its scoring and probe routes alike)."""
    workloads = tuple(Workload(
        endpoint=release.endpoint, name=d.name, image=d.image, instance_type=d.instance_type,
        replicas=d.replicas, env={k: v for k, v in d.env.items() if k not in LOCAL_ONLY},
        liveness_route=Route(d.port, d.liveness_path),
        readiness_route=Route(d.port, d.readiness_path),
        liveness=ProbeSettings(**dataclasses.asdict(d.liveness)),
        readiness=ProbeSettings(**dataclasses.asdict(d.probe)),
        scoring_port=d.port, scoring_path=d.scoring_path,
        request_timeout_ms=d.request_timeout_ms,
        max_concurrent_requests_per_instance=d.max_concurrent_requests_per_instance,
        byoc=d.byoc, autoscale=Autoscale(**d.autoscale) if d.autoscale else None,
        egress_disabled=d.egress_disabled)
        for d in release.deployments)
    return EndpointRelease(release.endpoint, release.auth_mode, dict(release.traffic),
                           dict(release.mirror), workloads)


def write_manifests(target: Target, release: Release, directory: Path) -> Path:
    """``promote --dry-run DIR``: the rendered objects, the cluster untouched (the Secret
    without keys; images by tag where they were not pushed yet)."""
    manifests = render.render_release(from_release(release), settings_for(target))
    return render.write(manifests, directory, release.endpoint)


class KubernetesTarget:
    """Promote, status, traffic, logs, keys and down for one Kubernetes target."""

    kind = "kubernetes"
    runs_devkit_router = False  # the Gateway routes: no counters of devkit's in the cluster

    def __init__(self, target: Target, cluster: client.Cluster | None = None) -> None:
        self.target = target
        self.cluster = cluster or client.connect(settings_for(target))

    def close(self) -> None:
        self.cluster.api_client.close()

    def plan(self, wanted: Release, overcommit: bool = False) -> shared.Plan:
        keys = deploy.credentials(self.cluster, wanted.endpoint) or Credentials.generate()
        manifests = render.render_release(from_release(wanted), self.cluster.settings, keys)
        found = apply.plan(self.cluster, wanted.endpoint, manifests, wanted.to_json())
        changes = tuple(shared.Change(_ACTIONS[c.action], f"{c.kind} {c.name}",
                                      "; ".join(c.details[:DETAIL_LINES]))
                        for c in found.changes)
        capacity = shared.capacity_of(wanted, nodes(self.cluster))
        notes = shared.overcommit_notes(wanted, capacity) \
            if overcommit and not capacity.fits else ()
        return shared.Plan(wanted.endpoint, self.target.name, changes, capacity, overcommit,
                           notes)

    def apply(self, release: Release, progress: Progress, overcommit: bool = False) -> None:
        unpushed = [d.name for d in release.deployments if "@sha256:" not in d.image]
        if unpushed:
            raise KubernetesError(f"Deployments {', '.join(unpushed)} have no image digest; "
                                  "push the release before applying it to the cluster.")
        deploy.converge(self.cluster, from_release(release), progress, release.to_json())

    def rollback(self, endpoint: str, progress: Progress) -> Release:
        _, record = apply.rollback(self.cluster, endpoint,
                                   lambda c: progress(f"{c.action} {c.kind} {c.name}"))
        if record.release is None:
            raise KubernetesError(f"Endpoint '{endpoint}' on target '{self.target.name}' was "
                                  "rolled back, but its previous release record has no "
                                  "release details; run `devkit status --target` to check.")
        return Release.from_json(record.release)

    def status(self, endpoint: str | None = None) -> list[EndpointStatus]:
        found = [status.endpoint_status(self.cluster, name)
                 for name in ([endpoint] if endpoint else status.endpoint_names(self.cluster))]
        return [item for item in found if item is not None]

    def set_traffic(self, endpoint: str, traffic: Mapping[str, int] | None,
                    mirror: Mapping[str, int] | None) -> dict[str, Any]:
        from devkit.promote.kubernetes import route

        live = apply.set_traffic(self.cluster, endpoint, traffic, mirror)
        weights, mirrored = route.traffic_of(live)
        return {"endpoint": endpoint, "target": self.target.name, "traffic": weights,
                "mirror": mirrored, "generation": live["metadata"].get("generation"),
                "applied": True}

    def logs(self, endpoint: str, deployment: str | None = None, follow: bool = False,
             tail: int | None = 100) -> Iterator[str]:
        return status.logs(self.cluster, endpoint, deployment, follow, tail)

    def keys(self, endpoint: str) -> dict[str, str]:
        found = self._credentials(endpoint)
        return {"primary": found.primary, "secondary": found.secondary}

    def token_secret(self, endpoint: str) -> bytes:
        return self._credentials(endpoint).token_secret.encode()

    def down(self, endpoint: str, progress: Progress) -> None:
        for removed in apply.down(self.cluster, endpoint):
            progress(f"removed {removed}")

    def _credentials(self, endpoint: str) -> Credentials:
        found = deploy.credentials(self.cluster, endpoint)
        if found is None:
            raise EndpointNotFound(
                f"Target '{self.target.name}' runs no endpoint '{endpoint}' in namespace "
                f"'{self.cluster.settings.namespace}'; promote it with `devkit promote PATH "
                f"--target {self.target.name}`.")
        return found


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def nodes(cluster: client.Cluster) -> list[shared.Node]:
    """The cluster's schedulable nodes with their allocatable CPU and memory."""
    from kubernetes.utils import parse_quantity

    resource = cluster.served("v1", "Node")
    if resource is None:
        return []
    with cluster.translated("listing the cluster's nodes"):
        items = resource.get().to_dict()["items"]
    found = []
    for item in items:
        if (item.get("spec") or {}).get("unschedulable"):
            continue
        allocatable = (item.get("status") or {}).get("allocatable") or {}
        found.append(shared.Node(item["metadata"]["name"],
                                 float(parse_quantity(allocatable.get("cpu", "0"))),
                                 int(parse_quantity(allocatable.get("memory", "0")))))
    return found
