"""Waiting for each Deployment's rollout, and what to show when one fails.

:func:`status` reads one Deployment object the way ``kubectl rollout status`` does
(kubectl's ``DeploymentStatusViewer``): the controller must have seen the latest
generation, every replica must be updated and available, no old replica may remain, and a
``Progressing`` condition with reason ``ProgressDeadlineExceeded`` is a failure (the
Deployment's ``progressDeadlineSeconds`` comes from the readiness probe budget).

On a failure :func:`wait` raises :class:`DeploymentNotRolledOut` with the events and the last log
lines of the new pods. Nothing is undone: with ``maxUnavailable: 0`` the previous
ReplicaSet was never scaled down, so it keeps serving; ``devkit promote --rollback`` puts the
previous release back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from devkit.promote.kubernetes import names
from devkit.promote.kubernetes.client import Cluster
from devkit.promote.kubernetes.errors import DeploymentNotRolledOut, KubernetesError

LOG_LINES = 20


@dataclass(frozen=True)
class RolloutStatus:
    done: bool
    failed: bool
    message: str
    ready: int = 0
    wanted: int = 0


def status(obj: Mapping[str, Any]) -> RolloutStatus:
    """Where one Deployment's rollout stands, from the object alone."""
    meta, spec, state = obj.get("metadata", {}), obj.get("spec", {}), obj.get("status") or {}
    name = meta.get("name", "?")
    wanted = int(spec.get("replicas", 1))
    updated = int(state.get("updatedReplicas") or 0)
    total = int(state.get("replicas") or 0)
    available = int(state.get("availableReplicas") or 0)
    if int(meta.get("generation") or 0) > int(state.get("observedGeneration") or 0):
        return RolloutStatus(False, False, f"{name}: waiting for the controller to see the "
                             "new spec", available, wanted)
    for condition in state.get("conditions") or []:
        if (condition.get("type") == "Progressing"
                and condition.get("reason") == "ProgressDeadlineExceeded"):
            return RolloutStatus(False, True, f"{name}: {condition.get('message', '')}",
                                 available, wanted)
    if updated < wanted:
        message = f"{name}: {updated} of {wanted} new replicas updated"
    elif total > updated:
        message = f"{name}: {total - updated} old replicas pending termination"
    elif available < updated:
        message = f"{name}: {available} of {updated} updated replicas available"
    else:
        return RolloutStatus(True, False, f"{name}: rolled out", available, wanted)
    return RolloutStatus(False, False, message, available, wanted)


def wait(cluster: Cluster, name: str, progress: Callable[[RolloutStatus], None] | None = None,
         poll_s: float = 2.0, deadline_s: float | None = None) -> RolloutStatus:
    """Poll Deployment ``name`` until it rolled out; DeploymentNotRolledOut when it cannot.

    The Deployment's own ``progressDeadlineSeconds`` decides failure; ``deadline_s`` is only
    a backstop for a controller that never reports (a cluster without one).
    """
    started = time.monotonic()
    last = ""
    while True:
        obj = cluster.get("apps/v1", "Deployment", name)
        if obj is None:
            raise KubernetesError(f"Deployment {cluster.settings.namespace}/{name} vanished "
                                  f"from target '{cluster.settings.name}' during its rollout; "
                                  "promote again.")
        current = status(obj)
        if progress is not None and current.message != last:
            progress(current)
            last = current.message
        if current.done:
            return current
        if current.failed or (deadline_s is not None
                              and time.monotonic() - started > deadline_s):
            raise DeploymentNotRolledOut(failure_report(cluster, obj, current))
        time.sleep(poll_s)


def failure_report(cluster: Cluster, obj: Mapping[str, Any], current: RolloutStatus) -> str:
    """One sentence, then the new pods' events and last log lines."""
    meta = obj["metadata"]
    labels = meta.get("labels", {})
    endpoint = labels.get(names.ENDPOINT, "")
    lines = [f"Deployment {meta.get('namespace')}/{meta['name']} on target "
             f"'{cluster.settings.name}' did not roll out ({current.message}); the previous "
             f"ReplicaSet keeps serving: fix the cause below and promote again, or run "
             f"`devkit promote {endpoint} --target {cluster.settings.name} --rollback`."]
    for pod in _unready_pods(cluster, labels):
        pod_name = pod["metadata"]["name"]
        lines.append(f"pod {pod_name}:")
        lines += [f"  event: {event}" for event in _events(cluster, pod_name)]
        lines += [f"  log: {line}" for line in _log_tail(cluster, pod_name)]
    return "\n".join(lines)


def _unready_pods(cluster: Cluster, labels: Mapping[str, str]) -> list[dict[str, Any]]:
    pods = cluster.resource("v1", "Pod")
    selector = ",".join(f"{key}={labels[key]}" for key in (names.ENDPOINT, names.DEPLOYMENT)
                        if key in labels)
    with cluster.translated("listing the rollout's pods"):
        items = pods.get(namespace=cluster.settings.namespace,
                         label_selector=selector).to_dict().get("items", [])
    return [pod for pod in items if not _ready(pod)]


def _ready(pod: Mapping[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _events(cluster: Cluster, pod: str) -> list[str]:
    events = cluster.resource("v1", "Event")
    with cluster.translated(f"reading the events of pod {pod}"):
        items = events.get(namespace=cluster.settings.namespace,
                           field_selector=f"involvedObject.name={pod}").to_dict()["items"]
    return [f"{item.get('reason')}: {item.get('message')}" for item in items]


def _log_tail(cluster: Cluster, pod: str) -> list[str]:
    from kubernetes import client

    core = client.CoreV1Api(cluster.api_client)
    try:
        with cluster.translated(f"reading the log of pod {pod}"):
            text = core.read_namespaced_pod_log(pod, cluster.settings.namespace,
                                                tail_lines=LOG_LINES)
    except KubernetesError as exc:  # a pod that never started has no log: say so
        return [f"(no log: {exc})"]
    return str(text).splitlines()
