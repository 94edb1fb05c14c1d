"""Regenerate ``docs/tui.svg``: the TUI on a live ``samples/regression`` with some traffic.

    .venv/bin/python docs/screenshot.py [--engine docker|process]

Brings the sample up in a throwaway state folder, sends requests through its router so
the metrics and sparklines have something to show, drives the real app with Textual's
pilot (as the tests do), saves the screen as SVG, and takes the endpoint down again.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "regression"
OUT = REPO / "docs" / "tui.svg"


def send_traffic(scoring_uri: str, key: str, seconds: float = 4.0) -> None:
    body = (SAMPLE / "sample-request.json").read_bytes()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    deadline = time.monotonic() + seconds
    with httpx.Client(timeout=10) as client:
        while time.monotonic() < deadline:
            client.post(scoring_uri, content=body, headers=headers)


async def capture(engine: str) -> None:
    from devkit.engines import RunSettings, get_engine, no_progress
    from devkit.router import keys
    from devkit.spec import load
    from devkit.tui import create_app

    endpoint = load([SAMPLE])
    runner = get_engine(engine)
    status = runner.up(endpoint, RunSettings(), no_progress)
    try:
        assert status.scoring_uri is not None
        app = create_app([SAMPLE], engines=[engine], poll_s=1.0)
        async with app.run_test(size=(120, 36)) as pilot:
            primary = keys.load_or_create_keys(endpoint.name).primary
            for _ in range(3):  # a few polls apart, so the sparklines have points
                await asyncio.to_thread(send_traffic, status.scoring_uri, primary, 2.0)
                await pilot.pause(1.2)
            app.save_screenshot(filename=OUT.name, path=str(OUT.parent))
    finally:
        runner.down(endpoint.name)
    print(f"wrote {OUT.relative_to(REPO)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="docker", choices=("docker", "process"),
                        help="docker shows image tags; process would show venv paths")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state:
        os.environ["DEVKIT_STATE_DIR"] = state
        os.chdir(REPO)  # paths shown in the TUI relative to the repository
        asyncio.run(capture(args.engine))


if __name__ == "__main__":
    main()
