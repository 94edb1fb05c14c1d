"""Time to first byte of a streamed response, through the endpoint router vs direct.

Starts devkit's runtime (1 worker) on a ``score.py`` whose run() returns a generator of
``text/event-stream`` events, ``--tokens`` of them ``--gap-ms`` apart (a model producing
tokens), and a router in front of it (key auth, as endpoints run by default). Then it
sends ``--requests`` GETs to each, alternating direct and routed on one keep-alive
connection each, and records when the response head, the first event and the last byte
arrived. A router that buffered the body would show a first-event time equal to the
total; streaming shows the first event about one gap-free hop after the head.

    .venv/bin/python bench/stream_ttfb.py [--requests 50] [--tokens 10] [--gap-ms 20]
                                          [--json]

Everything binds 127.0.0.1 and is stopped by PID at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from router_overhead import KEY, free_port, router_config, start, wait_http

SCORE = """import time

from azureml.contrib.services.aml_request import rawhttp
from azureml.contrib.services.aml_response import AMLResponse


def init():
    pass


@rawhttp
def run(request):
    tokens, gap = int(request.args["tokens"]), float(request.args["gap_ms"]) / 1000

    def events():
        for index in range(tokens):
            if index:
                time.sleep(gap)
            yield f"data: token {index}\\n\\n"

    return AMLResponse(events(), 200, {"Content-Type": "text/event-stream"})
"""


def one(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> dict[str, float]:
    """Milliseconds from sending the request to the head, the first event, the last byte."""
    sent = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    head = time.perf_counter()
    first = response.read1(65536)
    first_at = time.perf_counter()
    rest = response.read()
    done = time.perf_counter()
    if response.status != 200 or not first.startswith(b"data: token 0") or not rest:
        raise SystemExit(f"unexpected answer {response.status}: {first!r} {rest[:80]!r}")
    return {"head_ms": (head - sent) * 1000, "first_ms": (first_at - sent) * 1000,
            "total_ms": (done - sent) * 1000}


def summary(samples: list[dict[str, float]]) -> dict[str, float]:
    result = {}
    for key in ("head_ms", "first_ms", "total_ms"):
        values = sorted(sample[key] for sample in samples)
        result[f"{key[:-3]}_p50_ms"] = round(statistics.median(values), 3)
        result[f"{key[:-3]}_p99_ms"] = round(values[min(len(values) - 1,
                                                        int(len(values) * 0.99))], 3)
    return result


def measure(requests: int, tokens: int, gap_ms: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        folder = Path(tmp)
        (folder / "score.py").write_text(SCORE)
        server_port, router_port = free_port(), free_port()
        start(stack, [sys.executable, "-m", "devkit_runtime", "--entry_script",
                      str(folder / "score.py"), "--model_dir", str(folder), "--port",
                      str(server_port), "--host", "127.0.0.1", "--workers", "1"],
              folder / "server.log")
        wait_http(f"http://127.0.0.1:{server_port}/")
        config = router_config(folder, f"http://127.0.0.1:{server_port}")
        start(stack, [sys.executable, "-m", "devkit_runtime.router", "--config", str(config),
                      "--port", str(router_port), "--log-level", "warning"],
              folder / "router.log")
        wait_http(f"http://127.0.0.1:{router_port}/-/ready")
        path = f"/score?tokens={tokens}&gap_ms={gap_ms}"
        targets = {"direct": (server_port, {}),
                   "router": (router_port, {"Authorization": f"Bearer {KEY}"})}
        conns = {name: stack.enter_context(_closing(port)) for name, (port, _) in
                 targets.items()}
        samples: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
        for index in range(requests + 3):  # the first three warm up
            for name, (_, headers) in targets.items():
                sample = one(conns[name], path, headers)
                if index >= 3:
                    samples[name].append(sample)
        return {name: summary(runs) for name, runs in samples.items()}


class _closing:
    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def __enter__(self) -> http.client.HTTPConnection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--tokens", type=int, default=10)
    parser.add_argument("--gap-ms", type=float, default=20.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = measure(args.requests, args.tokens, args.gap_ms)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{'target':<8}{'head p50':>10}{'first p50':>11}{'first p99':>11}{'total p50':>11}")
    for name, row in results.items():
        print(f"{name:<8}{row['head_p50_ms']:>10.3f}{row['first_p50_ms']:>11.3f}"
              f"{row['first_p99_ms']:>11.3f}{row['total_p50_ms']:>11.3f}")
    added = results["router"]["first_p50_ms"] - results["direct"]["first_p50_ms"]
    print(f"router adds {added:.3f} ms to the first event at p50; "
          f"the whole stream takes ~{(args.tokens - 1) * args.gap_ms:.0f} ms of gaps")


if __name__ == "__main__":
    main()
