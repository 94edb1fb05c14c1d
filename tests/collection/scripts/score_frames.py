"""Collects DataFrames as Azure's docs show, a custom collection with its own correlation
id, and a collection the deployment does not enable."""

import json

import pandas as pd
from azureml.ai.monitoring import Collector
from azureml.ai.monitoring.context import BasicCorrelationContext


def init():
    global inputs, outputs, custom, disabled
    inputs = Collector(name="model_inputs", on_error=lambda e: print("collect failed", e))
    outputs = Collector(name="model_outputs")
    custom = Collector(name="audit")
    disabled = Collector(name="not_enabled")


def run(data):
    frame = pd.DataFrame(json.loads(data)["rows"])
    context = inputs.collect(frame)
    result = frame.assign(total=frame.sum(axis=1))[["total"]]
    outputs.collect(result, context)
    custom.collect({"note": "audited"}, BasicCorrelationContext(id="audit-" + context.get_id()))
    disabled.collect({"never": "written"})
    return {"totals": result["total"].tolist(), "id": context.get_id()}
