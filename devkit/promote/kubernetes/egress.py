"""``egress_public_network_access: disabled`` on Kubernetes: a NetworkPolicy that selects the
deployment's pods and allows no egress at all (``policyTypes: [Egress]``, no rule).

Ingress is left alone (no ``Ingress`` policy type), so the Gateway, kubelet probes and
the HTTPRoute's mirror still reach the pods; replies to accepted connections are not
egress in NetworkPolicy's terms. DNS is denied too: the runtime needs none to serve.
A policy is only as good as the cluster's network plugin: one that does not enforce
NetworkPolicy (flannel alone, for example) accepts the object and blocks nothing, which
docs/kubernetes.md says.
"""

from __future__ import annotations

from typing import Any

from devkit.promote.kubernetes import names
from devkit.promote.kubernetes.inputs import Workload

Manifest = dict[str, Any]
API_VERSION = "networking.k8s.io/v1"
KIND = "NetworkPolicy"


def policy_name(endpoint: str, deployment: str) -> str:
    """The deployment's object name (a DNS-1123 label, see :mod:`names`): one name per kind."""
    return names.object_name(endpoint, deployment)


def network_policy(work: Workload, namespace: str) -> Manifest | None:
    """The deny-all-egress policy of one egress-disabled deployment, else None."""
    if not work.egress_disabled:
        return None
    return {
        "apiVersion": API_VERSION, "kind": KIND,
        "metadata": {"name": policy_name(work.endpoint, work.name), "namespace": namespace,
                     "labels": names.labels(work.endpoint, work.name)},
        "spec": {"podSelector": {"matchLabels": names.selector(work.endpoint, work.name)},
                 "policyTypes": ["Egress"], "egress": []},
    }
