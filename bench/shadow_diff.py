"""Shadow diff cost: router throughput and p99 with 50% mirroring, diffing on vs off.

Starts two devkit runtimes (1 worker each) on a ``score.py`` that answers a small JSON
document (ten floats and a label, like a regression model), and two routers in front of
the same pair: live deployment ``blue`` (weight 100), ``green`` mirrored at 50%; one router
compares every mirrored pair (``shadow.compare: true``, the default), the other only
mirrors (``compare: false``). wrk drives each router in turn, alternating, ``--runs`` times.
Target (MISSION.md): diffing on >= 90% of the req/s with it off.

    .venv/bin/python bench/shadow_diff.py [--duration 10] [--runs 2] [--differ] [--json]

Besides req/s and p99 it reports the router's own CPU time per request (from
``/proc/PID/stat`` and the router's request counter), which a shared machine disturbs far
less than throughput. ``--differ`` makes every pair disagree (full parse, walk, record).

Everything binds 127.0.0.1 and is stopped by PID at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from router_overhead import free_port, start, wait_http, wrk

SCORE = """import json
import os

MODEL = os.environ.get("BENCH_MODEL", "v1")

def init():
    pass

def run(data):
    x = json.loads(data)["data"][0]
    return {"predictions": [v * 1.5 for v in x], "label": "ok", "model": MODEL}
"""
LUA = """wrk.method = "POST"
wrk.body = '{"data": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]}'
wrk.headers["Content-Type"] = "application/json"
"""


def router_config(folder: Path, name: str, blue: str, green: str, compare: bool) -> Path:
    path = folder / name / "router.json"
    path.parent.mkdir()
    path.write_text(json.dumps({
        "version": 1, "generation": 1, "endpoint": "bench", "auth": {"mode": "none"},
        "shadow": {"compare": compare},
        "deployments": [
            {"name": "blue", "replicas": [blue], "weight": 100,
             "max_concurrent_requests_per_instance": 64},
            {"name": "green", "replicas": [green], "weight": 0, "mirror": 50,
             "max_concurrent_requests_per_instance": 64}],
    }))
    return path


def shadow_stats(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base}/-/shadow.json", timeout=5) as answer:
        found: dict[str, Any] = json.loads(answer.read())
    compared = sum(p["compared"] for p in found["pairs"])
    dropped = sum(p["dropped"] for p in found["pairs"])
    per = found["compare_seconds"] / compared * 1e6 if compared else 0.0
    return {"compared": compared, "dropped": dropped, "us_per_compare": round(per, 1)}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def routed(base: str) -> int:
    with urllib.request.urlopen(f"{base}/-/metrics.json", timeout=5) as answer:
        found: dict[str, Any] = json.loads(answer.read())
    return int(found["deployments"]["blue"]["requests"])


def measure(duration: int, runs: int, differ: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        folder = Path(tmp)
        (folder / "score.py").write_text(SCORE)
        (folder / "post.lua").write_text(LUA)
        upstreams = []
        for name in ("blue", "green"):
            port = free_port()
            # --differ: green answers another model name, so every pair is parsed and
            # walked and every one is a disagreement (the diff's worst case)
            os.environ["BENCH_MODEL"] = "v2" if differ and name == "green" else "v1"
            start(stack, [sys.executable, "-m", "devkit_runtime", "--entry_script",
                          str(folder / "score.py"), "--model_dir", str(folder), "--port",
                          str(port), "--host", "127.0.0.1", "--workers", "1"],
                  folder / f"{name}.log")
            upstreams.append(f"http://127.0.0.1:{port}")
            wait_http(f"{upstreams[-1]}/")
        routers: dict[str, tuple[str, subprocess.Popen[bytes]]] = {}
        for mode, compare in (("diff_off", False), ("diff_on", True)):
            port = free_port()
            config = router_config(folder, mode, *upstreams, compare)
            process = start(stack, [sys.executable, "-m", "devkit_runtime.router", "--config",
                                    str(config), "--port", str(port), "--log-level",
                                    "warning"], folder / f"{mode}.log")
            routers[mode] = (f"http://127.0.0.1:{port}", process)
            wait_http(f"{routers[mode][0]}/-/ready")
        results: dict[str, Any] = {}
        for run in range(1, runs + 1):
            for mode, (base, process) in routers.items():
                wrk(f"{base}/score", 16, 2, folder / "post.lua")  # warm up
                load, cpu, count = os.getloadavg()[0], cpu_seconds(process.pid), routed(base)
                found = wrk(f"{base}/score", 16, duration, folder / "post.lua")
                found["load_before_after"] = [round(load, 2), round(os.getloadavg()[0], 2)]
                # the router's own CPU per request: far less sensitive to a shared
                # machine than req/s, and what the diff adds shows up there first
                spent = cpu_seconds(process.pid) - cpu
                found["router_cpu_us_per_request"] = round(
                    spent / max(routed(base) - count, 1) * 1e6, 1)
                results[f"run{run}_{mode}"] = found
        results["diff_on_shadow"] = shadow_stats(routers["diff_on"][0])
        return results


def summarise(results: dict[str, Any], runs: int) -> list[dict[str, float]]:
    rows = []
    for run in range(1, runs + 1):
        off, on = results[f"run{run}_diff_off"], results[f"run{run}_diff_on"]
        rows.append({"run": run, "rps_ratio": round(on["rps"] / off["rps"], 3),
                     "p99_off_ms": off["p99_ms"], "p99_on_ms": on["p99_ms"],
                     "cpu_ratio": round(off["router_cpu_us_per_request"]
                                        / on["router_cpu_us_per_request"], 3)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--runs", type=int, default=2, help="off/on pairs, alternating")
    parser.add_argument("--differ", action="store_true",
                        help="green answers differently: every pair is a disagreement")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = measure(args.duration, args.runs, args.differ)
    summary = summarise(results, args.runs)
    if args.json:
        print(json.dumps({"runs": results, "summary": summary}, indent=2))
        return
    print(f"{'run':<16}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>9}"
          f"{'cpu us/req':>12}  load")
    for name, run in results.items():
        if name.startswith("run"):
            print(f"{name:<16}{run['rps']:>10.0f}{run['p50_ms']:>10.3f}{run['p99_ms']:>10.3f}"
                  f"{run['non_2xx']:>9.0f}{run['router_cpu_us_per_request']:>12.1f}  "
                  f"{run['load_before_after']}")
    for row in summary:
        print(f"run {row['run']}: diff on / off req/s = {row['rps_ratio']}, p99 "
              f"{row['p99_off_ms']} -> {row['p99_on_ms']} ms, router CPU per request "
              f"off / on = {row['cpu_ratio']}")
    print(f"median over {args.runs} runs: req/s on/off "
          f"{statistics.median(r['rps_ratio'] for r in summary):.3f}, router CPU off/on "
          f"{statistics.median(r['cpu_ratio'] for r in summary):.3f}")
    print(f"comparisons: {results['diff_on_shadow']}")


if __name__ == "__main__":
    main()
