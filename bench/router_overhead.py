"""Router overhead: what the endpoint router adds over calling a deployment directly.

Starts devkit's runtime on an echo ``score.py`` (1 worker) and a router in front of it
(``python -m devkit_runtime.router``, key auth on, as endpoints run by default), then drives
both with wrk: one connection (added p50/p99 latency) and 16 connections (req/s ratio),
direct and routed alternating, ``--rounds`` times; the summary is the median of the
rounds' differences and ratios. Targets: MISSION.md's < 1 ms added at p50 and >= 70% of
direct throughput; issue 17's < 50 µs added at p50 and >= 0.95x direct at 16 connections.

    .venv/bin/python bench/router_overhead.py [--duration 10] [--rounds 3] [--json]

Everything binds 127.0.0.1 and is stopped by PID at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

KEY = "bench-key-not-secret"
ECHO = "def init():\n    pass\n\n\ndef run(data):\n    return data\n"
LUA = """wrk.method = "POST"
wrk.body = '{"data": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer KEY"
""".replace("KEY", KEY)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer 200 within {timeout} s")


def start(stack: ExitStack, command: list[str], log: Path) -> subprocess.Popen[bytes]:
    handle = stack.enter_context(log.open("wb"))
    process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)
    stack.callback(_stop, process)
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def router_config(folder: Path, upstream: str) -> Path:
    from devkit_runtime.router.auth import key_hash

    path = folder / "router.json"
    path.write_text(json.dumps({
        "version": 1, "generation": 1, "endpoint": "bench",
        "auth": {"mode": "key", "key_sha256": [key_hash(KEY)]},
        "deployments": [{"name": "echo", "replicas": [upstream], "weight": 100,
                         "max_concurrent_requests_per_instance": 64}],
    }))
    return path


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def wrk(url: str, connections: int, duration: int, script: Path) -> dict[str, float]:
    threads = 1 if connections == 1 else 2
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency",
         "-s", str(script), url], check=True, capture_output=True, text=True).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for pct in ("50", "99"):
        value, unit = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        result[f"p{pct}_ms"] = float(value) * _UNITS[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = float(errors.group(1)) if errors else 0.0
    return result


def measure(duration: int, rounds: int = 1) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        folder = Path(tmp)
        (folder / "score.py").write_text(ECHO)
        (folder / "post.lua").write_text(LUA)
        server_port, router_port = free_port(), free_port()
        start(stack, [sys.executable, "-m", "devkit_runtime", "--entry_script",
                      str(folder / "score.py"), "--model_dir", str(folder), "--port",
                      str(server_port), "--host", "127.0.0.1", "--workers", "1"],
              folder / "server.log")
        direct = f"http://127.0.0.1:{server_port}"
        wait_http(f"{direct}/")
        config = router_config(folder, direct)
        start(stack, [sys.executable, "-m", "devkit_runtime.router", "--config", str(config),
                      "--port", str(router_port), "--log-level", "warning"],
              folder / "router.log")
        routed = f"http://127.0.0.1:{router_port}"
        wait_http(f"{routed}/-/ready")
        results: dict[str, Any] = {}
        for connections in (1, 16):
            for base in (direct, routed):
                wrk(f"{base}/score", connections, 2, folder / "post.lua")  # warm up
        for round_ in range(1, rounds + 1):
            for connections in (1, 16):
                for name, base in (("direct", direct), ("router", routed)):
                    found = wrk(f"{base}/score", connections, duration, folder / "post.lua")
                    found["load"] = round(os.getloadavg()[0], 2)
                    results[f"{name}_c{connections}_r{round_}"] = found
        return results


def summarise(results: dict[str, Any], rounds: int = 1) -> dict[str, Any]:
    added_p50, added_p99, ratio = [], [], []
    for round_ in range(1, rounds + 1):
        d1, r1 = results[f"direct_c1_r{round_}"], results[f"router_c1_r{round_}"]
        d16, r16 = results[f"direct_c16_r{round_}"], results[f"router_c16_r{round_}"]
        added_p50.append(round(r1["p50_ms"] - d1["p50_ms"], 3))
        added_p99.append(round(r1["p99_ms"] - d1["p99_ms"], 3))
        ratio.append(round(r16["rps"] / d16["rps"], 3))
    return {"added_p50_ms": statistics.median(added_p50),
            "added_p99_ms": statistics.median(added_p99),
            "rps_ratio_c16": statistics.median(ratio),
            "rounds": {"added_p50_ms": added_p50, "added_p99_ms": added_p99,
                       "rps_ratio_c16": ratio}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="direct/router alternations")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    results = measure(args.duration, args.rounds)
    summary = summarise(results, args.rounds)
    summary["load_before_after"] = [round(load, 2), round(os.getloadavg()[0], 2)]
    if args.json:
        print(json.dumps({"runs": results, "summary": summary}, indent=2))
        return
    print(f"{'run':<16}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>9}{'load':>7}")
    for name, run in results.items():
        print(f"{name:<16}{run['rps']:>10.0f}{run['p50_ms']:>10.3f}{run['p99_ms']:>10.3f}"
              f"{run['non_2xx']:>9.0f}{run['load']:>7.2f}")
    print(f"per round: {summary['rounds']}")
    print(f"median: added p50 {summary['added_p50_ms']} ms, added p99 "
          f"{summary['added_p99_ms']} ms, router/direct req/s at 16 connections "
          f"{summary['rps_ratio_c16']} (load {summary['load_before_after']})")


if __name__ == "__main__":
    main()
