"""`devkit promote` of samples/regression to a single-node swarm with a local registry.

Measures, on one copy of the sample under a unique endpoint name:

1. cold: build the release images (the environment image is built by `devkit up` and
   cached; the model and code layers are built here) + push everything to an empty
   registry + converge until every deployment is healthy;
2. code-only change (a line appended to score.py): seconds and bytes pushed;
3. `devkit traffic --target` apply time: the median of N changes, measured from the call
   to the router serving the new generation.

Needs the engine in swarm mode (`docker swarm init --advertise-addr 127.0.0.1`) and
Debian's `docker-registry`; starts its own registry on a free loopback port and removes
everything at the end. Probes are shortened to 1 s in the copy, as in the tests, so the
numbers are devkit's and swarm's, not the sample's 10 s probe period.

    .venv/bin/python bench/promote_swarm.py [--traffic-runs 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "regression"
PROBE = ("readiness_probe:\n  initial_delay: 1\n  period: 1\n  timeout: 2\n"
         "  failure_threshold: 30\n")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_registry(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    config = root / "registry.yml"
    config.write_text(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: "
                      f"{root / 'registry'}\nhttp:\n  addr: 127.0.0.1:{port}\n")
    process = subprocess.Popen(["docker-registry", "serve", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    return process, f"127.0.0.1:{port}"


def copy_sample(root: Path, name: str) -> Path:
    folder = root / name
    shutil.copytree(SAMPLE, folder)
    for spec in folder.glob("*.yml"):
        text = spec.read_text().replace("regression\n", f"{name}\n")
        spec.write_text(text + (PROBE if "endpoint_name:" in text else ""))
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traffic-runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="devkit-bench-promote-") as scratch:
        root = Path(scratch)
        os.environ["DEVKIT_CONFIG_DIR"] = str(root / "config")
        registry, address = start_registry(root)
        try:
            run(root, address, args.traffic_runs)
        finally:
            registry.terminate()
            registry.wait(timeout=10)


def run(root: Path, registry: str, traffic_runs: int) -> None:
    from devkit.actions import targets as ops
    from devkit.actions.promote import PromoteOptions, promote
    from devkit.promote.targets import Target, add_target, user_file

    add_target(Target("bench", "swarm", registry, published_port=free_port()), user_file())
    name = f"bench-{uuid.uuid4().hex[:4]}"
    folder = copy_sample(root, name)
    options = PromoteOptions("bench", overcommit=True)
    try:
        cold = promote(str(folder), options, lambda line: None, lambda plan: True)
        assert cold.pushed is not None
        print(f"cold promote: {cold.seconds:.1f} s, {cold.pushed.bytes_pushed / 2**20:.1f} MiB "
              f"pushed in {cold.pushed.layers_pushed} layers")
        score = folder / "score.py"
        score.write_text(score.read_text() + "\n# bench: a code-only change\n")
        code = promote(str(folder), options, lambda line: None, lambda plan: True)
        assert code.pushed is not None
        print(f"code-only change: {code.seconds:.1f} s, {code.pushed.bytes_pushed / 1024:.1f} "
              f"KiB pushed in {code.pushed.layers_pushed} layers "
              f"({code.pushed.layers_present} already in the registry)")
        same = promote(str(folder), options, lambda line: None, lambda plan: True)
        print(f"same release again: {same.seconds:.1f} s (nothing to do: "
              f"{same.plan is not None and same.plan.nothing_to_do})")
        times = []
        for i in range(traffic_runs):
            split = {"blue": 90, "green": 10} if i % 2 else {"blue": 70, "green": 30}
            times.append(ops.traffic("bench", name, split, None)["seconds"])
        print(f"traffic change applied on the target: median {statistics.median(times):.3f} s, "
              f"min {min(times):.3f}, max {max(times):.3f} ({traffic_runs} changes)")
    finally:
        ops.down("bench", name, lambda line: None)


if __name__ == "__main__":
    main()
