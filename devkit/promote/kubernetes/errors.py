"""The errors of the Kubernetes target, each one sentence naming the target object and the fix."""

from __future__ import annotations

from devkit.errors import TargetError


class KubernetesError(TargetError):
    """The cluster refused or failed an operation on one of the endpoint's objects."""


class GatewayApiMissing(KubernetesError):
    """The cluster does not serve ``gateway.networking.k8s.io/v1`` HTTPRoutes."""


class DeploymentNotRolledOut(KubernetesError):
    """A Deployment did not finish its rollout; the previous ReplicaSet keeps serving."""
