"""OpenAPI documents for ``GET /swagger.json?version=2|3|3.1``, as azmlinfsrv answers them.

For each version, a file in the code root wins (``swagger.json`` or ``swagger2.json`` for 2,
``swagger3.json``, ``swagger3.1.json``); otherwise the document is generated around run()'s
inference-schema input/output schemas (an empty object schema when run() is undecorated). A
version the decorators do not support is left out.

The generated document is observable behaviour (CONTRACT §2), so it matches what azmlinfsrv
1.5.1 serves, key for key and in the same order; ``tests/runtime/test_differential.py`` holds
us to that. It is built here in code, one small function per part (info, security scheme,
the three paths, the schemas). OpenAPI 2 and 3 differ only in where schemas live and how a
body is described, so each builder takes ``v2``; 3.1 is the 3.0 document with its version
number changed, as azmlinfsrv serves it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Json = dict[str, Any]

ALIASES = {"2": "2", "2.0": "2", "3": "3", "3.0": "3", "3.1": "3.1"}
VERSION_NAMES = {"2": ("2", "2.0"), "3": ("3", "3.0"), "3.1": ("3.1",)}
USER_FILES = {"2": ("swagger.json", "swagger2.json"), "3": ("swagger3.json",),
              "3.1": ("swagger3.1.json",)}
OPENAPI_VERSIONS = {"3": "3.0.3", "3.1": "3.1.0"}
JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain"
ERROR_DESCRIPTION = "The service failed to execute due to an error."
HEALTHY_DESCRIPTION = ("If service is up and running, this response will be returned with the "
                       "content 'Healthy'")
SCORED_DESCRIPTION = ("The service processed the input correctly and provided a result "
                      "prediction, if applicable.")
INPUT_DESCRIPTION = "The input payload for executing the real-time machine learning service."
# A run() carrying this attribute (a callable returning input and output schemas) describes
# itself; the runtime's MLflow scorer uses it to document the model's signature.
SCHEMAS_ATTR = "__devkit_schemas__"


class SwaggerNotFound(Exception):
    """The requested version is unknown or not available for this script (404)."""


@dataclass(frozen=True)
class SwaggerDocs:
    """The documents of one loaded script, keyed by canonical version."""

    documents: dict[str, Json]

    @property
    def supported(self) -> list[str]:
        return sorted(self.documents)

    def get(self, version: str | None) -> Json:
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


@dataclass(frozen=True)
class Service:
    """What the document says about the service: SERVICE_NAME, _VERSION and _PATH_PREFIX."""

    name: str = "ML service"
    version: str = "1.0"
    path_prefix: str = ""

    @classmethod
    def from_environ(cls) -> Service:
        prefix = os.environ.get("SERVICE_PATH_PREFIX", "").strip("/")
        return cls(os.environ.get("SERVICE_NAME", cls.name),
                   os.environ.get("SERVICE_VERSION", cls.version),
                   f"/{prefix}" if prefix else "")


def build(code_root: Path, run: Callable[..., Any] | None) -> SwaggerDocs:
    """All versions available for ``run`` under ``code_root``."""
    documents: dict[str, Json] = {}
    for version in ("2", "3", "3.1"):
        document = _user_document(code_root, version)
        if document is None and run is not None:
            document = _generated(version, run)
        if document is not None:
            documents[version] = document
    return SwaggerDocs(documents)


def _user_document(code_root: Path, version: str) -> Json | None:
    for name in USER_FILES[version]:
        path = code_root / name
        if path.is_file():
            loaded: Json = json.loads(path.read_text(encoding="utf-8"))
            return loaded
    return None


def _generated(version: str, run: Callable[..., Any]) -> Json | None:
    schemas = _schemas(run, version)
    if schemas is None:
        return None
    service = Service.from_environ()
    if version == "2":
        return openapi2(service, *schemas)
    return openapi3(service, *schemas, openapi=OPENAPI_VERSIONS[version])


def _schemas(run: Callable[..., Any], version: str) -> tuple[Json, Json] | None:
    """Input and output schemas for ``version``, or None if the decorators exclude it."""
    described = getattr(run, SCHEMAS_ATTR, None)
    if callable(described):
        inputs, outputs = described()
        return inputs, outputs
    if "inference_schema" not in sys.modules:
        return _empty_schema(), _empty_schema()
    from inference_schema import schema_util

    supported = schema_util.get_supported_versions(run)
    if not any(name in supported for name in VERSION_NAMES[version]):
        return None
    if not schema_util.is_schema_decorated(run):
        return _empty_schema(), _empty_schema()
    return schema_util.get_input_schema(run), schema_util.get_output_schema(run)


def _empty_schema() -> Json:
    """What an undecorated run() takes and returns: any JSON object."""
    return {"type": "object", "example": {}}


# --- the documents ---------------------------------------------------------------------------

def openapi2(service: Service, inputs: Json, outputs: Json) -> Json:
    """The Swagger 2.0 document: schemas under ``definitions``."""
    return {
        "swagger": "2.0",
        "info": _info(service),
        "schemes": ["https"],
        "consumes": [JSON_TYPE],
        "produces": [JSON_TYPE],
        "securityDefinitions": _bearer_scheme(),
        "paths": _paths(service.path_prefix, v2=True),
        "definitions": _schema_definitions(inputs, outputs),
    }


def openapi3(service: Service, inputs: Json, outputs: Json, openapi: str = "3.0.3") -> Json:
    """The OpenAPI 3 document (3.0.3, or 3.1.0 with the same body): schemas under components."""
    return {
        "openapi": openapi,
        "info": _info(service),
        "security": _bearer_requirement(),
        "paths": _paths(service.path_prefix, v2=False),
        "components": {"schemas": _schema_definitions(inputs, outputs),
                       "securitySchemes": _bearer_scheme()},
    }


def _info(service: Service) -> Json:
    return {"title": service.name,
            "description": f"API specification for the Azure Machine Learning service "
                           f"{service.name}",
            "version": service.version}


def _bearer_scheme() -> Json:
    """The API key in the Authorization header that Azure ML endpoints expect."""
    return {"Bearer": {"type": "apiKey", "name": "Authorization", "in": "header",
                       "description": "For example: Bearer abc123"}}


def _bearer_requirement() -> list[Json]:
    return [{"Bearer": []}]


def _schema_definitions(inputs: Json, outputs: Json) -> Json:
    return {"ServiceInput": inputs, "ServiceOutput": outputs,
            "ErrorResponse": {"type": "object", "properties": {"message": {"type": "string"}}}}


# --- the paths -------------------------------------------------------------------------------

def _paths(prefix: str, v2: bool) -> Json:
    return {f"{prefix}/": {"get": _health_check(v2)},
            f"{prefix}/score": {"post": _score(v2)},
            f"{prefix}/swagger.json": {"get": _swagger_spec(v2)}}


def _health_check(v2: bool) -> Json:
    if v2:
        healthy = {"description": HEALTHY_DESCRIPTION, "schema": {"type": "string"},
                   "examples": {JSON_TYPE: "Healthy"}}
    else:
        healthy = _response(HEALTHY_DESCRIPTION, TEXT_TYPE,
                            {"type": "string", "example": "Healthy"}, v2)
    return {"operationId": "ServiceHealthCheck",
            "description": "Simple health check endpoint to ensure the service is up at any "
                           "given point.",
            "responses": _responses(healthy, v2)}


def _score(v2: bool) -> Json:
    scored = _response(SCORED_DESCRIPTION, JSON_TYPE, _ref("ServiceOutput", v2), v2)
    return {"operationId": "RunMLService",
            "description": "Run web service's model and get the prediction output",
            "security": _bearer_requirement(),
            **_score_input(v2),
            "responses": _responses(scored, v2)}


def _score_input(v2: bool) -> Json:
    """The request body: a ``body`` parameter in 2, a ``requestBody`` in 3."""
    schema = _ref("ServiceInput", v2)
    if v2:
        return {"parameters": [{"name": "serviceInputPayload", "in": "body",
                                "description": INPUT_DESCRIPTION, "schema": schema}]}
    return {"requestBody": {"description": INPUT_DESCRIPTION,
                            "content": {JSON_TYPE: {"schema": schema}}}}


def _swagger_spec(v2: bool) -> Json:
    # azmlinfsrv documents the versions as integers 2 and 3, although it also serves 3.1
    versions: Json = {"type": "integer", "enum": [2, 3]}
    parameter: Json = {"name": "version", "in": "query", "required": False}
    parameter.update(versions if v2 else {"schema": versions})
    spec = _response("The Swagger specification.", TEXT_TYPE, {"type": "string"}, v2)
    return {"operationId": "GetSwaggerSpec",
            "description": "Get the Swagger specification.",
            "parameters": [parameter],
            "responses": _responses(spec, v2)}


# --- the building blocks ---------------------------------------------------------------------

def _responses(success: Json, v2: bool) -> Json:
    """A 200 answer and the shared error answer every operation declares."""
    return {"200": success,
            "default": _response(ERROR_DESCRIPTION, JSON_TYPE, _ref("ErrorResponse", v2), v2)}


def _response(description: str, media_type: str, schema: Json, v2: bool) -> Json:
    """A response: its schema inline in 2, under ``content`` by media type in 3."""
    if v2:
        return {"description": description, "schema": schema}
    return {"description": description, "content": {media_type: {"schema": schema}}}


def _ref(name: str, v2: bool) -> Json:
    home = "#/definitions" if v2 else "#/components/schemas"
    return {"$ref": f"{home}/{name}"}
