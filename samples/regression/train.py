"""Train the two model versions of the regression sample, deterministically.

v1 (deployment ``blue``): ordinary least squares on all ten features of scikit-learn's
bundled diabetes data set. v2 (deployment ``green``): ridge regression (alpha=0.1), the
"retrained with regularisation" candidate, so blue and green answer visibly differently.
Both fits are closed-form, so re-running this script reproduces the same models.

Run from anywhere: ``.venv/bin/python samples/regression/train.py``.
"""

from __future__ import annotations

from pathlib import Path

import joblib
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression, Ridge

HERE = Path(__file__).resolve().parent


def main() -> None:
    features, target = load_diabetes(return_X_y=True)
    models = {"model-1": LinearRegression(), "model-2": Ridge(alpha=0.1)}
    for folder, model in models.items():
        model.fit(features, target)
        out = HERE / folder / "model" / "model.pkl"
        out.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(model, out)
        score = model.score(features, target)
        print(f"{folder}: {type(model).__name__} R^2={score:.3f} -> {out.relative_to(HERE)} "
              f"({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
