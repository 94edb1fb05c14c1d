"""devkit's base image: Debian + Python 3 built from Debian packages, for machines that
cannot pull one (no registry, air-gapped, behind a proxy).

``devkit base-image`` runs ``debootstrap --variant=minbase`` into a scratch folder and
streams a tar of it into ``docker import``. Which base image devkit builds on is
configurable (``DEVKIT_BASE_IMAGE``); when it is missing and cannot be pulled,
:func:`missing_base_image_error` names the command that makes it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import docker
import docker.errors

from devkit.errors import ImageBuildError
from devkit.images.mirror import host_mirror

DEFAULT_BASE_IMAGE = "devkit/base:bookworm"
BASE_LABEL = "devkit.base"
# What the image was built with, so a machine can tell an image older than the package list
# (`.ci/run` rebuilds such an image; `devkit doctor` could say so).
PACKAGES_LABEL = "devkit.base.packages"
# libgomp1: the OpenMP runtime LightGBM's wheels link and do not bundle (Azure's images have it)
FULL_PACKAGES = ("python3", "python3-venv", "python3-pip", "ca-certificates", "libgomp1")
# devkit installs pip from the wheelhouse, so python3 alone is enough to build on.
PYTHON_ONLY_PACKAGES = ("python3", "ca-certificates")
SBIN_PATH = "/usr/local/sbin:/usr/sbin:/sbin"

Progress = Callable[[str], None]
# debootstrap alternates these per package; they are one stage for the user.
_STAGE_ALIASES = {"Validating": "Retrieving", "Retrieving": "Retrieving"}


def base_image_tag() -> str:
    """The base image devkit builds on: ``DEVKIT_BASE_IMAGE`` or ``devkit/base:bookworm``."""
    return os.environ.get("DEVKIT_BASE_IMAGE") or DEFAULT_BASE_IMAGE


def missing_base_image_error(tag: str | None = None) -> ImageBuildError:
    tag = tag or base_image_tag()
    return ImageBuildError(
        f"the base image {tag} is not present and cannot be pulled: build it with "
        f"`devkit base-image --tag {tag}` (or set DEVKIT_BASE_IMAGE to an image you have)."
    )


def ensure_base_image(client: docker.DockerClient, tag: str | None = None) -> str:
    """Return the configured base image's tag, pulling it if needed, or raise the error
    that names ``devkit base-image``."""
    tag = tag or base_image_tag()
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    try:
        client.images.pull(tag)
    except docker.errors.DockerException as exc:
        raise missing_base_image_error(tag) from exc
    return tag


@dataclass(frozen=True)
class BaseImageOptions:
    tag: str = DEFAULT_BASE_IMAGE
    suite: str = "bookworm"
    mirror: str | None = None  # None: the mirror the host's apt uses
    python_only: bool = False

    @property
    def packages(self) -> tuple[str, ...]:
        return PYTHON_ONLY_PACKAGES if self.python_only else FULL_PACKAGES


@dataclass(frozen=True)
class BaseImageResult:
    tag: str
    image_id: str
    rootfs_mb: float
    debootstrap_s: float
    import_s: float


def find_debootstrap(search_path: str | None = None) -> str:
    """debootstrap's path; root's sbin folders are searched even when PATH lacks them."""
    path = search_path if search_path is not None else f"{os.environ.get('PATH', '')}:{SBIN_PATH}"
    found = shutil.which("debootstrap", path=path)
    if found is None:
        raise ImageBuildError(
            "debootstrap is not installed, and `devkit base-image` needs it to build a Debian "
            "root file system: install it with `apt-get install debootstrap`."
        )
    return found


def require_root(euid: int | None = None) -> None:
    euid = os.geteuid() if euid is None else euid
    if euid != 0:
        raise ImageBuildError(
            "`devkit base-image` must run as root, because debootstrap creates device nodes "
            "and chroots into the new system: rerun it with sudo."
        )


def preflight() -> str:
    """Fail early (before any Docker call) when this host cannot debootstrap; returns
    debootstrap's path."""
    debootstrap = find_debootstrap()
    require_root()
    return debootstrap


