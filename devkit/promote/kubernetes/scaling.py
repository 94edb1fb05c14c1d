"""How many pods a deployment runs: an ``HorizontalPodAutoscaler`` and a ``PodDisruptionBudget``.

``scale_settings.type: target_utilization`` becomes an ``autoscaling/v2`` HPA on CPU
utilisation between ``min_instances`` and ``max_instances`` (Azure's autoscaler scales on the
same signal); ``default`` keeps ``instance_count`` fixed and renders no HPA. Azure's
``polling_interval`` has no per-object equivalent (the HPA controller's sync period is a
cluster setting), so it is not rendered. A deployment that runs more than one pod gets a PDB
allowing one voluntary disruption at a time, so a node drain never takes all of it down.
"""

from __future__ import annotations

from typing import Any

from devkit.promote.kubernetes import names
from devkit.spec.model import DeploymentSpec

Manifest = dict[str, Any]


def autoscaled(spec: DeploymentSpec) -> bool:
    return spec.scale_settings.type == "target_utilization"


def hpa(spec: DeploymentSpec, namespace: str) -> Manifest | None:
    if not autoscaled(spec):
        return None
    scale = spec.scale_settings
    name = names.object_name(spec.endpoint_name, spec.name)
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": _metadata(spec, namespace),
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                   "name": name},
                # 0 needs the alpha HPAScaleToZero gate; clusters scale to one at least.
                "minReplicas": max(1, scale.min_instances),
                "maxReplicas": scale.max_instances,
                "metrics": [{"type": "Resource", "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization",
                               "averageUtilization": scale.target_utilization_percentage}}}],
            }}


def pdb(spec: DeploymentSpec, namespace: str) -> Manifest | None:
    least = spec.scale_settings.min_instances if autoscaled(spec) else spec.instance_count
    if least <= 1:
        return None
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": _metadata(spec, namespace),
            "spec": {"maxUnavailable": 1,
                     "selector": {"matchLabels": names.selector(spec.endpoint_name,
                                                                spec.name)}}}


def _metadata(spec: DeploymentSpec, namespace: str) -> Manifest:
    return {"name": names.object_name(spec.endpoint_name, spec.name), "namespace": namespace,
            "labels": names.labels(spec.endpoint_name, spec.name)}
