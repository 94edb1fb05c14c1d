"""Build time of a bring-your-own-container Dockerfile with ``pip install`` steps.

The Dockerfile is Azure ML's usual shape: ``FROM mcr.microsoft.com/azureml/minimal-ubuntu22.04-
py39-cpu-inference:latest`` (never pulled: devkit's base stands in), ``COPY requirements.txt``
and ``RUN pip install -r`` (scikit-learn, pandas, requests), built by
:func:`devkit.images.build.ensure_image` as ``devkit up`` does. The anchor, in the same run,
is the same packages as an ``image:`` + ``conda_file:`` environment. Three timings each:

* **cold**: an empty wheelhouse (a fresh ``DEVKIT_CACHE_DIR``, so every wheel is fetched
  from the package index) and no image;
* **wheelhouse warm**: the wheels resolved, the images removed (a changed Dockerfile
  line, or another machine sharing the cache);
* **cached**: the image exists (every later ``up``): no build at all.

    .venv/bin/python bench/byoc_build.py [--runs 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import docker
import docker.errors

from devkit.images.build import HASH_LABEL, ensure_image
from devkit.images.envhash import environment_hash
from devkit.spec.model import BuildSpec, CodeSpec, DeploymentSpec, EnvironmentSpec, Source

PACKAGES = ["scikit-learn==1.5.2", "pandas==2.2.3", "requests==2.32.3"]
DOCKERFILE = """\
FROM mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference:latest
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir -r /tmp/requirements.txt
"""


def deployment(root: Path, kind: str) -> DeploymentSpec:
    folder = root / kind
    (folder / "code").mkdir(parents=True)
    (folder / "code" / "score.py").write_text("def init():\n    pass\n\ndef run(d):\n    "
                                              "return d\n")
    if kind == "byoc":
        (folder / "ctx").mkdir()
        (folder / "ctx" / "Dockerfile").write_text(DOCKERFILE)
        (folder / "ctx" / "requirements.txt").write_text("\n".join(PACKAGES) + "\n")
        environment = EnvironmentSpec(build=BuildSpec(folder / "ctx"))
    else:
        (folder / "conda.yml").write_text("dependencies:\n  - pip:\n" + "".join(
            f"    - {p}\n" for p in PACKAGES))
        environment = EnvironmentSpec(image="mcr.microsoft.com/azureml/minimal-ubuntu22.04-"
                                      "py39-cpu-inference:latest",
                                      conda_file=folder / "conda.yml")
    return DeploymentSpec(name="blue", endpoint_name="bench-byoc",
                          source=Source(folder / "blue.yml", 1), environment=environment,
                          instance_type="Standard_DS2_v2",
                          code_configuration=CodeSpec(folder / "code", "score.py"))


def remove_images(client: docker.DockerClient, spec: DeploymentSpec) -> None:
    for _attempt in range(4):
        images = client.images.list(filters={"label": f"{HASH_LABEL}={environment_hash(spec)}"})
        if not images:
            return
        for image in images:
            try:
                client.images.remove(image.id, force=True)
            except docker.errors.APIError:
                continue


def timed(client: docker.DockerClient, spec: DeploymentSpec) -> tuple[float, bool]:
    start = time.perf_counter()
    built = ensure_image(client, spec)
    return time.perf_counter() - start, built.built


def one_run(client: docker.DockerClient, root: Path) -> dict[str, list[float]]:
    os.environ["DEVKIT_CACHE_DIR"] = str(root / "cache")  # cold wheelhouse
    specs = {kind: deployment(root, kind) for kind in ("byoc", "conda")}
    results: dict[str, list[float]] = {}
    for kind, spec in specs.items():
        remove_images(client, spec)
        cold, _ = timed(client, spec)
        remove_images(client, spec)
        warm, _ = timed(client, spec)
        cached, rebuilt = timed(client, spec)
        assert not rebuilt
        results[kind] = [cold, warm, cached]
        remove_images(client, spec)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    client = docker.from_env()
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory(prefix="devkit-bench-byoc-") as scratch:
            results = one_run(client, Path(scratch))
        print(f"run {run} (load {os.getloadavg()[0]:.1f}):")
        print("| environment | cold s | wheelhouse warm s | cached s |")
        for kind, (cold, warm, cached) in results.items():
            print(f"| {kind} | {cold:.1f} | {warm:.1f} | {cached:.3f} |")
        ratio = [b / c for b, c in zip(results["byoc"], results["conda"], strict=True)]
        print(f"| byoc / conda | {ratio[0]:.2f}x | {ratio[1]:.2f}x | {ratio[2]:.2f}x |")


if __name__ == "__main__":
    main()
