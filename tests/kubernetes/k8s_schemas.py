"""Offline schema checks of rendered manifests (imported by name from this folder).

Built-in kinds: the official OpenAPI schemas of a current Kubernetes release, as
``kubernetes-validate`` ships them, in strict mode (a field the schema lacks is an error).
HTTPRoute: the ``openAPIV3Schema`` of the Gateway API CRD from the project's shared/
folder, with ``jsonschema`` (structure, types, patterns, enums; its CEL rules are checked by
the real API server in test_k8s_httproute_server.py).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema
import kubernetes_validate
import yaml
from k8s_server import HTTPROUTE_CRD

KUBERNETES_VERSION = kubernetes_validate.latest_version()


def problems(manifest: dict[str, Any]) -> list[str]:
    """Every schema violation of one manifest, as ``Kind name: path: message`` lines."""
    where = f"{manifest['kind']} {manifest['metadata']['name']}"
    if manifest["kind"] == "HTTPRoute":
        validator = jsonschema.Draft7Validator(_httproute_schema())
        return [f"{where}: {_path(error.absolute_path)}: {error.message}"
                for error in validator.iter_errors(manifest)]
    try:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{where}: {_path(exc.absolute_path)}: {exc.message}"]
    return []


@cache
def _httproute_schema() -> dict[str, Any]:
    crd = yaml.safe_load(HTTPROUTE_CRD.read_text())
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    schema: dict[str, Any] = served["schema"]["openAPIV3Schema"]
    return schema


def _path(parts: Any) -> str:
    return ".".join(str(part) for part in parts) or "(root)"
