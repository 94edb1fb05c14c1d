"""The router's CPU instructions per request, counted by valgrind's callgrind.

Wall-clock benchmarks on a shared 2-core machine move by tens of percent from one run to
the next; an instruction count does not. This runs the router under
``valgrind --tool=callgrind`` in front of devkit's runtime (echo ``score.py``, not under
valgrind), sends ``--small`` and then, in a second router process, ``--small + --extra``
sequential keep-alive POSTs (key auth on, as in ``router_overhead.py``), and reports
(instructions of the second - of the first) / ``--extra``: start-up and shut-down cancel
out. ``--mirror`` adds a second replica mirrored at 50% (both then run
``shadow_diff.py``'s score.py), ``--compare`` diffs the mirrored pairs
(``shadow.compare``), ``--differ`` makes the mirror answer another model name so every
pair disagrees, ``--collect`` turns on the router's request/response data collection.

    .venv/bin/python bench/router_callgrind.py [--extra 1000] [--mirror [--compare]
        [--differ]] [--collect] [--json]

To compare two versions of the router, run it twice with ``PYTHONPATH`` on each one's
``runtime/``. Everything binds 127.0.0.1 and is stopped by PID.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from router_overhead import ECHO, KEY, free_port, start, wait_http
from shadow_diff import SCORE as MODEL

BODY = b'{"data": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]}'


def config(folder: Path, replicas: list[str], mirror: bool, compare: bool,
           collect: bool) -> Path:
    from devkit_runtime.router.auth import key_hash

    blue: dict[str, Any] = {"name": "blue", "replicas": [replicas[0]], "weight": 100,
                            "max_concurrent_requests_per_instance": 64}
    if collect:
        blue["data_collection"] = {
            "dir": str(folder / "data" / "bench" / "blue"), "endpoint": "bench",
            "deployment": "blue", "collections": ["request", "response"],
            "sampling_rate": 1.0, "rolling_rate": "Hour", "instance": "router"}
    routes = [blue]
    if mirror:
        routes.append({"name": "green", "replicas": [replicas[1]], "weight": 0, "mirror": 50,
                       "max_concurrent_requests_per_instance": 64})
    path = folder / "router.json"
    path.write_text(json.dumps({
        "version": 1, "generation": 1, "endpoint": "bench",
        "auth": {"mode": "key", "key_sha256": [key_hash(KEY)]},
        "shadow": {"compare": compare}, "deployments": routes}))
    return path


def send(port: int, count: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"}
    for _ in range(count):
        connection.request("POST", "/score", BODY, headers)
        answer = connection.getresponse()
        answer.read()
        if answer.status != 200:
            raise SystemExit(f"router answered {answer.status}")
    connection.close()


def counted(folder: Path, router_config: Path, requests: int, tag: str) -> int:
    """Instructions the router process executed from start to exit, serving ``requests``."""
    port = free_port()
    out = folder / f"callgrind.{tag}.out"
    process = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
         "-m", "devkit_runtime.router", "--config", str(router_config), "--port", str(port),
         "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=(folder / f"valgrind.{tag}.log").open("wb"))
    try:
        wait_http(f"http://127.0.0.1:{port}/-/ready", timeout=120)
        send(port, requests)
        time.sleep(0.5)  # let mirror copies and deferred work finish
    finally:
        process.terminate()
        process.wait(120)
    totals = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
    if totals is None:
        raise SystemExit(f"no instruction total in {out}")
    return int(totals.group(1))


def measure(small: int, extra: int, mirror: bool, compare: bool, differ: bool,
            collect: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        folder = Path(tmp)
        (folder / "score.py").write_text(MODEL if mirror else ECHO)
        replicas = []
        for name in ("blue", "green") if mirror else ("blue",):
            port = free_port()
            os.environ["BENCH_MODEL"] = "v2" if differ and name == "green" else "v1"
            start(stack, [sys.executable, "-m", "devkit_runtime", "--entry_script",
                          str(folder / "score.py"), "--port", str(port), "--workers", "1"],
                  folder / f"{name}.log")
            replicas.append(f"http://127.0.0.1:{port}")
            wait_http(f"{replicas[-1]}/")
        path = config(folder, replicas, mirror, compare, collect)
        base = counted(folder, path, small, "small")
        more = counted(folder, path, small + extra, "large")
    return {"instructions_small": base, "instructions_large": more,
            "instructions_per_request": round((more - base) / extra)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--extra", type=int, default=1000)
    parser.add_argument("--mirror", action="store_true")
    parser.add_argument("--compare", action="store_true", help="with --mirror: diff pairs")
    parser.add_argument("--differ", action="store_true", help="with --mirror: every pair "
                        "disagrees")
    parser.add_argument("--collect", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    found = measure(args.small, args.extra, args.mirror, args.compare, args.differ,
                    args.collect)
    if args.json:
        print(json.dumps(found))
    else:
        print(f"router instructions per request: {found['instructions_per_request']:,}")


if __name__ == "__main__":
    main()
