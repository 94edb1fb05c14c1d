"""The endpoint's Gateway API ``HTTPRoute``: its traffic split, header pins and mirror.

One route per endpoint, attached to the target's Gateway (``parentRefs``, ``hostnames``):

- one rule per deployment matching the header ``azureml-model-deployment: NAME``, which
  sends a pinned request to that deployment whatever its weight (a header match outranks a
  rule without one, by the Gateway API's precedence rules);
- a bring-your-own-container deployment whose ``scoring_route`` is not ``/score`` gets a
  ``URLRewrite`` filter on its backendRefs (``ReplaceFullPath``), as the local router forwards
  ``/score`` there; backendRef filters are an implementation-specific Gateway API feature;
- a default rule whose ``backendRefs`` carry the live weights from ``traffic`` (every
  deployment is listed, a weight of 0 taking no traffic) and, when ``mirror_traffic`` names a
  deployment, a ``RequestMirror`` filter copying ``percent`` of the live requests to it.

``devkit traffic --target`` changes only this object: :func:`with_traffic` rewrites the
default rule of the live route, keeping its pins, parents and hostnames.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from devkit.promote.kubernetes import names
from devkit.promote.kubernetes.errors import KubernetesError
from devkit.promote.kubernetes.inputs import SCORE_PATH, EndpointRelease
from devkit.promote.kubernetes.settings import ClusterSettings
from devkit.promote.kubernetes.workload import SERVICE_PORT

Manifest = dict[str, Any]
API_VERSION = "gateway.networking.k8s.io/v1"
GROUP, VERSION = "gateway.networking.k8s.io", "v1"
MAX_RULES = 16  # the HTTPRoute schema's limit: one default rule and 15 pins


def http_route(endpoint: EndpointRelease, settings: ClusterSettings) -> Manifest:
    deployments = [work.name for work in endpoint.workloads]
    if len(deployments) + 1 > MAX_RULES:
        raise KubernetesError(
            f"Endpoint '{endpoint.name}' ({endpoint.source}) has {len(deployments)} "
            f"deployments, but an HTTPRoute holds at most {MAX_RULES} rules (one header pin "
            f"per deployment and the split); keep at most {MAX_RULES - 1} deployments.")
    backends = {w.name: _backend(names.object_name(endpoint.name, w.name), w.scoring_path)
                for w in endpoint.workloads}
    spec: dict[str, Any] = {"parentRefs": [parent.as_ref() for parent in settings.gateways]}
    if settings.hostnames:
        spec["hostnames"] = list(settings.hostnames)
    spec["rules"] = [_pin(name, backend) for name, backend in backends.items()]
    spec["rules"].append(_split(backends, endpoint.traffic, endpoint.mirror))
    return {"apiVersion": API_VERSION, "kind": "HTTPRoute",
            "metadata": {"name": names.object_name(endpoint.name),
                         "namespace": settings.namespace,
                         "labels": names.labels(endpoint.name)},
            "spec": spec}


def with_traffic(route: Mapping[str, Any], traffic: Mapping[str, int],
                 mirror: Mapping[str, int]) -> Manifest:
    """A copy of a devkit HTTPRoute with new live weights and mirror; nothing else changes.

    The deployments and their Services are read back from the route's own pin rules, so a
    traffic change needs neither the spec nor any other object.
    """
    backends = _pinned_refs(route)
    updated = copy.deepcopy(dict(route))
    rules = [rule for rule in updated["spec"]["rules"] if _pinned_to(rule) is not None]
    updated["spec"]["rules"] = [*rules, _split(backends, traffic, mirror)]
    return updated


def pinned_backends(route: Mapping[str, Any]) -> dict[str, str]:
    """``{deployment: service}`` from a devkit route's header-pin rules, in rule order."""
    return {name: ref["name"] for name, ref in _pinned_refs(route).items()}


def _pinned_refs(route: Mapping[str, Any]) -> dict[str, Manifest]:
    found: dict[str, Manifest] = {}
    for rule in route.get("spec", {}).get("rules", []):
        deployment = _pinned_to(rule)
        if deployment is not None:
            ref = dict(rule["backendRefs"][0])
            ref.pop("weight", None)
            found[deployment] = ref
    return found


def traffic_of(route: Mapping[str, Any]) -> tuple[dict[str, int], dict[str, int]]:
    """The live weights and the mirror a devkit route carries, by deployment name."""
    services = {service: name for name, service in pinned_backends(route).items()}
    traffic: dict[str, int] = {}
    mirror: dict[str, int] = {}
    for rule in route.get("spec", {}).get("rules", []):
        if _pinned_to(rule) is not None:
            continue
        for ref in rule.get("backendRefs", []):
            traffic[services.get(ref["name"], ref["name"])] = int(ref.get("weight", 1))
        for item in rule.get("filters", []):
            if item.get("type") == "RequestMirror":
                target = item["requestMirror"]["backendRef"]["name"]
                mirror[services.get(target, target)] = int(item["requestMirror"]["percent"])
    return traffic, mirror


def _pin(deployment: str, backend: Manifest) -> Manifest:
    header = {"type": "Exact", "name": names.PIN_HEADER, "value": deployment}
    return {"matches": [{"path": {"type": "PathPrefix", "value": "/"}, "headers": [header]}],
            "backendRefs": [copy.deepcopy(backend)]}


def _split(backends: Mapping[str, Manifest], traffic: Mapping[str, int],
           mirror: Mapping[str, int]) -> Manifest:
    rule: dict[str, Any] = {
        "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
        "backendRefs": [{**copy.deepcopy(backend), "weight": int(traffic.get(name, 0))}
                        for name, backend in backends.items()],
    }
    filters = [_mirror(backends, name, percent) for name, percent in mirror.items()]
    if filters:
        rule = {**rule, "filters": filters}
    return rule


def _mirror(backends: Mapping[str, Manifest], deployment: str, percent: int) -> Manifest:
    backend = backends.get(deployment)
    if backend is None:
        raise KubernetesError(f"mirror_traffic names deployment '{deployment}', which the "
                              f"route does not have ({', '.join(backends) or 'none'}); mirror "
                              "to one of its deployments.")
    # A mirror's backendRef is a plain object reference: it takes no filters.
    return {"type": "RequestMirror",
            "requestMirror": {"backendRef": _backend(backend["name"]), "percent": int(percent)}}


def _backend(service: str, scoring_path: str = SCORE_PATH) -> Manifest:
    ref: Manifest = {"group": "", "kind": "Service", "name": service, "port": SERVICE_PORT}
    if scoring_path != SCORE_PATH:
        ref["filters"] = [{"type": "URLRewrite", "urlRewrite": {
            "path": {"type": "ReplaceFullPath", "replaceFullPath": scoring_path}}}]
    return ref


def _pinned_to(rule: Mapping[str, Any]) -> str | None:
    for match in rule.get("matches", []):
        for header in match.get("headers", []):
            if header.get("name", "").lower() == names.PIN_HEADER:
                return str(header["value"])
    return None


def deployments_of(route: Mapping[str, Any]) -> Sequence[str]:
    return list(pinned_backends(route))
