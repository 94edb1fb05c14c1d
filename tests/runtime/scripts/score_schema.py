"""@input_schema/@output_schema (inference-schema): JSON object keys become arguments."""

from inference_schema.parameter_types.standard_py_parameter_type import (
    StandardPythonParameterType,
)
from inference_schema.schema_decorators import input_schema, output_schema


def init() -> None:
    pass


@input_schema("numbers", StandardPythonParameterType([1.0, 2.0]))
@input_schema("scale", StandardPythonParameterType(2.0))
@output_schema(StandardPythonParameterType({"total": 6.0}))
def run(numbers: list, scale: float = 1.0) -> dict:
    return {"total": sum(numbers) * scale}
