"""No-code MLflow scoring vs the same model behind a hand-written score.py.

Saves the tests' scikit-learn model (tests/mlflow/make_models.py: a LinearRegression with
a signature), then serves it twice with devkit's runtime, 1 worker each, on loopback:
``DEVKIT_SCORER=mlflow`` (the no-code deployment) and a score.py that loads it with
``mlflow.pyfunc.load_model`` and builds the DataFrame itself. Both get the same Azure
request (split orientation, 2 rows). wrk: 1 connection (p50/p99) and 16 (req/s),
alternating the two servers twice.

    .venv/bin/python bench/mlflow_latency.py [--duration 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from router_overhead import _stop, free_port, wait_http, wrk  # noqa: E402

MAKER = Path(__file__).resolve().parents[1] / "tests" / "mlflow" / "make_models.py"
BODY = {"input_data": {"columns": ["a", "b"], "index": [0, 1], "data": [[1.0, 2.0], [3.0, 4.0]]}}
LUA = f"""wrk.method = "POST"
wrk.body = '{json.dumps(BODY)}'
wrk.headers["Content-Type"] = "application/json"
"""
SCORE = '''import json
import os

import mlflow.pyfunc
import pandas as pd


def init():
    global model
    model = mlflow.pyfunc.load_model(os.path.join(os.environ["AZUREML_MODEL_DIR"],
                                                  "sklearn-signature"))


def run(data):
    split = json.loads(data)["input_data"]
    frame = pd.DataFrame(split["data"], columns=split["columns"], index=split.get("index"))
    return model.predict(frame).tolist()
'''


def serve(stack: ExitStack, folder: Path, no_code: bool) -> str:
    port = free_port()
    env = {**os.environ, "SERVER_PORT": str(port), "AZUREML_MODEL_DIR": str(folder / "models")}
    command = [sys.executable, "-m", "devkit_runtime"]
    if no_code:
        env.update(DEVKIT_SCORER="mlflow", MLFLOW_MODEL_FOLDER="sklearn-signature")
    else:
        command += ["--entry_script", str(folder / "score.py")]
    log = stack.enter_context((folder / f"server-{port}.log").open("wb"))
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    stack.callback(_stop, process)
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/-/ready", timeout=60)
    return url


def measure(duration: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        folder = Path(tmp)
        subprocess.run([sys.executable, str(MAKER), str(folder / "models")], check=True,
                       capture_output=True)
        (folder / "score.py").write_text(SCORE)
        (folder / "post.lua").write_text(LUA)
        urls = {"no-code": serve(stack, folder, True), "score.py": serve(stack, folder, False)}
        runs: dict[str, Any] = {}
        for round_ in (1, 2):
            for name, url in urls.items():
                wrk(f"{url}/score", 1, 2, folder / "post.lua")  # warm up
                runs[f"{name} c1 #{round_}"] = wrk(f"{url}/score", 1, duration,
                                                    folder / "post.lua")
                runs[f"{name} c16 #{round_}"] = wrk(f"{url}/score", 16, duration,
                                                     folder / "post.lua")
        return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    runs = measure(args.duration)
    if args.json:
        print(json.dumps({"runs": runs, "load_before": load,
                          "load_after": os.getloadavg()[0]}, indent=2))
        return
    print(f"{'run':<18}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>9}")
    for name, run in runs.items():
        print(f"{name:<18}{run['rps']:>10.0f}{run['p50_ms']:>10.3f}{run['p99_ms']:>10.3f}"
              f"{run['non_2xx']:>9.0f}")
    print(f"load {load:.2f} -> {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
