"""Data collection's cost: endpoint throughput with all four collections on vs off.

One runtime (1 worker) behind the router, both on loopback, scoring a score.py that calls
``azureml.ai.monitoring``'s Collector for model_inputs and model_outputs on every request
(Azure's pattern); the router logs request and response. "off" runs the same processes
without ``data_collector`` settings (the Collector calls are then no-ops), "on" with all
four collections at sampling_rate 1.0. Off and on alternate (off, on, off, on, ...) for
``--rounds`` rounds in one run so both see the same machine load; the ratio is on req/s ÷
off req/s of each round, and the summary is their median. Target: >= 0.80.

Besides req/s it reports the CPU time the router and the server spent per request
(``/proc/PID/stat`` before and after the measured wrk run, divided by the requests wrk
counted), which a shared machine disturbs far less than throughput; the collection
writers' threads are inside those processes, so their rendering is counted there.

    .venv/bin/python bench/collection_throughput.py [--duration 10] [--rounds 3] [--json]

Everything binds 127.0.0.1 and is stopped by PID; files go to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from router_overhead import KEY, LUA, free_port, start, wait_http, wrk  # noqa: E402
from shadow_diff import cpu_seconds  # noqa: E402

SCORE = '''import json
from azureml.ai.monitoring import Collector


def init():
    global inputs, outputs
    inputs = Collector(name="model_inputs")
    outputs = Collector(name="model_outputs")


def run(data):
    payload = json.loads(data)
    context = inputs.collect(payload)
    result = {"sum": sum(payload["data"][0])}
    outputs.collect(result, context)
    return result
'''


def settings(data: Path, names: list[str], instance: str) -> dict[str, Any]:
    return {"dir": str(data / "bench" / "echo"), "endpoint": "bench", "deployment": "echo",
            "collections": names, "sampling_rate": 1.0, "rolling_rate": "Hour",
            "instance": instance}


def one_setup(folder: Path, collect: bool, duration: int) -> dict[str, float]:
    from devkit_runtime.router.auth import key_hash

    data = folder / "data"
    env = dict(os.environ)
    if collect:
        env["DEVKIT_DATA_COLLECTOR"] = json.dumps(
            settings(data, ["model_inputs", "model_outputs"], "echo-0"))
    with ExitStack() as stack:
        server_port, router_port = free_port(), free_port()
        server = start_env(stack, [sys.executable, "-m", "devkit_runtime", "--entry_script",
                          str(folder / "score.py"), "--port", str(server_port), "--workers",
                          "1"], folder / f"server-{collect}.log", env)
        wait_http(f"http://127.0.0.1:{server_port}/")
        route: dict[str, Any] = {"name": "echo", "replicas": [f"http://127.0.0.1:{server_port}"],
                                 "weight": 100, "max_concurrent_requests_per_instance": 64}
        if collect:
            route["data_collection"] = settings(data, ["request", "response"], "router")
        config = folder / f"router-{collect}.json"
        config.write_text(json.dumps({
            "version": 1, "generation": 1, "endpoint": "bench",
            "auth": {"mode": "key", "key_sha256": [key_hash(KEY)]}, "deployments": [route]}))
        router = start(stack, [sys.executable, "-m", "devkit_runtime.router", "--config",
                               str(config), "--port", str(router_port), "--log-level",
                               "warning"], folder / f"router-{collect}.log")
        url = f"http://127.0.0.1:{router_port}"
        wait_http(f"{url}/-/ready")
        wrk(f"{url}/score", 16, 2, folder / "post.lua")  # warm up
        # the server's CPU includes its worker: the supervisor's children are summed
        pids = {"router": [router.pid], "server": [server.pid, *children(server.pid)]}
        before = {name: sum(cpu_seconds(p) for p in group) for name, group in pids.items()}
        result = wrk(f"{url}/score", 16, duration, folder / "post.lua")
        requests = max(result["rps"] * duration, 1.0)
        for name, group in pids.items():
            spent = sum(cpu_seconds(p) for p in group) - before[name]
            result[f"{name}_cpu_us"] = round(spent / requests * 1e6, 1)
    if collect:
        result["events"] = float(sum(len(p.read_text().splitlines())
                                     for p in data.rglob("*.jsonl")))
    return result


def start_env(stack: ExitStack, command: list[str], log: Path,
              env: dict[str, str]) -> subprocess.Popen[bytes]:
    from router_overhead import _stop

    handle = stack.enter_context(log.open("wb"))
    process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env)
    stack.callback(_stop, process)
    return process


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (the server's workers), from /proc."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(child) for child in text]
    return found


def measure(duration: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "score.py").write_text(SCORE)
        (folder / "post.lua").write_text(LUA)
        runs: dict[str, Any] = {}
        for round_ in range(1, rounds + 1):
            for collect in (False, True):
                runs[f"{'on' if collect else 'off'}_{round_}"] = one_setup(
                    folder, collect, duration)
                if collect:  # each "on" round writes into a fresh folder
                    for path in sorted((folder / "data").rglob("*"), reverse=True):
                        path.unlink() if path.is_file() else path.rmdir()
        return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="off/on pairs, alternating")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    runs = measure(args.duration, args.rounds)
    ratios = [runs[f"on_{i}"]["rps"] / runs[f"off_{i}"]["rps"]
              for i in range(1, args.rounds + 1)]
    summary = {"ratios": [round(r, 3) for r in ratios],
               "median_ratio": round(statistics.median(ratios), 3),
               "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2)}
    if args.json:
        print(json.dumps({"runs": runs, "summary": summary}, indent=2))
        return
    print(f"{'run':<8}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>9}{'events':>9}"
          f"{'router us/req':>15}{'server us/req':>15}")
    for name, run in runs.items():
        print(f"{name:<8}{run['rps']:>10.0f}{run['p50_ms']:>10.3f}{run['p99_ms']:>10.3f}"
              f"{run['non_2xx']:>9.0f}{run.get('events', 0):>9.0f}"
              f"{run['router_cpu_us']:>15.1f}{run['server_cpu_us']:>15.1f}")
    print(f"on/off req/s per round: {summary['ratios']}, median {summary['median_ratio']} "
          f"(load {summary['load_before']} -> {summary['load_after']})")


if __name__ == "__main__":
    main()
