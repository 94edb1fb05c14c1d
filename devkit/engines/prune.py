"""What ``devkit prune`` may remove: things devkit made that no running endpoint uses.

* images: environment images (``devkit-env:*``, label ``devkit.managed=1``, their wheel
  stages included), the shared images they build on (``devkit-shared:*``: listed after
  them, and kept while an image in use builds on them) and release images
  (``devkit.role=release-image``) that no container uses, running or stopped; never the
  base image (label ``devkit.base`` or the name :func:`~devkit.images.base.base_image_tag`
  gives);
* networks devkit created (label ``devkit.endpoint``) with no container attached;
* process-engine state folders (``<state>/endpoints/NAME`` with a ``process.json``) of
  endpoints none of whose processes runs and that no Docker container belongs to;
* process-engine venvs (``<cache>/venvs/HASH``) no running process-engine deployment uses.

The wheelhouse is left alone: it is a cache keyed by requirement sets, and which wheels a
later build of any spec on this machine needs cannot be known from what runs now.

:func:`find` only looks; :func:`remove` deletes what it found, item by item, and says
which could not go (Docker refuses an image another image builds on, say).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devkit.engines.process import state as ps
from devkit.paths import cache_dir

WHEELHOUSE_NOTE = ("the wheelhouse was left alone: which wheels a later build needs cannot "
                   "be known from what runs now")


@dataclass(frozen=True)
class Item:
    kind: str  # "image" | "network" | "state" | "venv"
    name: str  # image tag (or id), network name, folder path
    size: int  # bytes (0 for a network)
    ident: str = ""  # Docker id, when it is a Docker object

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "size": self.size}


@dataclass(frozen=True)
class Found:
    items: tuple[Item, ...]
    notes: tuple[str, ...]  # what was not looked at, and why


def find(client: Any | None, label: str | None = None) -> Found:
    """Everything prunable now. ``client`` is a Docker client (None: Docker is skipped and
    so are state folders a Docker endpoint might own); ``label`` (``KEY=VALUE``) narrows
    the Docker objects to those carrying it (tests use it on a shared engine)."""
    notes = [WHEELHOUSE_NOTE]
    items: list[Item] = []
    docker_endpoints: set[str] | None = None
    if client is None:
        notes.append("Docker does not answer: images and networks were not looked at")
    else:
        containers = client.containers.list(all=True)
        items += _images(client, containers, label)
        items += _networks(client, label)
        docker_endpoints = {c.labels.get("devkit.endpoint", "") for c in containers}
    running_venvs: set[str] = set()
    for name in ps.names():
        current = ps.load(name)
        if current is None:
            continue
        records: list[ps.ReplicaRecord | ps.RouterRecord] = [
            r for d in current.deployments.values() for r in d.replicas]
        if current.router is not None:
            records.append(current.router)
        alive = any(r.alive() or ps.tagged(r.tag) for r in records)
        if alive:
            running_venvs.update(d.venv for d in current.deployments.values())
        elif docker_endpoints is not None and name not in docker_endpoints:
            folder = ps.state_path(name).parent
            items.append(Item("state", str(folder), _size(folder)))
    venvs = cache_dir() / "venvs"
    running_venvs |= _venvs_in_use(venvs)  # by endpoints of other state folders too
    for venv in sorted(venvs.iterdir()) if venvs.is_dir() else ():
        if venv.is_dir() and str(venv) not in running_venvs:
            items.append(Item("venv", str(venv), _size(venv)))
    return Found(tuple(items), tuple(notes))


def remove(client: Any | None, items: Iterable[Item]) -> list[str]:
    """Delete ``items``; one sentence per item that could not be removed."""
    failures = []
    for item in items:
        try:
            if item.kind in ("image", "network") and client is None:
                raise RuntimeError("Docker does not answer")
            if item.kind == "image":
                assert client is not None
                client.images.remove(item.ident)
            elif item.kind == "network":
                assert client is not None
                client.networks.get(item.ident).remove()
            else:
                shutil.rmtree(item.name)
        except Exception as exc:  # docker.errors.APIError, OSError: reported, not fatal
            failures.append(f"{item.kind} {item.name} was kept: {_short(exc)}")
    return failures


def _images(client: Any, containers: list[Any], label: str | None) -> list[Item]:
    from devkit.images.base import BASE_LABEL, base_image_tag
    from devkit.images.shared_image import SHARED_HASH_LABEL, SHARED_ROLE

    used = {c.attrs.get("Image", "") for c in containers}
    base = base_image_tag()
    found: dict[str, Item] = {}
    shared: dict[str, tuple[Item, str]] = {}  # id: (item, its shared hash)
    held: set[str] = set()  # shared images an image in use builds on (its label is inherited)
    for selector in ("devkit.managed=1", "devkit.role=release-image"):
        labels = [selector] + ([label] if label else [])
        for image in client.images.list(filters={"label": labels}):
            tags = list(image.tags)
            own = image.labels or {}
            # Derived images inherit the base's label, set to "0": only "1" is the base.
            is_base = own.get(BASE_LABEL) == "1" or base in tags
            if image.id in used and own.get(SHARED_HASH_LABEL):
                held.add(own[SHARED_HASH_LABEL])
            if image.id in used or is_base or image.id in found or image.id in shared:
                continue
            item = Item("image", tags[0] if tags else image.short_id,
                        int(image.attrs.get("Size") or 0), image.id)
            if own.get("devkit.role") == SHARED_ROLE:
                shared[image.id] = (item, own.get(SHARED_HASH_LABEL, ""))
            else:
                found[image.id] = item
    # Last: Docker refuses to remove an image while another one builds on it.
    return [*found.values(), *(item for item, key in shared.values() if key not in held)]


def _networks(client: Any, label: str | None) -> list[Item]:
    labels = ["devkit.endpoint"] + ([label] if label else [])
    found = []
    for network in client.networks.list(filters={"label": labels}):
        network.reload()  # list() leaves out the attached containers
        if not network.attrs.get("Containers"):
            found.append(Item("network", network.name, 0, network.id))
    return found


def _venvs_in_use(venvs: Path) -> set[str]:
    """Venvs some live process runs from (its command line names ``venvs/HASH/...``)."""
    prefix = str(venvs) + "/"
    found = set()
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        for arg in argv[:2]:
            text = arg.decode(errors="replace")
            if text.startswith(prefix):
                found.add(prefix + text[len(prefix):].split("/", 1)[0])
    return found


def _size(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
        except OSError:
            continue
    return total


def _short(exc: Exception) -> str:
    text = getattr(exc, "explanation", None) or str(exc)
    return str(text).splitlines()[0] if text else type(exc).__name__


def human(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"
