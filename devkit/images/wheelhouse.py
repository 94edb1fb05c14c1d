"""The wheelhouse: Python packages resolved on the host for an image's Python and platform.

Containers here (and in air-gapped companies) have no network, so pip never runs against an
index inside an image build. Instead ``pip download --only-binary=:all:`` runs on the host,
for the image's Python version and manylinux platform, into
``cache_dir()/wheelhouse/<cpXY>-<platform>/``; the build context gets the subset a
deployment needs and installs with ``--no-index``. A requirement set is remembered by a hash
of its sorted requirements, so resolving it again downloads nothing and runs no pip at all.

A *new* set (any edit of a conda file) is first resolved offline, by uv against the
wheelhouse alone, for the target's Python and platform (``uv pip compile --offline
--no-index --find-links``: a fraction of a second, where ``pip download`` takes 7–9 s on a
busy machine even when it downloads nothing); pip resolves against the index only when that
fails (a package, or a version, the wheelhouse lacks), when the set has pip options
(indexes, find-links), or before uv's binary was ever unpacked. So an unpinned requirement
gets the newest release *in the wheelhouse* when all of its set is there, the newest on the
index otherwise; pin it (or delete the wheelhouse) to move on.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.tags import compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from devkit.errors import ImageBuildError
from devkit.paths import cache_dir

Progress = Callable[[str], None]
# pip itself goes into every wheelhouse: images need no pip of their own (it runs from
# its wheel), so a base image with python3 alone is enough.
ALWAYS = ("pip",)
_SAVED = re.compile(r"^\s*(?:Saved|File was already downloaded)\s+(\S+\.whl)\s*$")
_NOT_FOUND = re.compile(r"No matching distribution found for (\S+)")


@dataclass(frozen=True)
class Target:
    """What the wheels must run on: an image's CPython version, glibc and machine."""

    python: str  # "3.11"
    machine: str = "x86_64"  # as `uname -m` says: x86_64 | aarch64
    glibc: str = "2.17"

    @property
    def python_tag(self) -> str:
        return "cp" + self.python.replace(".", "")

    @property
    def platform_tag(self) -> str:
        return f"manylinux_{self.glibc.replace('.', '_')}_{self.machine}"

    @property
    def key(self) -> str:
        return f"{self.python_tag}-{self.platform_tag}"

    def platforms(self) -> list[str]:
        """Every manylinux tag this glibc can run, newest first, legacy aliases last."""
        major, minor = (int(p) for p in self.glibc.split(".")[:2])
        floor = 5 if self.machine in ("x86_64", "i686") else 17
        tags = [f"manylinux_{major}_{m}_{self.machine}" for m in range(minor, floor - 1, -1)]
        legacy = {"manylinux2014": 17, "manylinux2010": 12, "manylinux1": 5}
        for name, needs in legacy.items():
            if minor >= needs and (self.machine == "x86_64" or name == "manylinux2014"):
                tags.append(f"{name}_{self.machine}")
        return tags


@dataclass(frozen=True)
class Resolution:
    """The wheels one requirement set needs, and what this call had to fetch for it."""

    directory: Path
    wheels: tuple[Path, ...]
    downloaded: tuple[str, ...]
    key: str


def wheelhouse_root() -> Path:
    return cache_dir() / "wheelhouse"


def requirements_key(requirements: Iterable[str], pip_options: Iterable[str] = ()) -> str:
    text = "\n".join(sorted(set(requirements))) + "\n--\n" + "\n".join(pip_options)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def resolve(requirements: Iterable[str], target: Target, *, pip_options: Iterable[str] = (),
            progress: Progress | None = None) -> Resolution:
    """Wheels for ``requirements`` (plus pip) on ``target``; cached by requirement hash."""
    say = progress or (lambda _line: None)
    wanted = sorted(set(requirements) | set(ALWAYS))
    options = list(pip_options)
    directory = wheelhouse_root() / target.key
    key = requirements_key(wanted, options)
    cached = _cached(directory, key)
    if cached is not None:
        say(f"wheelhouse: {len(cached)} wheels for {target.key} already resolved")
        return Resolution(directory, cached, (), key)
    directory.mkdir(parents=True, exist_ok=True)
    before = {p.name for p in directory.glob("*.whl")}
    started = time.monotonic()
    offline = None if options else _offline(wanted, target, directory)
    if offline is not None:
        say(f"wheelhouse: {len(offline)} wheels for {target.key} resolved offline from the "
            f"wheelhouse in {time.monotonic() - started:.1f} s")
        _remember(directory, key, wanted, offline)
        return Resolution(directory, tuple(offline), (), key)
    wheels = _pip_download(wanted, target, options, directory, say)
    downloaded = tuple(sorted(p.name for p in wheels if p.name not in before))
    megabytes = sum((directory / n).stat().st_size for n in downloaded) / 1e6
    say(f"wheelhouse: {len(wheels)} wheels for {target.key}, downloaded {len(downloaded)} "
        f"({megabytes:.1f} MB) in {time.monotonic() - started:.1f} s")
    _remember(directory, key, wanted, wheels)
    return Resolution(directory, tuple(wheels), downloaded, key)


