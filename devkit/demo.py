"""``make demo``: the main job, end to end, with the commands a user would type.

Brings up ``samples/regression`` (blue and green behind one router) on Docker when an
engine answers — building devkit's base image first if this machine has none — or on the
process engine otherwise; invokes it; shows its status; and, on a terminal, opens the TUI.
Each step prints the ``devkit`` command it runs, so the demo doubles as a tutorial.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "regression"
DEVKIT = str(Path(sys.executable).with_name("devkit"))


def step(*args: str) -> None:
    """Run one ``devkit`` command visibly; stop the demo when it fails."""
    print(f"\n$ devkit {shlex.join(args)}", flush=True)
    done = subprocess.run([DEVKIT, *args], cwd=REPO, check=False)
    if done.returncode != 0:
        sys.exit(f"demo stopped: `devkit {shlex.join(args)}` exited with {done.returncode}")


def choose_engine() -> str:
    """docker when an engine answers (with the base image built if missing), else process."""
    from devkit.engines import get_engine

    engine = get_engine(None, progress=lambda line: print(line, flush=True))
    if base_image_present() is False:  # None: no Docker engine, nothing to build
        print("devkit's base image is missing; building it from Debian packages (~1 min).")
        step("base-image")
    return engine.name


def base_image_present() -> bool | None:
    """Whether the local Docker engine has (or can pull) devkit's base image; None when no
    engine answers (the process engine needs no image)."""
    from devkit.engines.docker.client import DockerClient
    from devkit.errors import EngineUnavailable, ImageBuildError
    from devkit.images.base import ensure_base_image

    try:
        client = DockerClient.connect()
    except EngineUnavailable:
        return None
    try:
        ensure_base_image(client.raw)
    except ImageBuildError:
        return False
    finally:
        client.close()
    return True


def main() -> None:
    engine = choose_engine()
    relative = SAMPLE.relative_to(REPO)
    step("up", str(relative), "--engine", engine)
    step("invoke", "regression", "--request-file", str(relative / "sample-request.json"))
    step("invoke", "regression", "--request-file", str(relative / "sample-request.json"),
         "--deployment", "green")
    step("status")
    if sys.stdin.isatty() and sys.stdout.isatty():
        print("\nOpening the terminal UI (q quits; the endpoint keeps serving).", flush=True)
        step()
    else:
        print("\nNot on a terminal: run `.venv/bin/devkit` to open the TUI.")
    print("When you are done: .venv/bin/devkit down regression")


if __name__ == "__main__":
    main()
