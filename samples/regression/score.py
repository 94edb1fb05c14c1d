"""Scoring script of the regression sample: an unmodified Azure ML ``score.py``.

``init()`` loads the scikit-learn model once per worker from ``AZUREML_MODEL_DIR``, which
holds the deployment's model folder under its own name, as Azure lays it out
(``model-1/model`` for blue, ``model-2/model`` for green, both seen as ``model/``);
``run()`` receives the raw request body as a string, as Azure's server passes it.
"""

import json
import os

import joblib
import numpy as np

model = None


def init():
    global model
    model_path = os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "model.pkl")
    model = joblib.load(model_path)
    print(f"regression: loaded {type(model).__name__} from {model_path}")


def run(raw_data):
    rows = np.array(json.loads(raw_data)["data"], dtype=float)
    predictions = model.predict(rows)
    print(f"regression: scored {len(rows)} rows")
    return predictions.tolist()
