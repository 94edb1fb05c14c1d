"""OpenAPI documents for ``GET /swagger.json?version=2|3|3.1``, as azmlinfsrv builds them.

For each version, a file in the code root wins (``swagger.json`` or ``swagger2.json`` for 2,
``swagger3.json``, ``swagger3.1.json``); otherwise the document is generated from the
template with run()'s inference-schema input/output schemas (an empty object schema when
run() is undecorated). A version the decorators do not support is left out. The templates
are azmlinfsrv 1.5.1's, so generated documents match it byte for byte.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).parent
ALIASES = {"2": "2", "2.0": "2", "3": "3", "3.0": "3", "3.1": "3.1"}
VERSION_NAMES = {"2": ("2", "2.0"), "3": ("3", "3.0"), "3.1": ("3.1",)}
USER_FILES = {"2": ("swagger.json", "swagger2.json"), "3": ("swagger3.json",),
              "3.1": ("swagger3.1.json",)}


class SwaggerNotFound(Exception):
    """The requested version is unknown or not available for this script (404)."""


@dataclass(frozen=True)
class SwaggerDocs:
    """The documents of one loaded script, keyed by canonical version."""

    documents: dict[str, dict[str, Any]]

    @property
    def supported(self) -> list[str]:
        return sorted(self.documents)

    def get(self, version: str | None) -> dict[str, Any]:
        requested = "2" if version is None else version
        canonical = ALIASES.get(requested)
        listed = ", ".join(self.supported)
        if canonical is None:
            raise SwaggerNotFound(f"Swagger version [{requested}] is not valid. "
                                  f"Supported versions: [{listed}].")
        if canonical not in self.documents:
            raise SwaggerNotFound(f"Swagger version [{requested}] is not supported for the "
                                  f"scoring script. Supported swagger versions: [{listed}].")
        return self.documents[canonical]


def build(code_root: Path, run: Callable[..., Any] | None) -> SwaggerDocs:
    """All versions available for ``run`` under ``code_root``."""
    documents: dict[str, dict[str, Any]] = {}
    for version in ("2", "3", "3.1"):
        document = _user_document(code_root, version)
        if document is None and run is not None:
            document = _generated(version, run)
        if document is not None:
            documents[version] = document
    return SwaggerDocs(documents)


def _user_document(code_root: Path, version: str) -> dict[str, Any] | None:
    for name in USER_FILES[version]:
        path = code_root / name
        if path.is_file():
            loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return loaded
    return None


def _generated(version: str, run: Callable[..., Any]) -> dict[str, Any] | None:
    schemas = _schemas(run, version)
    if schemas is None:
        return None
    template = "swagger2_template.json" if version == "2" else "swagger3_template.json"
    prefix = os.environ.get("SERVICE_PATH_PREFIX", "").strip("/")
    text = ((TEMPLATES / template).read_text(encoding="utf-8")
            .replace("$SERVICE_NAME$", os.environ.get("SERVICE_NAME", "ML service"))
            .replace("$SERVICE_VERSION$", os.environ.get("SERVICE_VERSION", "1.0"))
            .replace("$PATH_PREFIX$", f"/{prefix}" if prefix else ""))
    document: dict[str, Any] = json.loads(text)
    inputs, outputs = schemas
    if version == "2":
        document["definitions"]["ServiceInput"] = inputs
        document["definitions"]["ServiceOutput"] = outputs
    else:
        document["components"]["schemas"]["ServiceInput"] = inputs
        document["components"]["schemas"]["ServiceOutput"] = outputs
    if version == "3.1":
        document["openapi"] = "3.1.0"
    return document


def _schemas(run: Callable[..., Any], version: str) -> tuple[Any, Any] | None:
    """Input and output schemas for ``version``, or None if the decorators exclude it."""
    empty = {"type": "object", "example": {}}
    if "inference_schema" not in sys.modules:
        return empty, empty
    from inference_schema import schema_util

    supported = schema_util.get_supported_versions(run)
    if not any(name in supported for name in VERSION_NAMES[version]):
        return None
    if not schema_util.is_schema_decorated(run):
        return empty, empty
    return schema_util.get_input_schema(run), schema_util.get_output_schema(run)
