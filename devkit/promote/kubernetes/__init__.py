"""The Kubernetes target: an endpoint as Deployments, Services, a Secret, HPAs, PDBs and one
Gateway API HTTPRoute, applied with the official ``kubernetes`` client.

Modules, lowest first:

    settings  the typed input: ClusterSettings (namespace, Gateway, kubeconfig), ReleaseImages,
              Credentials
    inputs    EndpointRelease / Workload: what rendering needs, from the spec or a release
    names     object names and devkit's three labels
    workload  Deployment and Service per deployment (size, env, probes, security context)
    scaling   HorizontalPodAutoscaler and PodDisruptionBudget
    route     the HTTPRoute: weighted split, header pins, RequestMirror; traffic changes
    render    every object of an endpoint, in apply order; ``--dry-run`` files
    client    the cluster: discovery, server-side apply, errors as one sentence
    history   the release record on the HTTPRoute (for rollback)
    diff      what a plan shows: live object vs server dry run
    apply     plan, apply, prune, traffic, rollback, down
    rollout   waiting for Deployments, and what a failed rollout shows
    deploy    one promote start to finish; the endpoint's keys
    status    status and logs read back from the cluster
    target    the promote machinery's Place for kind kubernetes (plan, apply, rollback, ...)

See docs/kubernetes.md for what a cluster needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devkit.promote.kubernetes.target import KubernetesTarget
    from devkit.promote.targets import Target


def open_kubernetes(target: Target) -> KubernetesTarget:
    """The Kubernetes place of :func:`devkit.promote.places.open_place` (imported lazily:
    it needs the ``kubernetes`` client)."""
    from devkit.promote.kubernetes.target import KubernetesTarget

    return KubernetesTarget(target)
