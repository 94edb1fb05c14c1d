"""Cold path of the process engine: a new venv for samples/regression, pip vs uv, same run.

Each round makes the venv of samples/regression's environment (numpy, scipy,
scikit-learn, joblib, plus devkit's runtime and its extras) from nothing, through
:func:`devkit.engines.process.venv.ensure_venv` as `devkit up --engine process` does, once
with ``DEVKIT_INSTALLER=pip`` (ensurepip + pip install) and once with uv, alternating. Each
round gets a fresh ``DEVKIT_CACHE_DIR`` whose wheelhouse, runtime wheel and uv binary are
links to the real cache's (the wheelhouse is warm: resolving downloads nothing), so the
venv and uv's own cache start empty; a second uv venv in the same cache (``uv, linked``)
shows what a package shared with an earlier environment costs. The smoke import is part of
each time, as it is part of `up`.

    .venv/bin/python bench/venv_cold.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "regression"
SHARED = ("wheelhouse", "runtime", "uv")
CHILD = """
import sys, time
from pathlib import Path
from devkit.engines.process.venv import ensure_venv
from devkit.spec import load
endpoint = load([Path(sys.argv[1])])
start = time.perf_counter()
ensure_venv(endpoint.deployments[0], lambda line: None)
print(f"{time.perf_counter() - start:.3f}")
"""


def real_cache() -> Path:
    return Path(os.environ.get("DEVKIT_CACHE_DIR") or Path.home() / ".cache" / "devkit")


def fresh_cache(root: Path) -> Path:
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=root))
    for name in SHARED:
        (real_cache() / name).mkdir(parents=True, exist_ok=True)
        (cache / name).symlink_to(real_cache() / name)
    return cache


def timed(cache: Path, installer: str) -> float:
    env = {**os.environ, "DEVKIT_CACHE_DIR": str(cache), "DEVKIT_INSTALLER": installer}
    done = subprocess.run([sys.executable, "-c", CHILD, str(SAMPLE)], env=env,
                          capture_output=True, text=True, check=False, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"{installer} venv failed:\n{done.stdout}{done.stderr}")
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"pip": [], "uv": [], "uv, linked": []}
    with tempfile.TemporaryDirectory(prefix="devkit-venv-bench-") as tmp:
        timed(fresh_cache(Path(tmp)), "uv")  # warm-up: wheelhouse sets, runtime wheel, uv
        for round_ in range(1, args.rounds + 1):
            load = os.getloadavg()[0]
            times["pip"].append(timed(fresh_cache(Path(tmp)), "pip"))
            cache = fresh_cache(Path(tmp))
            times["uv"].append(timed(cache, "uv"))
            for venv in (cache / "venvs").iterdir():  # same cache, uv's cache warm
                subprocess.run(["rm", "-rf", str(venv)], check=True)
            times["uv, linked"].append(timed(cache, "uv"))
            print(f"round {round_} (load {load:.1f}→{os.getloadavg()[0]:.1f}): "
                  + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
    pip = statistics.median(times["pip"])
    print("\n| venv | median s | ratio pip / this |\n|---|---:|---:|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.2f} | {pip / median:.1f}x |")


if __name__ == "__main__":
    main()
