"""One deployment as a Kubernetes ``Deployment`` and the ``Service`` in front of its pods.

What each pod gets, and why:

- the release image by digest, and the same command and environment the local engines give
  the runtime (:func:`devkit.engines.launch.server_env`) with the cluster's differences: no
  hot reload, no admin port, and the front end's checks (auth, 429, 408) switched on in the
  runtime itself (``DEVKIT_AUTH_*``, ``DEVKIT_MAX_IN_FLIGHT``, ``DEVKIT_REQUEST_TIMEOUT_MS``),
  because a Gateway does none of them;
- the SKU's cores and memory as requests and limits (Guaranteed QoS: the replica gets what
  its Azure VM would have) and ``nvidia.com/gpu`` for GPU SKUs;
- liveness and readiness probes on the runtime's ``/-/live`` and ``/-/ready`` (a
  bring-your-own-container image: its own routes) with the spec's probe settings;
- a non-root security context (uid 1000, no privilege escalation, no capabilities).

Rolling updates keep serving: ``maxUnavailable: 0`` and ``maxSurge: 20%``, Azure's
upgrade headroom, so the old ReplicaSet serves until new pods are ready.
"""

from __future__ import annotations

import math
from typing import Any

from devkit.engines import byoc, launch, sku
from devkit.promote.kubernetes import names
from devkit.promote.kubernetes.errors import KubernetesError
from devkit.spec.model import AuthMode, DeploymentSpec, ProbeSettings, Route

Manifest = dict[str, Any]
CONTAINER = "inference-server"
SECRET_MOUNT = "/var/run/secrets/devkit"
RUN_AS = 1000
SERVICE_PORT = 80
# Environment the local engines set that has no meaning in a cluster.
_LOCAL_ONLY = ("DEVKIT_ADMIN_PORT", "DEVKIT_WATCH")


def deployment(spec: DeploymentSpec, image: str, namespace: str,
               auth_mode: AuthMode) -> Manifest:
    """The ``apps/v1`` Deployment of one deployment spec.

    ``replicas`` is left out when an HPA scales the deployment: a field the HPA owns must
    not also be owned by devkit's server-side apply, or every promote would reset it.
    """
    labels = names.labels(spec.endpoint_name, spec.name)
    selector = names.selector(spec.endpoint_name, spec.name)
    body: dict[str, Any] = {
        "selector": {"matchLabels": selector},
        "revisionHistoryLimit": 10,  # what rollback goes back to
        "progressDeadlineSeconds": progress_deadline(spec.readiness_probe),
        "strategy": {"type": "RollingUpdate",
                     "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "20%"}},
        "template": {"metadata": {"labels": labels},
                     "spec": pod_spec(spec, image, auth_mode)},
    }
    if spec.scale_settings.type != "target_utilization":
        body = {"replicas": spec.instance_count, **body}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": _metadata(spec, namespace), "spec": body}


def service(spec: DeploymentSpec, namespace: str) -> Manifest:
    """A ClusterIP Service on port 80 for the HTTPRoute's backendRefs."""
    return {"apiVersion": "v1", "kind": "Service", "metadata": _metadata(spec, namespace),
            "spec": {"type": "ClusterIP",
                     "selector": names.selector(spec.endpoint_name, spec.name),
                     "ports": [{"name": "http", "port": SERVICE_PORT, "protocol": "TCP",
                                "targetPort": "http"}]}}


def pod_spec(spec: DeploymentSpec, image: str, auth_mode: AuthMode) -> Manifest:
    container: dict[str, Any] = {
        "name": CONTAINER,
        "image": image,
        "imagePullPolicy": "IfNotPresent",  # a digest never changes: pull once per node
        "ports": [{"name": "http", "containerPort": scoring_port(spec), "protocol": "TCP"}],
        "env": [{"name": key, "value": value} for key, value in env(spec, auth_mode).items()],
        "resources": resources(spec),
        "livenessProbe": probe(spec.liveness_probe, liveness_route(spec)),
        "readinessProbe": probe(spec.readiness_probe, readiness_route(spec)),
        "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True,
                            "capabilities": {"drop": ["ALL"]}},
    }
    if byoc.routes_of(spec) is None:
        container = {**container, "command": launch.server_command()}
    pod: dict[str, Any] = {
        "automountServiceAccountToken": False,  # the runtime never calls the API server
        "securityContext": {"runAsNonRoot": True, "runAsUser": RUN_AS, "runAsGroup": RUN_AS,
                            "fsGroup": RUN_AS, "seccompProfile": {"type": "RuntimeDefault"}},
        # In-flight requests may take request_timeout_ms to finish after SIGTERM.
        "terminationGracePeriodSeconds": 30 + math.ceil(
            spec.request_settings.request_timeout_ms / 1000),
        "containers": [container],
    }
    if byoc.routes_of(spec) is None:  # a BYOC image's own server would not read it
        container["volumeMounts"] = [{"name": "devkit-auth", "mountPath": SECRET_MOUNT,
                                      "readOnly": True}]
        pod["volumes"] = [{"name": "devkit-auth", "secret": {
            "secretName": names.secret_name(spec.endpoint_name), "defaultMode": 0o440}}]
    return pod


