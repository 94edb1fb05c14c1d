"""What egress off adds to ``devkit up`` on the docker engine: the helper container that
deletes a replica's default route, timed against starting one container of the same base
image (the anchor, measured in the same run, alternating).

Everything runs on a throwaway internal network labelled ``devkit.bench=egress`` and is
removed at the end. Bounded: ``--rounds`` (default 5) rounds of 2 replicas.

    .venv/bin/python bench/egress_seal.py --rounds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from devkit.engines.docker import egress
from devkit.engines.docker.client import DockerClient
from devkit.engines.status import no_progress
from devkit.images.base import ensure_base_image

LABELS = {"devkit.bench": "egress"}


def _start(client: DockerClient, image: str, network: str, name: str) -> object:
    container = client.create_container(image, name, command=["sleep", "300"],
                                        network=network, labels=LABELS, detach=True)
    client.start(container)
    return container


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    client = DockerClient.connect()
    image = ensure_base_image(client.raw)
    network = client.raw.networks.create(f"devkit-bench-egress-{os.getpid()}", internal=True,
                                         labels=LABELS)
    starts, seals = [], []
    made: list[object] = []
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    try:
        for index in range(rounds):
            began = time.perf_counter()
            pair = [_start(client, image, network.name, f"bench-egress-{os.getpid()}-{index}-{i}")
                    for i in range(2)]
            starts.append((time.perf_counter() - began) / 2)  # one container's start
            made += pair
            began = time.perf_counter()
            egress.drop_default_routes(client, pair, image, no_progress)  # type: ignore[arg-type]
            seals.append(time.perf_counter() - began)  # both replicas, in parallel
    finally:
        for container in made:
            client.remove_container(container)  # type: ignore[arg-type]
        network.remove()
    start, seal = statistics.median(starts), statistics.median(seals)
    print(f"container create+start (anchor): median {start * 1000:.0f} ms")
    print(f"default routes removed, 2 replicas in parallel: median {seal * 1000:.0f} ms "
          f"({seal / start:.2f}x one container start)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
