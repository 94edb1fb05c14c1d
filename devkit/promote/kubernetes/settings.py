"""The small typed input of the Kubernetes target: where an endpoint goes and what it runs.

The promote machinery (targets file, release images) turns its own objects into these, so
rendering and applying depend on nothing but the loaded ``Endpoint`` and this module:

- :class:`ClusterSettings`: the namespace, the Gateway the endpoint's HTTPRoute attaches to
  (``parentRefs``) and its hostnames, and how to reach the API server (kubeconfig, context);
- :class:`ReleaseImages`: per deployment, the release image by digest;
- :class:`Credentials`: the endpoint's two keys and its token signing secret, which go into
  one Secret that every pod mounts (the runtime checks callers itself; see runtime/guard.py).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from devkit.promote.kubernetes.errors import KubernetesError

# An image referenced by digest: NAME@sha256:<64 hex>. A tag can move under a running
# Deployment; a digest cannot, so a cluster runs exactly the release that was planned.
_DIGEST = re.compile(r"^[^@\s]+@sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class GatewayParent:
    """One ``parentRefs`` entry of the HTTPRoute: the Gateway (and listener) it attaches to."""

    name: str
    namespace: str | None = None
    section_name: str | None = None

    def as_ref(self) -> dict[str, str]:
        ref = {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": self.name}
        if self.namespace:
            ref["namespace"] = self.namespace
        if self.section_name:
            ref["sectionName"] = self.section_name
        return ref


@dataclass(frozen=True)
class ClusterSettings:
    """A Kubernetes target as rendering and applying need it."""

    name: str = "kubernetes"  # the target's name, for messages
    namespace: str = "default"
    gateways: tuple[GatewayParent, ...] = (GatewayParent("devkit"),)
    hostnames: tuple[str, ...] = ()
    kubeconfig: str | None = None
    context: str | None = None


@dataclass(frozen=True)
class ReleaseImages:
    """What each deployment runs: ``images[deployment] = "registry/name@sha256:..."``."""

    images: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def image(self, deployment: str) -> str:
        image = self.images.get(deployment)
        if image is None:
            raise KubernetesError(f"The release has no image for deployment '{deployment}'; "
                                  "build and push its release image before rendering.")
        if not _DIGEST.match(image):
            raise KubernetesError(f"The release image of deployment '{deployment}' is "
                                  f"'{image}', not a reference by digest; push it and use "
                                  "NAME@sha256:DIGEST so the cluster runs what was planned.")
        return image


@dataclass(frozen=True)
class Credentials:
    """The endpoint's keys and token signing secret, as the Secret carries them."""

    primary: str
    secondary: str
    token_secret: str

    @classmethod
    def generate(cls) -> Credentials:
        return cls(secrets.token_urlsafe(32), secrets.token_urlsafe(32),
                   secrets.token_urlsafe(48))
