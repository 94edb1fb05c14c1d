"""Hot reload latency: save of score.py -> first response from the new code.

Brings up a one-deployment copy of ``samples/regression`` with ``devkit up`` on the chosen
engine, keeps a steady client loop sending requests (to count failures during reloads),
then makes N edits of ``score.py`` (each saved the way editors do: temp file + rename)
and measures, per edit, the time until a probe request is answered by the new code.

    .venv/bin/python bench/reload_latency.py --engine process --edits 20
    .venv/bin/python bench/reload_latency.py --engine docker --edits 20

Targets (MISSION.md): p50 < 0.5 s, p95 < 1 s, 0 failed requests under steady load.
Bounded: N edits, one load thread, a 0.3 s pause between edits.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
REQUEST = json.dumps({"data": [[0.0] * 10]})
RETURN = "    return predictions.tolist()"


def devkit(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "devkit.cli.main", *args],
                          capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"devkit {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare(folder: Path) -> str:
    name = f"bench-reload-{uuid.uuid4().hex[:6]}"
    shutil.copytree(ROOT / "samples" / "regression", folder,
                    ignore=shutil.ignore_patterns("__pycache__", "green.yml"))
    (folder / "endpoint.yml").write_text(f"name: {name}\nauth_mode: key\n")
    blue = folder / "blue.yml"
    blue.write_text(blue.read_text().replace("endpoint_name: regression",
                                             f"endpoint_name: {name}"))
    return name


class Load(threading.Thread):
    """One keep-alive client sending requests back to back until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.stopped = threading.Event()
        self.sent = 0
        self.failed: list[str] = []

    def run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self.stopped.is_set():
                try:
                    reply = client.post(self.url, content=REQUEST)
                    if reply.status_code != 200:
                        self.failed.append(f"{reply.status_code} {reply.text[:100]}")
                except httpx.HTTPError as exc:
                    self.failed.append(repr(exc))
                self.sent += 1


def save(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text)
    os.replace(temp, path)


def measure(script: Path, url: str, edits: int) -> list[float]:
    original = script.read_text()
    latencies = []
    with httpx.Client(timeout=30) as probe:
        for edit in range(1, edits + 1):
            marker = f"edit-{edit}"
            save(script, original.replace(RETURN, f"    return {{'marker': {marker!r}}}"))
            saved = time.perf_counter()
            while probe.post(url, content=REQUEST).json() != {"marker": marker}:
                if time.perf_counter() - saved > 30:
                    raise SystemExit(f"{marker} was not served within 30 s")
            latencies.append(time.perf_counter() - saved)
            time.sleep(0.3)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=["docker", "process"], default="process")
    parser.add_argument("--edits", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="devkit-bench-") as scratch:
        folder = Path(scratch) / "regression"
        name = prepare(folder)
        devkit("up", str(folder), "--engine", args.engine)
        try:
            status = json.loads(devkit("status", name, "--json"))[0]
            url = status["deployments"][0]["urls"][0] + "/score"
            load = Load(url)
            load.start()
            latencies = measure(folder / "score.py", url, args.edits)
            load.stopped.set()
            load.join()
        finally:
            devkit("down", name)
    ms = sorted(x * 1000 for x in latencies)
    result = {"engine": args.engine, "edits": len(ms), "p50_ms": round(statistics.median(ms), 1),
              "p95_ms": round(ms[max(0, int(len(ms) * 0.95 + 0.5) - 1)], 1),
              "max_ms": round(ms[-1], 1), "load_requests": load.sent,
              "load_failed": len(load.failed), "failures": load.failed[:5]}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
