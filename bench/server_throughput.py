"""Throughput and latency of devkit's inference server against azmlinfsrv 1.5.1.

Both servers are started here on loopback with the same echo ``score.py`` and the same
worker count, then driven by ``wrk`` twice each: 16 keep-alive connections, and 16
connections sending ``Connection: close``. devkit runs once on plain asyncio and, when
``uvloop`` is importable, once more on uvloop (``DEVKIT_LOOP``); the loop each devkit row
really ran on is read back from the server's log. The whole comparison is repeated
``--runs`` times (the cores are shared, so one run proves little); every table gives
req/s, p50, p99, the ratio to azmlinfsrv from the same run and the load average around
each wrk run. The tables are also written to ``bench/results/server_throughput.md``.

    python bench/server_throughput.py [--duration 10] [--connections 16] [--workers 1]
                                      [--runs 2] [--loops asyncio,uvloop]
                                      [--anchor OTHER/runtime]

Needs ``wrk`` (Debian: ``apt-get install wrk``) and ``.venv-azml`` (``make setup``);
``pip install uvloop`` adds the uvloop rows.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ECHO = REPO / "bench" / "echo" / "score.py"
AZML = REPO / ".venv-azml" / "bin" / "azmlinfsrv"
RESULTS = REPO / "bench" / "results"
BODY = '{"data": [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]}'
LUA = f"""wrk.method = "POST"
wrk.body = '{BODY}'
wrk.headers["Content-Type"] = "application/json"
"""


@dataclass(frozen=True)
class Result:
    server: str
    mode: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    load: str = ""
    cpu_us: float = 0.0  # the server's CPU time (every process of it) per request


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(name: str, workers: int, log: Path, loop: str = "",
          runtime: Path | None = None) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``azmlinfsrv`` or devkit (on ``loop``; from the ``runtime`` folder's
    ``devkit_runtime`` when given, the anchor) and wait until it scores."""
    port = free_port()
    env = {**os.environ, "AML_APP_ROOT": str(ECHO.parent), "WORKER_COUNT": str(workers)}
    if runtime is not None:
        env["PYTHONPATH"] = str(runtime)
    if name == "azmlinfsrv":
        env.pop("PYTHONPATH", None)  # its own venv only
        argv = [str(AZML), "--entry_script", str(ECHO), "--port", str(port),
                "--worker_count", str(workers)]
    else:
        env["DEVKIT_LOOP"] = loop
        argv = [sys.executable, "-m", "devkit_runtime", "--entry_script", str(ECHO),
                "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(argv, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                               cwd=log.parent)
    wait_up(port, process)
    return process, port


def loop_used(log: Path) -> str:
    """The event loop devkit's worker says it runs on (its startup line)."""
    found = re.search(r"event loop (\w+)", log.read_text(errors="replace"))
    return found.group(1) if found else "unknown"


def wait_up(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("POST", "/score", BODY, {"Content-Type": "application/json"})
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not answer in 60 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wrk(port: int, script: Path, duration: int, connections: int, close: bool) -> str:
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s",
            str(script)]
    if close:
        argv += ["-H", "Connection: close"]
    argv.append(f"http://127.0.0.1:{port}/score")
    return subprocess.run(argv, capture_output=True, text=True, check=True,
                          timeout=duration + 60).stdout


def tree_cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and its descendants (the supervisor and its workers, or
    gunicorn and its workers): CPU per request moves far less than req/s on shared cores."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue  # exited meanwhile
    return total


def load_average() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def parse(server: str, mode: str, output: str, load: str = "", cpu_s: float = 0.0) -> Result:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                              r"timeout (\d+)", output)
    errors = int(non2xx.group(1)) if non2xx else 0
    if socket_errors:
        # read errors under Connection: close are the server closing as asked, not failures
        errors += sum(int(socket_errors.group(i)) for i in (1, 3, 4))
    return Result(server, mode, rps, percentile(output, "50"), percentile(output, "99"),
                  errors, load, cpu_s * 1e6 / max(1, requests))


