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
bench built are removed at the end (the shared image, ``devkit-shared:*``, stays: like the
base image it is what other environments build on).

The smoke import is skipped for a wheel set that passed it before on the same shared image
(:mod:`devkit.images.smoke`): *new* rebuilds a set the warm-up checked (an environment
built before whose image was removed), so it skips the import where this code has that
record; *+ six* is a set no environment had, so the warm-up's record of it is deleted
before the timed cycles and the import runs, as it would for a user (the records are a
cache: the bench deletes them all when it starts).

    .venv/bin/python bench/cold_env.py [--installer pip --installer uv] [--anchor CHECKOUT]
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
_STEP = re.compile(r"\[\d+/\d+\] (?!done in|\d+ s )")
_PHASE = re.compile(r"^building devkit-env|^built devkit-env")
_INIT = re.compile(r"init\(\) done in ([\d.]+) ms")
CACHE = Path(os.environ.get("DEVKIT_CACHE_DIR") or Path.home() / ".cache" / "devkit")


@dataclass
class Run:
    seconds: float
    lines: list[tuple[float, str]] = field(default_factory=list)
    init: list[float] = field(default_factory=list)  # ms, each replica's init()

    def tags(self) -> set[str]:
        return {m.group(1) for _, line in self.lines if (m := _BUILT.search(line))}

    def steps(self) -> list[tuple[str, float]]:
        """(phase, seconds), adding up to the whole `up`: before the build, resolving the
        wheelhouse set and sending the context (until step 1 starts), each Dockerfile step,
        then start + readiness."""
        marks = [(t, line.strip()) for t, line in self.lines
                 if _STEP.search(line) or _PHASE.search(line)]
        if not marks:
            return [("up (no build)", self.seconds)]
        phases = [("before the build (CLI, spec, hash)", marks[0][0])]
        for (start, label), (end, _) in zip(marks, marks[1:], strict=False):
            if _STEP.search(label):
                phases.append((label.split("] ", 1)[-1][:60], end - start))
            elif label.startswith("building devkit-env"):
                phases.append(("resolve wheelhouse set, probe base, send context", end - start))
        phases.append(("start + readiness (2 replicas + router)", self.seconds - marks[-1][0]))
        return phases


def recipe(run: Run) -> str:
    """Which install recipe built the run's image (a check that the anchor ran its code)."""
    for tag in run.tags():
        text = (CACHE / "logs" / f"build-{tag.replace(':', '-')}.log").read_text(
            errors="replace")
        found = ("shared layer by compileall" if "compileall" in text
                 else "uv --compile-bytecode" if "--compile-bytecode" in text else "pip")
        if "FROM devkit-shared:" in text:
            found += ", FROM the shared image"
        smoke = "smoke import run" if "devkit_runtime.envcheck" in text else "smoke import skipped"
        return f"{found}; {smoke}"
    return "no build"


def init_ms(name: str) -> list[float]:
    """init() times the replicas of endpoint ``name`` logged (the runtime's own line)."""
    found = []
    for deployment in ("blue", "green"):
        logs = subprocess.run(["docker", "logs", f"devkit-{name}-{deployment}-0"],
                              capture_output=True, text=True).stdout
        found += [float(m.group(1)) for m in _INIT.finditer(logs)]
    return found


