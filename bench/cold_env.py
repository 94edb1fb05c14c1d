"""Cold path: a new environment, then one small package added, `devkit up` → ready.

For each installer (``pip``: the previous two-stage build, selected with
``DEVKIT_INSTALLER=pip``; ``uv``: today's layered build), in the same run:

1. *new*: a copy of samples/regression under a unique name whose conda file carries a unique
   comment (so its environment hash, and image, are its own), no image for it, `up` timed;
2. *added*: ``six`` appended to that conda file, `up` timed again (the previous image's
   layers exist, as after a user's earlier `up`).

Each `up` is the real CLI in a fresh process (`python -m devkit.cli.main up FOLDER
--engine docker`), followed by an untimed `down`. The wheelhouse is warmed first for both
requirement sets (one untimed `up` each, whose images are removed), so the timings hold no
download. Every output line is time-stamped, so the report gives the seconds of each
Dockerfile step and the time before the build and after it (start + readiness). Images the
bench built are removed at the end.

    .venv/bin/python bench/cold_env.py [--installer pip --installer uv]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "regression"
SMALL_PACKAGE = "six"
_BUILT = re.compile(r"building (devkit-env:[0-9a-f]{16})")
# devkit's progress display: "[3/12] RUN ..." when a step starts ("[3/12] done in" ends it).
_STEP = re.compile(r"\[\d+/\d+\] (?!done in)")


@dataclass
class Run:
    seconds: float
    lines: list[tuple[float, str]] = field(default_factory=list)

    def tags(self) -> set[str]:
        return {m.group(1) for _, line in self.lines if (m := _BUILT.search(line))}

    def steps(self) -> list[tuple[str, float]]:
        """(phase, seconds): before the build, each Dockerfile step, after the build."""
        marks = [(t, line.strip()) for t, line in self.lines
                 if _STEP.search(line) or re.search(r"building devkit-env|built devkit-env",
                                                    line)]
        if not marks:
            return [("up (no build)", self.seconds)]
        phases = [("before the build", marks[0][0])]
        for (start, label), (end, _) in zip(marks, marks[1:], strict=False):
            if _STEP.search(label):
                phases.append((label.split("] ", 1)[-1][:60], end - start))
        phases.append(("start + readiness", self.seconds - marks[-1][0]))
        return phases


def devkit(env: dict[str, str], *args: str) -> Run:
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "devkit.cli.main", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    lines = [(time.perf_counter() - start, line) for line in proc.stdout]
    proc.wait(timeout=900)
    run = Run(time.perf_counter() - start, lines)
    if proc.returncode != 0:
        raise SystemExit(f"devkit {' '.join(args)} failed:\n" + "".join(text for _, text in lines))
    return run


def copy_sample(root: Path, name: str) -> Path:
    folder = root / name
    shutil.copytree(SAMPLE, folder)
    for spec in folder.glob("*.yml"):
        spec.write_text(spec.read_text().replace("regression\n", f"{name}\n"))
    conda = folder / "environment" / "conda.yml"
    conda.write_text(conda.read_text() + f"# bench {uuid.uuid4().hex}\n")
    return folder


def add_package(folder: Path) -> None:
    conda = folder / "environment" / "conda.yml"
    conda.write_text(conda.read_text().replace("      - joblib\n",
                                               f"      - joblib\n      - {SMALL_PACKAGE}\n"))


def remove_images(tags: set[str]) -> None:
    for tag in tags:
        subprocess.run(["docker", "rmi", tag], capture_output=True)


def cycle(env: dict[str, str], root: Path, installer: str) -> tuple[Run, Run]:
    """(new, added) for one installer; its images are removed afterwards."""
    env = {**env, "DEVKIT_INSTALLER": installer}
    name = f"cold-{installer}-{uuid.uuid4().hex[:4]}"
    folder = copy_sample(root, name)
    runs: list[Run] = []
    try:
        runs.append(devkit(env, "up", str(folder), "--engine", "docker", "--no-watch"))
        devkit(env, "down", name)
        add_package(folder)
        runs.append(devkit(env, "up", str(folder), "--engine", "docker", "--no-watch"))
    finally:
        subprocess.run([sys.executable, "-m", "devkit.cli.main", "down", name], env=env,
                       capture_output=True)
        remove_images(set().union(*(r.tags() for r in runs)))
    return runs[0], runs[1]


def report(installer: str, new: Run, added: Run) -> None:
    for label, run in (("new environment", new), (f"+ {SMALL_PACKAGE}", added)):
        print(f"\n{installer} — {label}: {run.seconds:.2f} s")
        for phase, seconds in run.steps():
            print(f"    {seconds:6.2f} s  {phase}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--installer", action="append", choices=["pip", "uv"])
    args = parser.parse_args()
    installers = args.installer or ["pip", "uv"]
    with tempfile.TemporaryDirectory(prefix="devkit-bench-") as tmp:
        env = {**os.environ, "DEVKIT_STATE_DIR": str(Path(tmp) / "state")}
        cycle(env, Path(tmp), "uv")  # warm-up: both requirement sets resolved, uv unpacked
        results = {installer: cycle(env, Path(tmp), installer) for installer in installers}
    for installer, (new, added) in results.items():
        report(installer, new, added)
    print("\n| installer | new environment s | + one small package s |")
    print("|---|---:|---:|")
    for installer, (new, added) in results.items():
        print(f"| {installer} | {new.seconds:.2f} | {added.seconds:.2f} |")
    if {"pip", "uv"} <= results.keys():
        pip, uv = results["pip"], results["uv"]
        print(f"| ratio pip/uv | {pip[0].seconds / uv[0].seconds:.1f}× | "
              f"{pip[1].seconds / uv[1].seconds:.1f}× |")


if __name__ == "__main__":
    main()
