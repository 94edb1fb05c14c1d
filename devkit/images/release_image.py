"""Release images: a deployment's environment image with its model and its code as two
layers on top, and pushing them to a registry.

In a cluster there are no bind mounts, so what ``up`` mounts read-only becomes two ``COPY``
layers at the same paths (CONTRACT.md §5). The model comes first and the code last: the
code is what changes most often, so a code-only change rebuilds and pushes one small layer
(every layer below is a build-cache hit and already in the registry). The tag is a hash of
the environment image id and the contents of both folders, so building is skipped when an
image with that tag exists, and the same release on any machine gets the same tag.

Pushes stream the daemon's progress into byte counts per layer; the registry's answer
carries the manifest digest every target then references (``repo:tag@sha256:...``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import docker
import docker.errors

from devkit.errors import RegistryError
from devkit.images.docker_build import docker_build, image_exists
from devkit.progress import Status, Throttle

Progress = Callable[[str], None]
RECIPE_VERSION = "1"
SKIPPED = frozenset({"__pycache__", ".git", ".venv", ".mypy_cache", ".pytest_cache"})
PROGRESS_STEP = 32 * 1024 * 1024  # report a layer's upload every 32 MiB


@dataclass(frozen=True)
class Layer:
    """One folder (or file) copied into the image at ``target``."""

    source: Path
    target: PurePosixPath


def content_hash(path: Path) -> str:
    """sha256 over every file's relative path, mode bit for execute, and bytes."""
    digest = hashlib.sha256()
    for file in _files(path):
        relative = file.relative_to(path).as_posix() if path.is_dir() else file.name
        digest.update(f"{relative}\0{os.access(file, os.X_OK)}\0".encode())
        digest.update(file.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def release_tag(repository: str, base_key: str, layers: list[Layer]) -> str:
    """``repository:<hash16>`` for this base (its content hash, or its image id) and these
    layer contents."""
    digest = hashlib.sha256(f"devkit-release/{RECIPE_VERSION}\0{base_key}\0".encode())
    for layer in layers:
        digest.update(f"{layer.target}\0{content_hash(layer.source)}\0".encode())
    return f"{repository}:{digest.hexdigest()[:16]}"


def ensure_release_image(client: docker.DockerClient, base: str, repository: str,
                         layers: list[Layer], labels: dict[str, str],
                         progress: Progress, base_hash: str | None = None) -> str:
    """The release image's tag, built on ``base`` when no image has it yet.

    ``base_hash`` is the environment's content hash when devkit built ``base``: the tag then
    follows the environment's content, not the image id, which changes whenever the same
    environment is built again (on another machine, or by a concurrent build here). A
    bring-your-own image has no such hash; its image id is used."""
    tag = release_tag(repository, base_hash or _image_id(client, base), layers)
    if image_exists(client, tag):
        progress(f"release image {tag} is up to date")
        return tag
    progress(f"building release image {tag} (model and code layers on {base})")
    with tempfile.TemporaryDirectory(prefix="devkit-release-") as scratch:
        context = Path(scratch)
        lines = [f"FROM {base}"]
        for index, layer in enumerate(layers):
            name = f"layer{index}"
            _copy(layer.source, context / name)
            lines.append(f"COPY {name} {layer.target}")
        (context / "Dockerfile").write_text("\n".join(lines) + "\n", encoding="utf-8")
        docker_build(client, context, tag, labels=labels, progress=progress,
                     what="release image")
    return tag


@dataclass
class PushResult:
    """What one push did: the manifest digest, and bytes uploaded vs already there."""

    reference: str  # repo:tag@sha256:...
    bytes_pushed: int = 0
    layers_pushed: int = 0
    layers_present: int = 0
    _sizes: dict[str, int] = field(default_factory=dict)
    _current: dict[str, int] = field(default_factory=dict)
    _started: float = field(default_factory=time.monotonic)
    _throttle: Throttle = field(default_factory=Throttle)


def push_image(client: docker.DockerClient, tag: str, progress: Progress) -> PushResult:
    """Push ``tag`` to the registry in its name; RegistryError naming it on refusal."""
    repository, _, version = tag.rpartition(":")
    result = PushResult(reference=tag)
    digest = ""
    reported: dict[str, int] = {}
    try:
        for message in client.api.push(repository, tag=version, stream=True, decode=True):
            if "error" in message:
                raise _refused(tag, str(message["error"]))
            digest = _digest(message) or digest
            _account(result, message, reported, progress, tag)
    except docker.errors.DockerException as exc:
        raise _refused(tag, str(exc)) from exc
    if not digest:
        raise _refused(tag, "the registry answered without a manifest digest")
    result.reference = f"{tag}@{digest}"
    progress(f"pushed {tag}: {_size(result.bytes_pushed)} in {result.layers_pushed} "
             f"layer(s), {result.layers_present} already there")
    return result


def registry_digest(client: docker.DockerClient, tag: str) -> str | None:
    """The digest the registry holds for ``tag``, or None when it has no such tag."""
    try:
        return str(client.images.get_registry_data(tag).id)
    except docker.errors.NotFound:
        return None
    except docker.errors.APIError as exc:
        if exc.status_code in (404, 500) and "not found" in str(exc).lower():
            return None
        raise _refused(tag, exc.explanation or str(exc)) from exc


def _account(result: PushResult, message: dict[str, Any], reported: dict[str, int],
             progress: Progress, tag: str) -> None:
    layer = str(message.get("id") or "")
    status = str(message.get("status") or "")
    detail = message.get("progressDetail") or {}
    if status == "Pushing" and detail.get("total"):
        result._sizes[layer] = int(detail["total"])
        current = int(detail.get("current") or 0)
        result._current[layer] = current
        if result._throttle.due():  # the whole push on one updating line
            took = time.monotonic() - result._started
            progress(Status(f"pushing {tag}: {_size(sum(result._current.values()))} of "
                            f"{_size(sum(result._sizes.values()))} in "
                            f"{len(result._sizes)} layer(s), {took:.0f} s"))
        if current - reported.get(layer, 0) >= PROGRESS_STEP:
            reported[layer] = current
            progress(f"pushing {tag}: layer {layer} {_size(current)} of "
                     f"{_size(int(detail['total']))}")
    elif status == "Pushed":
        result.layers_pushed += 1
        result.bytes_pushed += result._sizes.get(layer, 0)
        progress(f"pushing {tag}: layer {layer} pushed "
                 f"({_size(result._sizes.get(layer, 0))})")
    elif status in ("Layer already exists",) or status.startswith("Mounted from"):
        result.layers_present += 1


def _digest(message: dict[str, Any]) -> str | None:
    aux = message.get("aux") or {}
    value = aux.get("Digest") if isinstance(aux, dict) else None
    return str(value) if value else None


def _refused(tag: str, reason: str) -> RegistryError:
    registry = tag.split("/", 1)[0]
    return RegistryError(
        f"The registry {registry} refused image {tag} ({reason.strip()}); start it or fix "
        f"the target's `registry:` (plain HTTP works only on 127.0.0.1 unless the daemon "
        f"lists it in insecure-registries).")


def _image_id(client: docker.DockerClient, tag: str) -> str:
    try:
        return str(client.images.get(tag).id)
    except docker.errors.DockerException as exc:
        raise RegistryError(f"The image {tag} a release builds on is missing ({exc}); run "
                            f"`devkit up` once to build it.") from exc


def _files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
        return
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED)
        for name in sorted(names):
            if not name.endswith(".pyc"):
                yield Path(root) / name


def _copy(source: Path, destination: Path) -> None:
    """Copy keeping modification times, so an unchanged folder builds an identical layer."""
    if source.is_file():
        destination.mkdir(parents=True)
        shutil.copy2(source, destination / source.name)
        return
    shutil.copytree(source, destination,
                    ignore=lambda _dir, names: [n for n in names
                                                if n in SKIPPED or n.endswith(".pyc")])


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / 1024 / 1024:.1f} MiB"
    return f"{count / 1024:.1f} KiB"
