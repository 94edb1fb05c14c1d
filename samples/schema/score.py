"""Scoring script of the inference-schema sample: typed inputs and a generated swagger.

``@input_schema`` / ``@output_schema`` (package ``inference-schema``) declare what
``run()`` takes and returns. The server then parses the JSON body into those types
(``data`` becomes a numpy array), refuses malformed requests with 400/415 before
``run()`` is called, and generates ``/swagger.json`` from the samples below. The "model"
is a logistic scorer whose weights live in ``model/weights.json``.
"""

import json
import math
import os

import numpy as np
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.parameter_types.standard_py_parameter_type import (
    StandardPythonParameterType,
)
from inference_schema.schema_decorators import input_schema, output_schema

weights = np.zeros(4)
bias = 0.0

SAMPLE_DATA = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]])
SAMPLE_OUTPUT = {"probabilities": [0.0003, 0.8765], "labels": ["other", "virginica"]}


def init():
    global weights, bias
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "weights.json")) as file:
        model = json.load(file)
    weights = np.array(model["weights"], dtype=float)
    bias = float(model["bias"])
    print(f"schema: loaded {len(weights)} weights for {', '.join(model['features'])}")


@input_schema("data", NumpyParameterType(SAMPLE_DATA, enforce_shape=False))
@input_schema("threshold", StandardPythonParameterType(0.5))
@output_schema(StandardPythonParameterType(SAMPLE_OUTPUT))
def run(data, threshold):
    logits = data @ weights + bias
    probabilities = [1.0 / (1.0 + math.exp(-value)) for value in logits]
    labels = ["virginica" if p >= threshold else "other" for p in probabilities]
    print(f"schema: scored {len(probabilities)} rows at threshold {threshold}")
    return {"probabilities": [round(p, 4) for p in probabilities], "labels": labels}
