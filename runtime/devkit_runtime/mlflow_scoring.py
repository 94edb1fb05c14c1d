"""Scoring an MLflow model without a score.py: the no-code deployment (CONTRACT.md §6).

:class:`MlflowScorer` loads the model folder with ``mlflow.pyfunc.load_model`` and answers
one request body at a time, in one of two protocols told apart by the body's keys:

* **Azure's** (``input_data``, optional ``params``): ``input_data`` is a pandas
  split-orientation object (``columns``/``index``/``data``), a tensor (nested lists) or
  named tensors (``{"name": [[...]], ...}``). The answer is the prediction in records
  orientation with no wrapper; errors are ``{"message": ...}`` with Azure's sentences.
* **MLflow's own** (``dataframe_split``, ``dataframe_records``, ``instances``, ``inputs``,
  as ``mlflow models serve`` takes them on ``/invocations``): handed to MLflow's own
  ``scoring_server.invocations``, so the parsing, the signature enforcement and the
  ``{"predictions": ...}`` answer are MLflow's, not a copy of them.

Either way the model's signature is enforced by ``PyFuncModel.predict`` itself; a mismatch
is MLflow's ``INVALID_PARAMETER_VALUE`` error and answers 400 with MLflow's message, while
any other exception in prediction propagates and the server answers 500 as for any run().

``mlflow``, ``pandas`` and ``numpy`` are imported only here, when a model is loaded: the
runtime itself depends on none of them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JSON_TYPE = "application/json"
NOT_JSON = "Expects Content-Type to be application/json"
NO_INPUT = "A value is not provided for the 'input_data' parameter."
MLFLOW_KEYS = frozenset({"dataframe_split", "dataframe_records", "instances", "inputs"})
SPLIT_KEYS = frozenset({"columns", "index", "data"})


class ModelLoadError(Exception):
    """The model folder cannot be served; the message names the file and the fix."""


@dataclass(frozen=True)
class Answer:
    """One response: status and a JSON-serialisable body."""

    status: int
    body: Any


def model_path(model_dir: str, folder: str | None = None) -> Path:
    """The folder holding ``MLmodel``: ``$AZUREML_MODEL_DIR/$MLFLOW_MODEL_FOLDER`` as Azure
    sets them, else the model dir itself, else its one subfolder with an MLmodel file."""
    root = Path(model_dir)
    candidates = [root / folder] if folder else []
    candidates += [root, *sorted(p.parent for p in root.glob("*/MLmodel"))]
    for candidate in candidates:
        if (candidate / "MLmodel").is_file():
            # Resolved: the process engine shows the model through a symlink, and flavours
            # refuse data files whose real path is outside the folder they were given.
            return candidate.resolve()
    raise ModelLoadError(f"{root / (folder or '')}/MLmodel does not exist, so there is no "
                         "MLflow model to serve; point the model path at the folder that "
                         "mlflow.<flavor>.save_model wrote")


class MlflowScorer:
    """A loaded pyfunc model and the two request protocols in front of it."""

    def __init__(self, model: Any, path: Path) -> None:
        self.model = model
        self.path = path
        self.signature = model.metadata.signature
        self.input_schema = model.metadata.get_input_schema()

    @classmethod
    def load(cls, path: Path) -> MlflowScorer:
        try:
            import mlflow.pyfunc
        except ImportError as exc:
            raise ModelLoadError(f"{path}/MLmodel cannot be loaded: this environment has no "
                                 f"mlflow ({exc}); add mlflow-skinny to the environment's "
                                 "packages") from exc
        try:
            model = mlflow.pyfunc.load_model(str(path))
        except Exception as exc:  # a flavour's loader may raise anything
            raise ModelLoadError(f"{path}/MLmodel failed to load with mlflow.pyfunc.load_model "
                                 f"({type(exc).__name__}: {exc}); install the flavour's "
                                 "packages in the model's conda.yaml or save the model again "
                                 "with the mlflow and library versions you serve it with"
                                 ) from exc
        return cls(model, path)

    @classmethod
    def from_environ(cls) -> MlflowScorer:
        model_dir = os.environ.get("AZUREML_MODEL_DIR", "")
        return cls.load(model_path(model_dir, os.environ.get("MLFLOW_MODEL_FOLDER")))

    # -- one request --------------------------------------------------------------------

    def answer(self, content_type: str, body: bytes | dict[str, Any]) -> Answer:
        """Score one request: a JSON body (bytes), or the parsed GET query (a dict)."""
        if isinstance(body, dict):
            payload: Any = body
        else:
            mime = content_type.split(";", 1)[0].strip().lower()
            if mime != JSON_TYPE and not (mime.startswith("application/")
                                          and mime.endswith("+json")):
                return Answer(415, {"message": NOT_JSON})
            payload = _json_object(body)
            if isinstance(payload, Answer):
                return payload
        if MLFLOW_KEYS.intersection(payload) and "input_data" not in payload:
            return self._mlflow_protocol(payload)
        if "input_data" not in payload:
            return Answer(400, {"message": NO_INPUT})
        return self._azure_protocol(payload["input_data"], payload.get("params"))

    def _azure_protocol(self, input_data: Any, params: Any) -> Answer:
        from mlflow.exceptions import MlflowException
        from mlflow.utils.proto_json_utils import _get_jsonable_obj

        if params is not None and not isinstance(params, dict):
            return Answer(400, {"message": "'params' must be a JSON object of parameter "
                                           "names and values."})
        try:
            data = self._input(input_data)
            predictions = self._predict(data, params)
        except MlflowException as exc:
            if exc.get_http_status_code() >= 500:
                raise
            return Answer(400, {"message": exc.message})
        return Answer(200, _get_jsonable_obj(predictions, pandas_orient="records"))

    def _input(self, input_data: Any) -> Any:
        """Azure's three shapes: split-orientation frame, named tensors, one tensor."""
        import numpy as np
        from mlflow.utils.proto_json_utils import dataframe_from_parsed_json

        if isinstance(input_data, dict) and "data" in input_data \
                and set(input_data) <= SPLIT_KEYS:
            return dataframe_from_parsed_json(input_data, pandas_orient="split",
                                              schema=self.input_schema)
        if isinstance(input_data, dict):
            return {name: np.asarray(value) for name, value in input_data.items()}
        if isinstance(input_data, list):
            return np.asarray(input_data)
        return input_data

    def _predict(self, data: Any, params: dict[str, Any] | None) -> Any:
        if params is None:
            return self.model.predict(data)
        return self.model.predict(data, params=params)

    def _mlflow_protocol(self, payload: dict[str, Any]) -> Answer:
        from mlflow.exceptions import MlflowException
        from mlflow.pyfunc import scoring_server

        try:
            response = scoring_server.invocations(json.dumps(payload), JSON_TYPE, self.model,
                                                  self.input_schema)
        except MlflowException as exc:
            if exc.get_http_status_code() >= 500:
                raise
            return Answer(exc.get_http_status_code(), json.loads(exc.serialize_as_json()))
        return Answer(response.status, json.loads(response.response))


def _json_object(body: bytes) -> dict[str, Any] | Answer:
    """The body as a JSON object, or the 400 answer inference-schema gives (same words)."""
    if not body:
        return Answer(400, {"message": "POST body is empty. Expecting a JSON dictionary."})
    try:
        payload = json.loads(body)
    except ValueError as exc:
        return Answer(400, {"message": f"POST body could not be decoded as JSON: {exc}"})
    if not isinstance(payload, dict):
        return Answer(400, {"message": "POST body should be a JSON dictionary."})
    return payload
