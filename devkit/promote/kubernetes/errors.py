"""The errors of the Kubernetes target, each one sentence naming the target object and the fix."""

from __future__ import annotations

from devkit.errors import DevkitError


class KubernetesError(DevkitError):
    """The cluster refused or failed an operation on one of the endpoint's objects."""

    exit_code = 9


class GatewayApiMissing(KubernetesError):
    """The cluster does not serve ``gateway.networking.k8s.io/v1`` HTTPRoutes."""


class RolloutFailed(KubernetesError):
    """A Deployment did not finish its rollout; the previous ReplicaSet keeps serving."""