def build_base_image(client: docker.DockerClient, options: BaseImageOptions,
                     progress: Progress | None = None) -> BaseImageResult:
    """debootstrap a minimal Debian with Python 3, then import it as ``options.tag``."""
    say = progress or (lambda _line: None)
    debootstrap = preflight()
    mirror = options.mirror or host_mirror(options.suite)
    with tempfile.TemporaryDirectory(prefix="devkit-base-") as scratch:
        rootfs = Path(scratch) / "rootfs"
        started = time.monotonic()
        _run_debootstrap(debootstrap, options, mirror, rootfs, say)
        debootstrap_s = time.monotonic() - started
        _trim_rootfs(rootfs)
        size_mb = _tree_size(rootfs) / 1e6
        say(f"root file system: {size_mb:.0f} MB after {debootstrap_s:.0f} s")
        started = time.monotonic()
        image_id = _import_rootfs(client, rootfs, options, say)
        import_s = time.monotonic() - started
    say(f"imported {options.tag} ({image_id[:19]}) in {import_s:.1f} s")
    return BaseImageResult(options.tag, image_id, size_mb, debootstrap_s, import_s)


def _run_debootstrap(debootstrap: str, options: BaseImageOptions, mirror: str,
                     rootfs: Path, say: Progress) -> None:
    command = [debootstrap, "--variant=minbase", f"--include={','.join(options.packages)}",
               options.suite, str(rootfs), mirror]
    say(f"debootstrap {options.suite} from {mirror} with {', '.join(options.packages)}")
    tail: list[str] = []
    started = time.monotonic()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace") as proc:
        assert proc.stdout is not None
        for line in _stage_lines(proc.stdout, tail, started):
            say(line)
    if proc.returncode != 0:
        last = " | ".join(tail[-5:])
        raise ImageBuildError(
            f"debootstrap {options.suite} from {mirror} failed (exit {proc.returncode}): "
            f"{last}; check the mirror with --mirror URL and that the host can reach it."
        )


def _stage_lines(stream: Iterable[str], tail: list[str],
                 started: float) -> Iterator[str]:
    """debootstrap prints one line per package; report only when its stage changes."""
    stage = ""
    count = 0
    for raw in stream:
        line = str(raw).rstrip()
        tail.append(line)
        del tail[:-20]
        if not line.startswith(("I: ", "W: ", "E: ")):
            continue
        words = line[3:].split()
        current = _STAGE_ALIASES.get(words[0], words[0]) if words else ""
        if current == stage:
            count += 1
            continue
        if count > 1:
            yield f"  ... {count} lines of {stage}"
        stage, count = current, 1
        yield f"[{time.monotonic() - started:5.1f} s] {line}"


def _trim_rootfs(rootfs: Path) -> None:
    """Drop apt's caches and lists: the image never runs apt offline anyway."""
    for sub in ("var/cache/apt/archives", "var/lib/apt/lists"):
        folder = rootfs / sub
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            if entry.is_file() and entry.name != "lock":
                entry.unlink()


def _tree_size(root: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            if not path.is_symlink():
                total += path.stat().st_size
    return total


def _import_rootfs(client: docker.DockerClient, rootfs: Path, options: BaseImageOptions,
                   say: Progress) -> str:
    changes = [
        'CMD ["python3"]',
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "ENV LANG=C.UTF-8",
        "ENV PYTHONUNBUFFERED=1",
        f"LABEL {BASE_LABEL}=1 devkit.base.suite={options.suite} "
        f"{PACKAGES_LABEL}={','.join(options.packages)}",
    ]
    repository, _, tag = options.tag.rpartition(":")
    if not repository or "/" in tag:
        repository, tag = options.tag, "latest"
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", "-", "."],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert tar.stdout is not None
    try:
        chunks = _counted_chunks(tar.stdout, say)
        answer = client.api.import_image(src=chunks, repository=repository, tag=tag,
                                         changes=changes, stream_src=True)
    except docker.errors.DockerException as exc:
        raise ImageBuildError(
            f"docker import of the base image {options.tag} failed: {exc}; check that the "
            "Docker engine answers (`devkit doctor`) and has free disk space."
        ) from exc
    finally:
        tar.stdout.close()
        tar.wait()
    if tar.returncode != 0:
        message = tar.stderr.read().decode(errors="replace") if tar.stderr else ""
        raise ImageBuildError(f"tar of the base image's root file system failed: {message}")
    return _imported_id(client, options.tag, answer)


def _counted_chunks(stream: IO[bytes], say: Progress) -> Iterator[bytes]:
    sent = 0
    reported = 0
    while True:
        chunk = stream.read(1 << 20)
        if not chunk:
            break
        sent += len(chunk)
        if sent - reported >= 50_000_000:
            reported = sent
            say(f"importing: {sent / 1e6:.0f} MB sent")
        yield chunk


def _imported_id(client: docker.DockerClient, tag: str, answer: object) -> str:
    try:
        return str(client.images.get(tag).id)
    except docker.errors.ImageNotFound as exc:
        raise ImageBuildError(
            f"docker import did not produce {tag} (engine said: {answer!s:.300}); "
            "rerun `devkit base-image` and check the engine's log."
        ) from exc