def _cached(directory: Path, key: str) -> tuple[Path, ...] | None:
    manifest = directory / "sets" / f"{key}.json"
    try:
        names = json.loads(manifest.read_text())["wheels"]
    except (OSError, ValueError, KeyError):
        return None
    wheels = tuple(directory / name for name in names)
    return wheels if all(w.is_file() for w in wheels) else None


def _remember(directory: Path, key: str, wanted: list[str], wheels: list[Path]) -> None:
    sets = directory / "sets"
    sets.mkdir(exist_ok=True)
    record = {"requirements": wanted, "wheels": sorted(w.name for w in wheels)}
    partial = sets / f".{key}.json.tmp"
    partial.write_text(json.dumps(record, indent=1))
    partial.replace(sets / f"{key}.json")


def _offline(wanted: list[str], target: Target, directory: Path) -> list[Path] | None:
    """The wheels uv picks for ``wanted`` from ``directory`` alone, or None when it cannot
    (no uv unpacked yet, a wheel missing, a platform uv does not know, any failure)."""
    found = sorted(cache_dir().glob("uv/*/uv"))
    if not found:
        return None
    command = [str(found[-1]), "pip", "compile", "-", "--quiet", "--offline", "--no-index",
               "--find-links", str(directory), "--python-version", target.python,
               "--python-platform", f"{target.machine}-manylinux_{target.glibc.replace('.', '_')}",
               "--no-header", "--no-annotate"]
    env = {**os.environ, "UV_CACHE_DIR": str(cache_dir() / "uv-cache")}
    try:
        done = subprocess.run(command, input="\n".join(wanted) + "\n", capture_output=True,
                              text=True, env=env, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    wheels = []
    for line in done.stdout.splitlines():
        name, _, version = line.split(";", 1)[0].strip().partition("==")
        if not name or name.startswith("#"):
            continue
        wheel = _wheel_for(directory, name, version, target)
        if wheel is None:
            return None
        wheels.append(wheel)
    return sorted(wheels)


def _wheel_for(directory: Path, name: str, version: str, target: Target) -> Path | None:
    """The wheel of ``name==version`` in ``directory`` that runs on ``target``."""
    python = tuple(int(part) for part in target.python.split(".")[:2])
    supported = {*cpython_tags(python, platforms=target.platforms()),
                 *compatible_tags(python, platforms=target.platforms())}
    try:
        wanted = (canonicalize_name(name), Version(version))
    except InvalidVersion:
        return None
    for wheel in sorted(directory.glob("*.whl")):
        try:
            found, release, _, tags = parse_wheel_filename(wheel.name)
        except ValueError:
            continue
        if (found, release) == wanted and tags & supported:
            return wheel.resolve()
    return None


def _pip_download(wanted: list[str], target: Target, options: list[str], directory: Path,
                  say: Progress) -> list[Path]:
    command = [sys.executable, "-m", "pip", "download", "--only-binary=:all:",
               "--disable-pip-version-check", "--no-input", "--progress-bar", "off",
               "--python-version", target.python, "--implementation", "cp",
               *(arg for tag in target.platforms() for arg in ("--platform", tag)),
               "-d", str(directory), *options, *wanted]
    say(f"pip download for Python {target.python} on {target.platform_tag}: "
        f"{', '.join(wanted)}")
    output: list[str] = []
    wheels: list[Path] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace") as proc:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip()
            output.append(line)
            saved = _SAVED.match(line)
            if saved:
                wheels.append(Path(saved.group(1)).resolve())
            elif line.lstrip().startswith(("Collecting", "Downloading")):
                say("  " + line.strip())
    if proc.returncode != 0:
        raise _download_error(output, target)
    return sorted(set(wheels))


def _download_error(output: list[str], target: Target) -> ImageBuildError:
    text = "\n".join(output)
    missing = _NOT_FOUND.search(text)
    where = f"Python {target.python} on {target.platform_tag}"
    if missing:
        return ImageBuildError(
            f"no wheel of '{missing.group(1)}' exists for {where}: pin a version that "
            "publishes wheels for it, use a base image with another Python, or use a "
            "'build:' environment with your own Dockerfile."
        )
    last = " | ".join(line.strip() for line in output[-4:] if line.strip())
    return ImageBuildError(
        f"resolving the wheelhouse for {where} failed: {last}; check that the package "
        "index is reachable (pip's own configuration and proxy settings apply)."
    )
