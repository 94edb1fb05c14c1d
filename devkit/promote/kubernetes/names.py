"""Object names and the labels devkit puts on everything it creates in a cluster.

Every object carries ``app.kubernetes.io/managed-by: devkit``, ``devkit.endpoint`` and
``devkit.deployment``; prune, status and down find devkit's objects by these labels alone,
never by name. An endpoint-wide object (the Secret, the HTTPRoute) belongs to no single
deployment: its ``devkit.deployment`` label is present and empty, so ``devkit.deployment``
(exists) selects all of an endpoint's objects and ``devkit.deployment=blue`` blue's only.
"""

from __future__ import annotations

import hashlib
import re

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "devkit"
ENDPOINT = "devkit.endpoint"
DEPLOYMENT = "devkit.deployment"
# The HTTP header a caller sets to pin a request to one deployment (as in Azure).
PIN_HEADER = "azureml-model-deployment"
MAX_NAME = 63  # a DNS-1123 label: Services need it; everything else accepts it too


def labels(endpoint: str, deployment: str = "") -> dict[str, str]:
    return {MANAGED_BY: MANAGER, ENDPOINT: endpoint, DEPLOYMENT: deployment}


def selector(endpoint: str, deployment: str) -> dict[str, str]:
    """The pod selector of one deployment (immutable on a Deployment once created)."""
    return {ENDPOINT: endpoint, DEPLOYMENT: deployment}


def endpoint_selector(endpoint: str) -> str:
    """A label selector string for everything devkit made for ``endpoint``."""
    return f"{MANAGED_BY}={MANAGER},{ENDPOINT}={endpoint}"


def object_name(endpoint: str, deployment: str | None = None) -> str:
    """``endpoint`` or ``endpoint-deployment``, lowercased, as a DNS-1123 label.

    Azure allows upper case and names up to 32 characters each, so the pair can exceed 63
    characters; a long name is cut and given a hash suffix so two never collide.
    """
    raw = endpoint if deployment is None else f"{endpoint}-{deployment}"
    name = re.sub(r"[^a-z0-9-]", "-", raw.lower()).strip("-")
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(raw.encode()).hexdigest()[:8]
    return f"{name[:MAX_NAME - 9].rstrip('-')}-{digest}"


def secret_name(endpoint: str) -> str:
    # Names are unique per kind, so the Secret and the HTTPRoute share the endpoint's name.
    return object_name(endpoint)
