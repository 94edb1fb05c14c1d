"""Every Kubernetes object of one endpoint, rendered from its spec, its release and the target.

:func:`render` is pure: the same endpoint, release and settings always give the same list,
in apply order (the Secret the pods mount, then per deployment its Deployment, Service, HPA,
PDB and egress NetworkPolicy, then the HTTPRoute, whose backends exist by the time it is applied).
:func:`write` is ``promote --dry-run DIR`` for this target: the objects as one multi-document
YAML file a reviewer can read and ``kubectl apply -f`` can take.

Without :class:`Credentials` (a dry run) the Secret is rendered with no data: keys are never
written to disk, and pods started from such a Secret refuse every call (the runtime fails
closed when it finds no key).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml

from devkit.promote.kubernetes import egress, inputs, names, route, scaling, workload
from devkit.promote.kubernetes.inputs import EndpointRelease
from devkit.promote.kubernetes.settings import ClusterSettings, Credentials, ReleaseImages
from devkit.spec.model import Endpoint

Manifest = dict[str, Any]
# The Secret's files, as the runtime reads them from DEVKIT_AUTH_DIR.
KEY_FILES = ("primary", "secondary")
TOKEN_FILE = "token-secret"


def render(endpoint: Endpoint, images: ReleaseImages, settings: ClusterSettings,
           credentials: Credentials | None = None) -> list[Manifest]:
    """The objects of a loaded endpoint spec running ``images``."""
    return render_release(inputs.from_spec(endpoint, images), settings, credentials)


def render_release(endpoint: EndpointRelease, settings: ClusterSettings,
                   credentials: Credentials | None = None) -> list[Manifest]:
    namespace = settings.namespace
    manifests = [secret(endpoint.name, namespace, credentials)]
    for work in endpoint.workloads:
        manifests.append(workload.deployment(work, namespace, endpoint.auth_mode))
        manifests.append(workload.service(work, namespace))
        for extra in (scaling.hpa(work, namespace), scaling.pdb(work, namespace),
                      egress.network_policy(work, namespace)):
            if extra is not None:
                manifests.append(extra)
    manifests.append(route.http_route(endpoint, settings))
    return manifests


def secret(endpoint: str, namespace: str, credentials: Credentials | None) -> Manifest:
    manifest: Manifest = {
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": names.secret_name(endpoint), "namespace": namespace,
                     "labels": names.labels(endpoint)},
    }
    if credentials is not None:
        manifest["data"] = secret_data(credentials)
    return manifest


def secret_data(credentials: Credentials) -> dict[str, str]:
    """``data`` (base64), not ``stringData``: the server stores data only, so this is the
    field server-side apply records devkit as owning, and what a dry run compares."""
    return {"primary": _b64(credentials.primary), "secondary": _b64(credentials.secondary),
            TOKEN_FILE: _b64(credentials.token_secret)}


def credentials_of(secret_obj: Manifest | None) -> Credentials | None:
    """The credentials a live Secret holds, or None when it holds none (or is absent)."""
    data = (secret_obj or {}).get("data") or {}
    try:
        return Credentials(_text(data["primary"]), _text(data["secondary"]),
                           _text(data[TOKEN_FILE]))
    except (KeyError, ValueError):
        return None


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _text(value: str) -> str:
    return base64.b64decode(value, validate=True).decode("utf-8")


def dump(manifests: list[Manifest]) -> str:
    """Multi-document YAML, keys in the order they were rendered (apiVersion, kind first)."""
    return yaml.safe_dump_all(manifests, sort_keys=False, default_flow_style=False)


def write(manifests: list[Manifest], directory: Path, endpoint: str) -> Path:
    """``DIR/<endpoint>.k8s.yaml``; returns the path written."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{names.object_name(endpoint)}.k8s.yaml"
    path.write_text(dump(manifests), encoding="utf-8")
    return path