def percentile(output: str, which: str) -> float:
    found = re.search(rf"^\s+{which}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    if found is None:
        raise SystemExit(f"wrk printed no {which}% latency:\n{output}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
    return float(found.group(1)) * scale


def machine() -> str:
    model = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def table(results: list[Result]) -> str:
    lines = ["| mode | server | req/s | p50 ms | p99 ms | errors | req/s ratio | "
             "CPU µs/req | load avg |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for mode in ("keep-alive", "Connection: close"):
        base = next(r for r in results if r.mode == mode and r.server == "azmlinfsrv")
        for result in (r for r in results if r.mode == mode):
            ratio = result.rps / base.rps
            lines.append(f"| {mode} | {result.server} | {result.rps:,.0f} | "
                         f"{result.p50_ms:.2f} | {result.p99_ms:.2f} | {result.errors} | "
                         f"{ratio:.2f}x | {result.cpu_us:.1f} | {result.load} |")
    return "\n".join(lines)


def summary(runs: list[list[Result]]) -> str:
    """Medians over the runs of each row's same-run ratios: to azmlinfsrv, and to the
    anchor's row on the same loop (when there is one)."""
    lines = ["Medians over the runs:", "",
             "| mode | server | ratio to azmlinfsrv | ratio to anchor | CPU µs/req |",
             "|---|---|---:|---:|---:|"]
    for mode in ("keep-alive", "Connection: close"):
        for server in [r.server for r in runs[0] if r.mode == mode]:
            to_azml, to_anchor, cpu = [], [], []
            for results in runs:
                rows = {r.server: r for r in results if r.mode == mode}
                row = rows[server]
                to_azml.append(row.rps / rows["azmlinfsrv"].rps)
                anchor = rows.get(server.replace("devkit (", "devkit anchor ("))
                if anchor is not None and anchor is not row:
                    to_anchor.append(row.rps / anchor.rps)
                cpu.append(row.cpu_us)
            anchor_text = f"{statistics.median(to_anchor):.3f}" if to_anchor else "—"
            lines.append(f"| {mode} | {server} | {statistics.median(to_azml):.2f}x | "
                         f"{anchor_text} | {statistics.median(cpu):.1f} |")
    return "\n".join(lines) + "\n"


def drive(server: str, process: subprocess.Popen[bytes], port: int, lua: Path,
          args: argparse.Namespace) -> list[Result]:
    """Both wrk modes against one running server, which is stopped afterwards."""
    results = []
    try:
        for mode, close in (("keep-alive", False), ("Connection: close", True)):
            before, cpu = load_average(), tree_cpu_seconds(process.pid)
            output = wrk(port, lua, args.duration, args.connections, close)
            cpu = tree_cpu_seconds(process.pid) - cpu
            results.append(parse(server, mode, output, f"{before}→{load_average()}", cpu))
    finally:
        stop(process)
    return results


def one_run(work: Path, lua: Path, loops: list[str], args: argparse.Namespace) -> list[Result]:
    """azmlinfsrv, then devkit on each loop (the anchor's code just before this code's,
    when ``--anchor`` is given), back to back."""
    log = work / "azmlinfsrv.log"
    process, port = start("azmlinfsrv", args.workers, log)
    results = drive("azmlinfsrv", process, port, lua, args)
    builds: list[tuple[str, Path | None]] = [("", None)]
    if args.anchor is not None:
        builds.insert(0, ("anchor ", args.anchor))
    for loop in loops:
        for label, runtime in builds:
            log = work / f"devkit-{label.strip() or 'this'}-{loop}.log"
            process, port = start("devkit", args.workers, log, loop, runtime)
            used = loop_used(log)
            if used not in (loop, "unknown"):  # "unknown": a server too old to log its loop
                stop(process)
                raise SystemExit(f"devkit was asked for {loop} but runs on {used}; see {log}")
            results += drive(f"devkit {label}({used})", process, port, lua, args)
    return results


def pick_loops(requested: str) -> tuple[list[str], str]:
    """The loops to run devkit on, and a note on any that had to be skipped."""
    loops, note = [], ""
    for loop in (name.strip() for name in requested.split(",") if name.strip()):
        if loop == "uvloop" and importlib.util.find_spec("uvloop") is None:
            note = "uvloop is not importable here, so it has no rows (pip install uvloop)."
            continue
        loops.append(loop)
    return loops, note


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--loops", default="asyncio,uvloop",
                        help="event loops to run devkit on (asyncio, uvloop)")
    parser.add_argument("--anchor", type=Path, default=None,
                        help="a folder holding another devkit_runtime (e.g. `git archive "
                             "main runtime` unpacked, its runtime/): its rows run just "
                             "before this code's, in every run")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed; on Debian/Ubuntu run `apt-get install wrk`", file=sys.stderr)
        return 2
    if not AZML.exists():
        print(f"{AZML} is missing; run `make setup`", file=sys.stderr)
        return 2
    loops, note = pick_loops(args.loops)
    sections = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        lua = work / "post.lua"
        lua.write_text(LUA)
        runs = []
        for run in range(1, args.runs + 1):
            runs.append(one_run(work, lua, loops, args))
            sections.append(f"Run {run}:\n\n{table(runs[-1])}\n")
            print(sections[-1], flush=True)
        sections.append(summary(runs))
        print(sections[-1], flush=True)
    command = (f"wrk -t2 -c{args.connections} -d{args.duration}s --latency -s post.lua "
               f"[-H 'Connection: close'] http://127.0.0.1:PORT/score")
    footer = (f"Machine: {machine()}; {args.workers} worker(s) each. {note}\n"
              f"Command: `python bench/server_throughput.py --duration {args.duration} "
              f"--runs {args.runs}` (runs `{command}`); load avg is the 1-minute load "
              f"average before→after each wrk run.\n")
    print(footer)
    report = "\n".join(sections) + "\n" + footer
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "server_throughput.md").write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