def devkit(env: dict[str, str], *args: str) -> Run:
    start = time.perf_counter()
    # cwd: `python -m` puts it first on sys.path, so it decides which devkit runs
    proc = subprocess.Popen([sys.executable, "-m", "devkit.cli.main", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=env.get("DEVKIT_BENCH_CODE", str(REPO)))
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
    # A comment no longer changes the environment hash (it covers the parsed requirements),
    # so the uniqueness is an always-true marker on a real requirement: the hash, the
    # wheelhouse set and the last layer are this copy's own; the packages are the same.
    conda = folder / "environment" / "conda.yml"
    conda.write_text(conda.read_text().replace(
        "      - joblib\n", f"      - joblib; platform_release != 'bench-{uuid.uuid4().hex}'\n"))
    return folder


def add_package(folder: Path) -> None:
    conda = folder / "environment" / "conda.yml"
    text = conda.read_text()
    joblib = next(line for line in text.splitlines(keepends=True) if "- joblib" in line)
    conda.write_text(text.replace(joblib, f"{joblib}      - {SMALL_PACKAGE}\n"))


def smoke_records() -> set[Path]:
    """The smoke-import records this checkout's devkit keeps (devkit.images.smoke)."""
    folder = CACHE / "smoke-checked"
    return set(folder.iterdir()) if folder.is_dir() else set()


def remove_images(tags: set[str]) -> None:
    for tag in tags:
        subprocess.run(["docker", "rmi", tag], capture_output=True)


def cycle(env: dict[str, str], root: Path, installer: str,
          code: Path | None = None, forget_added: bool = False) -> tuple[Run, Run]:
    """(new, added) for one installer, on this checkout's devkit or on ``code`` (another
    checkout: the anchor); its images are removed afterwards, and with ``forget_added``
    the smoke record the *added* build wrote."""
    env = {**env, "DEVKIT_INSTALLER": installer}
    if code is not None:
        env["PYTHONPATH"] = f"{code}{os.pathsep}{code / 'runtime'}"
        env["DEVKIT_BENCH_CODE"] = str(code)
    name = f"cold-{installer}-{uuid.uuid4().hex[:4]}"
    folder = copy_sample(root, name)
    runs: list[Run] = []
    try:
        for change in (None, add_package):
            if change is not None:
                change(folder)
                before = smoke_records()
            runs.append(devkit(env, "up", str(folder), "--engine", "docker", "--no-watch"))
            runs[-1].init = init_ms(name)
            devkit(env, "down", name)
        if forget_added:
            for record in smoke_records() - before:
                record.unlink()
    finally:
        subprocess.run([sys.executable, "-m", "devkit.cli.main", "down", name], env=env,
                       capture_output=True, cwd=env.get("DEVKIT_BENCH_CODE", str(REPO)))
        remove_images(set().union(*(r.tags() for r in runs)))
    return runs[0], runs[1]


def report(installer: str, new: Run, added: Run) -> None:
    for label, run in (("new environment", new), (f"+ {SMALL_PACKAGE}", added)):
        print(f"\n{installer} — {label}: {run.seconds:.2f} s")
        for phase, seconds in run.steps():
            print(f"    {seconds:6.2f} s  {phase}")
        inits = ", ".join(f"{ms / 1000:.2f} s" for ms in run.init) or "not logged"
        print(f"    (of which init() in the replicas, concurrently: {inits})")
        print(f"    recipe in the build log: {recipe(run)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--installer", action="append", choices=["pip", "uv"])
    parser.add_argument("--anchor", type=Path, default=None,
                        help="another devkit checkout (e.g. `git archive main` unpacked): "
                             "its uv cycle runs before this checkout's, in the same run")
    args = parser.parse_args()
    installers = args.installer or ["pip", "uv"]
    print(f"load average {os.getloadavg()[0]:.1f} at the start", flush=True)
    with tempfile.TemporaryDirectory(prefix="devkit-bench-") as tmp:
        env = {**os.environ, "DEVKIT_STATE_DIR": str(Path(tmp) / "state")}
        # warm-up: both requirement sets resolved, uv unpacked, the shared image built;
        # only the first set keeps a smoke record (see the module's docstring)
        for record in smoke_records():
            record.unlink()
        cycle(env, Path(tmp), "uv", forget_added=True)
        results: dict[str, tuple[Run, Run]] = {}
        if args.anchor is not None:
            results["uv (anchor)"] = cycle(env, Path(tmp), "uv", args.anchor.resolve())
        for installer in installers:
            results[installer] = cycle(env, Path(tmp), installer)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    for installer, (new, added) in results.items():
        report(installer, new, added)
    print("\n| installer | new environment s | + one small package s |")
    print("|---|---:|---:|")
    for installer, (new, added) in results.items():
        print(f"| {installer} | {new.seconds:.2f} | {added.seconds:.2f} |")
    for other in ("pip", "uv (anchor)"):
        if other in results and "uv" in results:
            old, uv = results[other], results["uv"]
            print(f"| ratio {other} / uv | {old[0].seconds / uv[0].seconds:.2f}× | "
                  f"{old[1].seconds / uv[1].seconds:.2f}× |")


if __name__ == "__main__":
    main()
