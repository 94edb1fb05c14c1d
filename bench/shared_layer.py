"""The environment image's shared layer, built cold: uv's --compile-bytecode vs compileall.

The layer a new environment pays for when no other environment has the same big wheels:
``uv venv`` + numpy, scipy and scikit-learn installed ``--no-deps`` from the wheelhouse, with
bytecode. Variant *uv*: ``uv pip install --compile-bytecode`` (every file, the recipe before
issue 17); variant *compileall*: no compile in uv, then ``python -m compileall -q -j0 -x
'/tests?/'`` (the packages' test suites skipped; this recipe). Each round builds both with
``docker build --no-cache`` (the classic builder, as devkit's), alternating which goes first;
the image is removed after each build. The times include the layer commit.

    .venv/bin/python bench/shared_layer.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from devkit.images.installer import SHARED_BYTES, UV_IN_IMAGE, uv_binary
from devkit.images.wheelhouse import Target, wheelhouse_root

BASE = "devkit/base:bookworm"
TARGET = Target(python="3.11", glibc="2.36")
WANTED = ("numpy-2.4.6-", "scipy-1.17.1-", "scikit_learn-1.9.1-")
VENV = "/opt/devkit/venv"
INSTALL = (f"RUN {UV_IN_IMAGE} venv --quiet --system-site-packages --python "
           f'"$(command -v python3)" {VENV} \\\n && {UV_IN_IMAGE} pip install --python '
           f"{VENV}/bin/python --offline --no-index --no-deps --no-cache {{compile}} "
           "{wheels}")
VARIANTS = {
    "uv --compile-bytecode": INSTALL.replace("{compile}", "--compile-bytecode"),
    "compileall, no tests": INSTALL.replace("{compile}", "") + (
        f" \\\n && ({VENV}/bin/python -m compileall -q -j0 -x '/tests?/' "
        f"{VENV}/lib/python3*/site-packages || true)"),
}


def context(root: Path) -> tuple[Path, str]:
    folder = root / "context"
    (folder / "shared").mkdir(parents=True)
    shutil.copy2(uv_binary(TARGET, lambda _line: None), folder / "uv")
    house = wheelhouse_root() / TARGET.key
    names = []
    for prefix in WANTED:
        [wheel] = [w for w in house.glob(f"{prefix}*.whl")]
        assert wheel.stat().st_size >= SHARED_BYTES
        os.link(wheel, folder / "shared" / wheel.name)
        names.append(f"/opt/devkit/shared/{wheel.name}")
    return folder, " ".join(names)


def build(folder: Path, wheels: str, install: str) -> float:
    (folder / "Dockerfile").write_text(
        f"FROM {BASE}\nCOPY uv {UV_IN_IMAGE}\nCOPY shared /opt/devkit/shared\n"
        + install.format(wheels=wheels) + "\n")
    tag = "devkit-bench-shared:latest"
    start = time.perf_counter()
    subprocess.run(["docker", "build", "--no-cache", "-q", "-t", tag, str(folder)],
                   check=True, capture_output=True, env={**os.environ, "DOCKER_BUILDKIT": "0"})
    took = time.perf_counter() - start
    subprocess.run(["docker", "rmi", tag], capture_output=True)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        folder, wheels = context(Path(tmp))
        for round_ in range(args.rounds):
            order = list(VARIANTS) if round_ % 2 == 0 else list(reversed(VARIANTS))
            for name in order:
                load = os.getloadavg()[0]
                times[name].append(build(folder, wheels, VARIANTS[name]))
                print(f"round {round_ + 1}: {name}: {times[name][-1]:.1f} s "
                      f"(load {load:.1f})", flush=True)
    old = statistics.median(times["uv --compile-bytecode"])
    print("\n| shared layer | median s | ratio uv / this |\n|---|---:|---:|")
    for name, values in times.items():
        print(f"| {name} | {statistics.median(values):.1f} | "
              f"{old / statistics.median(values):.2f}x |")


if __name__ == "__main__":
    main()
