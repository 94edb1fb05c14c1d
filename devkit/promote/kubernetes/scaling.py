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
from devkit.promote.kubernetes.inputs import Workload
from devkit.promote.kubernetes.workload import metadata

Manifest = dict[str, Any]


def hpa(work: Workload, namespace: str) -> Manifest | None:
    scale = work.autoscale
    if scale is None:
        return None
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": metadata(work, namespace),
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                   "name": names.object_name(work.endpoint, work.name)},
                # 0 needs the alpha HPAScaleToZero gate; clusters scale to one at least.
                "minReplicas": max(1, scale.min_instances),
                "maxReplicas": scale.max_instances,
                "metrics": [{"type": "Resource", "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization",
                               "averageUtilization": scale.target_utilization}}}],
            }}


def pdb(work: Workload, namespace: str) -> Manifest | None:
    if work.least_replicas <= 1:
        return None
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": metadata(work, namespace),
            "spec": {"maxUnavailable": 1,
                     "selector": {"matchLabels": names.selector(work.endpoint, work.name)}}}
