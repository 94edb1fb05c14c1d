"""One deployment as a Kubernetes ``Deployment`` and the ``Service`` in front of its pods.

What each pod gets, and why:

- the release image by digest, the runtime's command and environment
  (:mod:`devkit.promote.kubernetes.inputs`), and the front end's checks (auth, 429, 408)
  switched on in the runtime itself (``DEVKIT_AUTH_*``, ``DEVKIT_MAX_IN_FLIGHT``,
  ``DEVKIT_REQUEST_TIMEOUT_MS``, see ``runtime/devkit_runtime/guard.py``), because a Gateway
  does none of them; these come last so no ``environment_variables`` entry can switch auth off;
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

from devkit.engines import launch, sku
from devkit.promote.kubernetes import names
from devkit.promote.kubernetes.errors import KubernetesError
from devkit.promote.kubernetes.inputs import Workload
from devkit.spec.model import ProbeSettings, Route

Manifest = dict[str, Any]
CONTAINER = "inference-server"
SECRET_MOUNT = "/var/run/secrets/devkit"
RUN_AS = 1000
SERVICE_PORT = 80


def deployment(work: Workload, namespace: str, auth_mode: str) -> Manifest:
    """The ``apps/v1`` Deployment of one workload.

    ``replicas`` is left out when an HPA scales the deployment: a field the HPA owns must
    not also be owned by devkit's server-side apply, or every promote would reset it.
    """
    labels = names.labels(work.endpoint, work.name)
    body: dict[str, Any] = {
        "selector": {"matchLabels": names.selector(work.endpoint, work.name)},
        "revisionHistoryLimit": 10,  # the ReplicaSets a rollout undo can go back to
        "progressDeadlineSeconds": progress_deadline(work.readiness),
        "strategy": {"type": "RollingUpdate",
                     "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "20%"}},
        "template": {"metadata": {"labels": labels}, "spec": pod_spec(work, auth_mode)},
    }
    if work.autoscale is None:
        body = {"replicas": work.replicas, **body}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": metadata(work, namespace), "spec": body}


def service(work: Workload, namespace: str) -> Manifest:
    """A ClusterIP Service on port 80 for the HTTPRoute's backendRefs."""
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata(work, namespace),
            "spec": {"type": "ClusterIP",
                     "selector": names.selector(work.endpoint, work.name),
                     "ports": [{"name": "http", "port": SERVICE_PORT, "protocol": "TCP",
                                "targetPort": "http"}]}}


def pod_spec(work: Workload, auth_mode: str) -> Manifest:
    container: dict[str, Any] = {
        "name": CONTAINER,
        "image": work.image,
        "imagePullPolicy": "IfNotPresent",  # a digest never changes: pull once per node
    }
    if not work.byoc:  # a BYOC image keeps its own command
        container["command"] = launch.server_command()
    container.update({
        "ports": [{"name": "http", "containerPort": work.scoring_port, "protocol": "TCP"}],
        "env": [{"name": key, "value": value} for key, value in env(work, auth_mode).items()],
        "resources": resources(work),
        "livenessProbe": probe(work.liveness, work.liveness_route),
        "readinessProbe": probe(work.readiness, work.readiness_route),
        "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True,
                            "capabilities": {"drop": ["ALL"]}},
    })
    pod: dict[str, Any] = {
        "automountServiceAccountToken": False,  # the runtime never calls the API server
        "securityContext": {"runAsNonRoot": True, "runAsUser": RUN_AS, "runAsGroup": RUN_AS,
                            "fsGroup": RUN_AS, "seccompProfile": {"type": "RuntimeDefault"}},
        # In-flight requests may take request_timeout_ms to finish after SIGTERM.
        "terminationGracePeriodSeconds": 30 + math.ceil(work.request_timeout_ms / 1000),
        "containers": [container],
    }
    if not work.byoc:  # a BYOC image's own server would not read the keys
        container["volumeMounts"] = [{"name": "devkit-auth", "mountPath": SECRET_MOUNT,
                                      "readOnly": True}]
        pod["volumes"] = [{"name": "devkit-auth", "secret": {
            "secretName": names.secret_name(work.endpoint), "defaultMode": 0o440}}]
    return pod


def env(work: Workload, auth_mode: str) -> dict[str, str]:
    """The pod's environment: the workload's, then the runtime's front-end checks."""
    if auth_mode == "aad_token":
        raise KubernetesError(
            f"Deployment '{work.name}' ({work.source}) belongs to an endpoint with auth_mode "
            "aad_token, which needs Microsoft Entra ID; use auth_mode key or aml_token.")
    if work.byoc:
        return dict(work.env)
    guard = {
        "DEVKIT_ENDPOINT": work.endpoint,
        "DEVKIT_AUTH_MODE": auth_mode,
        "DEVKIT_AUTH_DIR": SECRET_MOUNT,
        # The managed front end's limit, per instance (CONTRACT.md §3): 2 x concurrency.
        "DEVKIT_MAX_IN_FLIGHT": str(2 * work.max_concurrent_requests_per_instance),
        "DEVKIT_REQUEST_TIMEOUT_MS": str(work.request_timeout_ms),
    }
    return {**{k: v for k, v in work.env.items() if k not in guard}, **guard}


def resources(work: Workload) -> dict[str, dict[str, str]]:
    """Requests = limits = the SKU's size (or the workload's capped size); an unknown SKU
    is refused, not guessed."""
    found = sku.lookup(work.instance_type)
    if found is None:
        raise KubernetesError(
            f"Deployment '{work.name}' ({work.source}) has instance_type "
            f"'{work.instance_type}', which is not in devkit's SKU table, so its pods would "
            "get no CPU or memory size; use a listed Azure SKU (see devkit/engines/sku.py).")
    cpu = f"{found.cores}" if work.cores is None else f"{round(work.cores * 1000)}m"
    mib = round(found.memory_gib * 1024) if work.memory_bytes is None else \
        work.memory_bytes // (1024 * 1024)
    size = {"cpu": cpu, "memory": f"{mib}Mi"}
    if found.gpus:
        size["nvidia.com/gpu"] = str(found.gpus)
    return {"requests": dict(size), "limits": dict(size)}


def probe(settings: ProbeSettings, route: Route) -> Manifest:
    return {"httpGet": {"path": route.path, "port": route.port, "scheme": "HTTP"},
            "initialDelaySeconds": settings.initial_delay, "periodSeconds": settings.period,
            "timeoutSeconds": settings.timeout, "successThreshold": settings.success_threshold,
            "failureThreshold": settings.failure_threshold}


def progress_deadline(readiness: ProbeSettings) -> int:
    """How long a rollout may take before Kubernetes marks it failed: the readiness
    budget (first probe plus every allowed failure) and a minute for scheduling and pull."""
    return readiness.initial_delay + readiness.period * readiness.failure_threshold + 60


def metadata(work: Workload, namespace: str) -> Manifest:
    return {"name": names.object_name(work.endpoint, work.name), "namespace": namespace,
            "labels": names.labels(work.endpoint, work.name)}
