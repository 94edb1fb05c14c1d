"""Save the tiny MLflow models the tests serve, with MLflow itself (run as a subprocess).

``python make_models.py OUT`` writes, under OUT:

* ``sklearn-signature``: a LinearRegression (a + b) on columns a, b with an inferred
  signature;
* ``sklearn-plain``: the same regression saved without any signature;
* ``lightgbm``: a two-tree LightGBM Booster on a, b, with a signature.

Run apart from pytest because importing mlflow emits warnings pytest turns into errors,
and because a model file should come from the same mlflow a user would run.
"""

from __future__ import annotations

import sys
from importlib.metadata import version
from pathlib import Path

import lightgbm
import mlflow.lightgbm
import mlflow.pyfunc
import mlflow.sklearn
import numpy as np
import pandas as pd
from mlflow.models import infer_signature
from sklearn.linear_model import LinearRegression

FRAME = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0.0, 1.0, 0.0, 1.0]})
TARGET = np.array([1.0, 3.0, 3.0, 5.0])  # = a + b


def pinned(*names: str) -> list[str]:
    """Requirements as mlflow would infer them (this environment's versions), given up
    front: inferring them loads each model in a subprocess, 10 s a model."""
    # mlflow writes its own pin as `mlflow==V` whichever of mlflow / mlflow-skinny is installed
    return [f"mlflow=={mlflow.__version__}",
            *(f"{name}=={version(name)}" for name in ("cloudpickle", "pandas", *names))]


def main(out: Path) -> None:
    regression = LinearRegression().fit(FRAME, TARGET)
    signature = infer_signature(FRAME, regression.predict(FRAME))
    sklearn = pinned("scikit-learn")
    mlflow.sklearn.save_model(regression, str(out / "sklearn-signature"), signature=signature,
                              serialization_format="cloudpickle", pip_requirements=sklearn)
    mlflow.sklearn.save_model(regression, str(out / "sklearn-plain"),
                              serialization_format="cloudpickle", pip_requirements=sklearn)
    booster = lightgbm.train({"objective": "regression", "verbose": -1, "min_data_in_leaf": 1,
                              "min_data_in_bin": 1}, lightgbm.Dataset(FRAME, TARGET),
                             num_boost_round=2)
    mlflow.lightgbm.save_model(booster, str(out / "lightgbm"),
                               signature=infer_signature(FRAME, booster.predict(FRAME)),
                               pip_requirements=pinned("lightgbm", "scikit-learn"))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
