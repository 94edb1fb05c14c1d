"""Local autoscaling: time from a load step to the first new replica serving, and
requests served per second at 1 replica vs after scale-out, in the same run.

The endpoint is ``tests/autoscale/fixtures/scaled`` (score.py sleeps 80 ms, 2 concurrent
requests per replica, min 1, max 3, polling every second) with a long scale-in window so
nothing scales in while measuring. The load is ``--clients`` closed-loop threads on
loopback (4: 200% utilization at 1 replica). Sequence, one ``up``:

1. the autoscaler paused: the load for ``--seconds`` at 1 replica (the anchor);
2. the autoscaler started, the load off; then the load step: the time until the router
   has a second active replica (it joins only once ready) and the replica answered;
3. once the count is steady: the load for ``--seconds`` at that many replicas.

    .venv/bin/python bench/autoscale.py [--engine docker|process] [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "autoscale" / "fixtures" / "scaled"


class Load:
    """``clients`` threads POSTing until stopped; completion times of 200 answers."""

    def __init__(self, url: str, headers: dict[str, str], clients: int) -> None:
        self.url, self.headers, self.clients = url, headers, clients
        self.done: list[float] = []
        self.failed = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def rate(self, start: float, end: float) -> float:
        return sum(1 for t in self.done if start <= t < end) / (end - start)

    def _run(self) -> None:
        with httpx.Client(headers=self.headers, timeout=30) as client:
            while not self._stop.is_set():
                answer = client.post(self.url, json={"x": 1})
                if answer.status_code == 200:
                    self.done.append(time.monotonic())
                else:
                    self.failed += 1


def load_json(router: str) -> dict:
    return httpx.get(f"{router}/-/load.json", timeout=5).json()["deployments"]["blue"]


def measure(engine_name: str, seconds: float, clients: int) -> dict[str, float]:
    from devkit import actions
    from devkit.actions.access import authorization
    from devkit.autoscale import daemon
    from devkit.engines import get_engine
    from devkit.spec import load

    name = f"bench-scale-{uuid.uuid4().hex[:6]}"
    folder = Path(tempfile.mkdtemp()) / name
    shutil.copytree(FIXTURE, folder)
    for spec in folder.glob("*.yml"):
        text = spec.read_text().replace("scaled\n", f"{name}\n")
        spec.write_text(text.replace('scale_in_window_s: "4"', 'scale_in_window_s: "600"'))
    result = actions.up(load([folder]), engine=engine_name)
    engine = get_engine(engine_name)
    try:
        router = engine.router_url(name)
        assert router and result.status.scoring_uri
        headers, url = authorization(name), result.status.scoring_uri
        daemon.stop(name)
        with Load(url, headers, clients) as one:
            time.sleep(seconds + 0.5)
        at_one = one.rate(one.done[0] + 0.5, one.done[0] + 0.5 + seconds)
        daemon.start(name, engine_name)
        time.sleep(2.0)  # the loop's first polls, idle
        with Load(url, headers, clients) as stepped:
            step = time.monotonic()
            while load_json(router)["active"] < 2:
                time.sleep(0.02)
            joined = time.monotonic() - step
            while not any(r["in_flight"] for r in load_json(router)["replicas"][1:]):
                time.sleep(0.005)
            serving = time.monotonic() - step
            steady, count = time.monotonic(), load_json(router)["active"]
            while time.monotonic() - steady < 3.0:  # no change for 3 s
                now = load_json(router)["active"]
                if now != count:
                    steady, count = time.monotonic(), now
                time.sleep(0.1)
            start = time.monotonic()
            time.sleep(seconds)
            after = stepped.rate(start, start + seconds)
        return {"first_join_s": joined, "first_serving_s": serving, "rps_1": at_one,
                "rps_n": after, "replicas": count, "failed": one.failed + stepped.failed}
    finally:
        actions.down(name)
        shutil.rmtree(folder.parent, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", default="docker", choices=("docker", "process"))
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    state = tempfile.mkdtemp(prefix="devkit-bench-state-")
    os.environ["DEVKIT_STATE_DIR"] = state
    try:
        got = measure(args.engine, args.seconds, args.clients)
    finally:
        shutil.rmtree(state, ignore_errors=True)
    print(f"engine {args.engine}, {args.clients} clients, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} cores")
    print(f"load step -> 2nd replica in the router: {got['first_join_s']:.2f} s; "
          f"answering: {got['first_serving_s']:.2f} s")
    print(f"req/s at 1 replica: {got['rps_1']:.1f}; at {got['replicas']} replicas: "
          f"{got['rps_n']:.1f} (x{got['rps_n'] / got['rps_1']:.2f}); failed requests: "
          f"{got['failed']}")


if __name__ == "__main__":
    main()