def env(spec: DeploymentSpec, auth_mode: AuthMode) -> dict[str, str]:
    """The runtime's environment in a pod (a BYOC image: Azure's variables only)."""
    if byoc.routes_of(spec) is not None:
        return byoc.container_env(spec)
    base = launch.server_env(spec, launch.container_paths(spec), host="0.0.0.0",
                             port=launch.SERVER_PORT, admin_port=launch.ADMIN_PORT)
    for key in _LOCAL_ONLY:
        base.pop(key, None)
    if auth_mode is AuthMode.AAD_TOKEN:
        raise KubernetesError(
            f"Deployment '{spec.name}' ({spec.source}) belongs to an endpoint with auth_mode "
            "aad_token, which needs Microsoft Entra ID; use auth_mode key or aml_token.")
    settings = spec.request_settings
    guard = {
        "DEVKIT_ENDPOINT": spec.endpoint_name,
        "DEVKIT_AUTH_MODE": auth_mode.value,
        "DEVKIT_AUTH_DIR": SECRET_MOUNT,
        # The managed front end's limit, per instance (CONTRACT.md §3): 2 x concurrency.
        "DEVKIT_MAX_IN_FLIGHT": str(2 * settings.max_concurrent_requests_per_instance),
        "DEVKIT_REQUEST_TIMEOUT_MS": str(settings.request_timeout_ms),
    }
    # The user's environment_variables stay last, as in server_env.
    user = dict(spec.environment_variables)
    merged = {key: value for key, value in base.items() if key not in user}
    return {**merged, **guard, **user}


def resources(spec: DeploymentSpec) -> dict[str, dict[str, str | int]]:
    """Requests = limits = the SKU's size; an unknown SKU is refused, not guessed."""
    found = sku.lookup(spec.instance_type)
    if found is None:
        raise KubernetesError(
            f"Deployment '{spec.name}' ({spec.source}) has instance_type "
            f"'{spec.instance_type}', which is not in devkit's SKU table, so its pods would "
            "get no CPU or memory size; use a listed Azure SKU (see devkit/engines/sku.py).")
    size: dict[str, str | int] = {"cpu": str(found.cores),
                                  "memory": f"{round(found.memory_gib * 1024)}Mi"}
    if found.gpus:
        size["nvidia.com/gpu"] = str(found.gpus)
    return {"requests": dict(size), "limits": dict(size)}


def probe(settings: ProbeSettings, route: Route) -> Manifest:
    return {"httpGet": {"path": route.path, "port": route.port, "scheme": "HTTP"},
            "initialDelaySeconds": settings.initial_delay, "periodSeconds": settings.period,
            "timeoutSeconds": settings.timeout, "successThreshold": settings.success_threshold,
            "failureThreshold": settings.failure_threshold}


def liveness_route(spec: DeploymentSpec) -> Route:
    routes = byoc.routes_of(spec)
    return routes.liveness_route if routes else Route(launch.SERVER_PORT, "/-/live")


def readiness_route(spec: DeploymentSpec) -> Route:
    routes = byoc.routes_of(spec)
    return routes.readiness_route if routes else Route(launch.SERVER_PORT, "/-/ready")


def scoring_port(spec: DeploymentSpec) -> int:
    routes = byoc.routes_of(spec)
    return routes.scoring_route.port if routes else launch.SERVER_PORT


def progress_deadline(readiness: ProbeSettings) -> int:
    """How long a rollout may take before Kubernetes marks it failed: the readiness
    budget (first probe plus every allowed failure) and a minute for scheduling and pull."""
    budget = readiness.initial_delay + readiness.period * readiness.failure_threshold
    return budget + 60


def _metadata(spec: DeploymentSpec, namespace: str) -> Manifest:
    return {"name": names.object_name(spec.endpoint_name, spec.name),
            "namespace": namespace,
            "labels": names.labels(spec.endpoint_name, spec.name)}
