"""`devkit up` → all deployments ready, with images (docker) or venvs (process) cached.

For each engine: one warm-up `up` + `down` fills the caches, then N timed runs of the
real CLI (`python -m devkit.cli.main up FOLDER --engine E`, a fresh process each time, so
interpreter and import time are counted), each followed by an untimed `down`. The sample
is a copy of samples/regression (blue + green) under a unique endpoint name, with its
state in a temporary folder. Prints the median, min and max per engine.

    .venv/bin/python bench/up_cached.py --runs 5 [--engine docker --engine process]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "regression"


def devkit(env: dict[str, str], *args: str) -> float:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "devkit.cli.main", *args], env=env,
                            capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"devkit {' '.join(args)} failed:\n{result.stderr}")
    return elapsed


def copy_sample(root: Path, name: str) -> Path:
    folder = root / name
    shutil.copytree(SAMPLE, folder)
    for spec in folder.glob("*.yml"):
        spec.write_text(spec.read_text().replace("regression\n", f"{name}\n"))
    return folder


def bench_engine(engine: str, runs: int, root: Path) -> list[float]:
    env = {**os.environ, "DEVKIT_STATE_DIR": str(root / f"state-{engine}")}
    name = f"bench-{engine[:4]}-{uuid.uuid4().hex[:4]}"
    folder = copy_sample(root, name)
    devkit(env, "up", str(folder), "--engine", engine)  # warm-up: builds what is missing
    devkit(env, "down", name)
    times = []
    try:
        for _ in range(runs):
            times.append(devkit(env, "up", str(folder), "--engine", engine))
            devkit(env, "down", name)
    finally:
        subprocess.run([sys.executable, "-m", "devkit.cli.main", "down", name], env=env,
                       capture_output=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--engine", action="append", choices=["docker", "process"])
    args = parser.parse_args()
    engines = args.engine or ["docker", "process"]
    with tempfile.TemporaryDirectory(prefix="devkit-bench-") as tmp:
        print("| engine | runs | median s | min s | max s |")
        print("|---|---:|---:|---:|---:|")
        for engine in engines:
            times = bench_engine(engine, args.runs, Path(tmp))
            print(f"| {engine} | {len(times)} | {statistics.median(times):.2f} | "
                  f"{min(times):.2f} | {max(times):.2f} |", flush=True)


if __name__ == "__main__":
    main()
