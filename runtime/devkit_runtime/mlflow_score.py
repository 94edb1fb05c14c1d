"""The scoring script of a no-code MLflow deployment, shipped inside the runtime.

Azure generates a score.py for an ``mlflow_model`` deployment without code; devkit instead
loads this module like any user script (``DEVKIT_SCORER=mlflow``, see :mod:`config`), so
the server, reload, timeouts and logs behave exactly as for a score.py, and there is no
generated file for anyone to maintain. It is a ``@rawhttp`` script because the answers'
status codes and bodies are the protocol's (:mod:`mlflow_scoring`), not run()'s JSON.
"""

from __future__ import annotations

import json
from typing import Any

from devkit_runtime.amlrequest import rawhttp
from devkit_runtime.amlresponse import AMLResponse
from devkit_runtime.mlflow_scoring import MlflowScorer
from devkit_runtime.mlflow_swagger import signature_schemas
from devkit_runtime.swagger import SCHEMAS_ATTR

scorer: MlflowScorer | None = None


def init() -> None:
    global scorer
    scorer = MlflowScorer.from_environ()
    print(f"MLflow model loaded from {scorer.path} "
          f"(signature: {'yes' if scorer.signature is not None else 'none'})")


@rawhttp
def run(request: Any) -> AMLResponse:
    assert scorer is not None, "init() has not run"
    if request.method == "GET":
        body: bytes | dict[str, Any] = {name: _maybe_json(value)
                                        for name, value in request.args.items()}
    else:
        body = request.get_data()
    answer = scorer.answer(request.headers.get("Content-Type", ""), body)
    from mlflow.utils.proto_json_utils import NumpyEncoder

    text = json.dumps(answer.body, cls=NumpyEncoder)
    return AMLResponse(text, answer.status, {"Content-Type": "application/json"})


def _schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    return signature_schemas(scorer.signature if scorer is not None else None)


def _maybe_json(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


setattr(run, SCHEMAS_ATTR, _schemas)  # swagger.json is generated from the signature
