"""What Python an image carries: asked once by running it, remembered by image id.

The wheelhouse must match the image's CPython version, glibc and machine, and a conda
file's Python version is checked against it. Running a container costs about a second, so
the answer is cached in ``cache_dir()/images/facts.json`` keyed by the image id (an id
never changes content, so the cache never goes stale).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import docker
import docker.errors

from devkit.errors import ImageBuildError
from devkit.paths import cache_dir

_SCRIPT = ("import sys, platform; "
           "print('%d.%d.%d' % sys.version_info[:3], platform.libc_ver()[1] or '-', "
           "platform.machine())")


@dataclass(frozen=True)
class ImageFacts:
    python: str  # "3.11.2"
    glibc: str  # "2.36"
    machine: str  # "x86_64"

    @property
    def python_minor(self) -> str:
        return ".".join(self.python.split(".")[:2])


def facts_file() -> Path:
    return cache_dir() / "images" / "facts.json"


def probe_image(client: docker.DockerClient, image: str) -> ImageFacts:
    """The image's Python facts; raises ImageBuildError when it has no usable python3."""
    image_id = str(client.images.get(image).id)
    known = _load()
    if image_id in known:
        return ImageFacts(**known[image_id])
    facts = _parse(image, _run_python(client, image))
    known[image_id] = asdict(facts)
    _save(known)
    return facts


def _run_python(client: docker.DockerClient, image: str) -> str:
    try:
        container = client.containers.create(image, entrypoint=["python3", "-c", _SCRIPT],
                                             command=[], network_disabled=True,
                                             labels={"devkit.managed": "1",
                                                     "devkit.role": "probe"})
    except docker.errors.DockerException as exc:
        raise ImageBuildError(f"could not start a container from {image} to check its "
                              f"Python ({exc}); check the image and `devkit doctor`.") from exc
    try:
        return _start_and_read(container, image)
    finally:
        container.remove(force=True)


def _start_and_read(container: docker.models.containers.Container, image: str) -> str:
    try:
        container.start()
        status = container.wait(timeout=60)
        output = container.logs().decode(errors="replace").strip()
    except docker.errors.APIError as exc:
        if "executable file not found" in str(exc) or "no such file" in str(exc).lower():
            raise _no_python(image) from exc
        raise ImageBuildError(f"running python3 in {image} failed: {exc}; check that the "
                              "image starts at all (`docker run --rm -it IMAGE sh`).") from exc
    if status.get("StatusCode") != 0:
        if status.get("StatusCode") in (126, 127):
            raise _no_python(image)
        raise ImageBuildError(f"python3 in {image} failed to report its version: "
                              f"{output[-300:]}; check the image's Python installation.")
    return output


def _no_python(image: str) -> ImageBuildError:
    return ImageBuildError(
        f"the image {image} has no python3, and devkit's runtime needs one: install "
        "python3 in its Dockerfile (e.g. `RUN apt-get install -y python3`) or build FROM "
        "devkit's base image."
    )


def _parse(image: str, output: str) -> ImageFacts:
    words = output.splitlines()[-1].split() if output else []
    if len(words) != 3:
        raise ImageBuildError(f"python3 in {image} answered {output[-200:]!r} instead of its "
                              "version; check the image's Python installation.")
    python, glibc, machine = words
    if glibc == "-":
        raise ImageBuildError(
            f"the image {image} has no glibc (musl, e.g. Alpine): devkit's wheelhouse holds "
            "manylinux wheels; use a Debian or Ubuntu based image instead."
        )
    return ImageFacts(python=python, glibc=glibc, machine=machine)


def _load() -> dict[str, dict[str, str]]:
    try:
        data = json.loads(facts_file().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(known: dict[str, dict[str, str]]) -> None:
    path = facts_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{id(known)}.tmp")
    partial.write_text(json.dumps(known, indent=1))
    partial.replace(path)
