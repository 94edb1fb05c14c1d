"""OpenAPI schemas of a no-code MLflow deployment, generated from the model's signature.

The request schema is Azure's protocol (``input_data`` and optional ``params``): for a
column-based signature a split-orientation frame whose ``columns`` are the signature's
names, for a tensor signature nested arrays of its dtype. The response schema is the
prediction in records orientation. A model without a signature takes and returns any
JSON, as an undecorated score.py does. The types map MLflow's ``DataType`` names onto JSON
Schema; the example row is made of one typical value per column so that the document's
example is a request the model accepts.
"""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

JSON_TYPES = {"boolean": "boolean", "integer": "integer", "long": "integer",
              "float": "number", "double": "number", "string": "string",
              "binary": "string", "datetime": "string"}
EXAMPLES: dict[str, Any] = {"boolean": True, "integer": 0, "number": 0.0, "string": ""}
NUMPY_TYPES = ("int", "uint", "float", "bool", "str", "object")


def signature_schemas(signature: Any) -> tuple[Json, Json]:
    """(input schema, output schema) for ``signature`` (an mlflow ModelSignature or None)."""
    if signature is None:
        return _any(), _any()
    inputs = signature.inputs.to_dict() if signature.inputs is not None else []
    outputs = signature.outputs.to_dict() if signature.outputs is not None else []
    properties: Json = {"input_data": _input_data(inputs)}
    example: Json = {"input_data": properties["input_data"].get("example", {})}
    params = getattr(signature, "params", None)
    if params is not None:
        properties["params"] = _params(params.to_dict())
    request = {"type": "object", "required": ["input_data"], "properties": properties,
               "example": example}
    return request, {"type": "array", "items": _items(outputs)}


def _any() -> Json:
    return {"type": "object", "example": {}}


def _input_data(specs: list[Json]) -> Json:
    if specs and all(spec.get("type") != "tensor" for spec in specs):
        return _split_frame(specs)
    if len(specs) == 1:
        return _tensor(specs[0])
    tensors = {str(spec.get("name", i)): _tensor(spec) for i, spec in enumerate(specs)}
    return {"type": "object", "properties": tensors}


def _split_frame(columns: list[Json]) -> Json:
    names = [str(column.get("name", i)) for i, column in enumerate(columns)]
    row = [EXAMPLES.get(_json_type(column)) for column in columns]
    return {"type": "object", "required": ["columns", "data"],
            "properties": {"columns": {"type": "array", "items": {"type": "string"}},
                           "index": {"type": "array", "items": {"type": "integer"}},
                           "data": {"type": "array",
                                    "items": {"type": "array", "items": {}}}},
            "example": {"columns": names, "index": [0], "data": [row]}}


def _tensor(spec: Json) -> Json:
    tensor = spec.get("tensor-spec", {})
    dtype = str(tensor.get("dtype", ""))
    kind = next((k for k in NUMPY_TYPES if dtype.startswith(k)), "")
    item = {"int": "integer", "uint": "integer", "float": "number", "bool": "boolean",
            "str": "string"}.get(kind)
    schema: Json = {"type": item} if item else {}
    for _ in range(max(len(tensor.get("shape", [-1])), 1)):
        schema = {"type": "array", "items": schema}
    return schema


def _items(specs: list[Json]) -> Json:
    if len(specs) == 1 and specs[0].get("type") == "tensor":
        inner = _tensor(specs[0])
        return inner.get("items", {})
    if specs:
        return {"type": "object",
                "properties": {str(s.get("name", i)): {"type": _json_type(s)}
                               for i, s in enumerate(specs)}}
    return {}


def _params(params: list[Json]) -> Json:
    properties = {}
    for param in params:
        schema: Json = {"type": JSON_TYPES.get(str(param.get("type")), "string")}
        if "default" in param:
            schema["default"] = param["default"]
        properties[str(param.get("name"))] = schema
    return {"type": "object", "properties": properties}


def _json_type(spec: Json) -> str:
    return JSON_TYPES.get(str(spec.get("type")), "string")
