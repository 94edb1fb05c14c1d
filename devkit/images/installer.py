"""How an environment image installs its wheels: ``uv`` in layers, or pip as before.

A new environment used to spend most of its build in pip (one process unpacking and
byte-compiling every wheel in turn) and in the multi-stage ``COPY --from`` that kept the
wheels out of the final image (the whole venv copied once more into a new layer). This
module writes the install part of the generated Dockerfile instead:

* ``uv`` (a static binary shipped in a wheel) installs from the wheelhouse, offline, many
  times faster than pip. Its wheel is resolved into the wheelhouse like any
  package and the binary is unpacked on the host (:func:`uv_binary`), so builds still reach
  no network.
* Bytecode is compiled at install (uv's ``--compile-bytecode``, parallel): measured against
  ``compileall -j0`` skipping the packages' test suites, it takes the same time
  (``bench/shared_layer.py``), and every replica start would otherwise compile what it
  imports. The smoke import runs in the install's own ``RUN`` (one container and one layer
  commit fewer than a step of its own).
* Two images, in an order that Docker's layer cache can reuse: the *shared* image (the uv
  binary, then the venv with the big wheels, numpy, scipy, scikit-learn..., installed
  ``--no-deps``: :func:`shared_steps`, :mod:`devkit.images.shared_image`), then the
  environment FROM it, installing the rest with the requirements (:func:`uv_steps`).
  Adding a small package to a conda file changes only the environment's build, so the big
  packages are not installed again, nor sent to the engine again in the build context.
  The wheels are deleted in the same ``RUN`` that installs them; their ``COPY`` layers stay
  in the image's history (shared by every image with the same wheel set), which is the price
  of the classic builder (docker-py's) having no bind mounts.

``DEVKIT_INSTALLER=pip`` selects the previous two-stage pip build (kept for the cold-path
benchmark, ``bench/cold_env.py``, and as the fallback when no uv wheel can be had).
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from devkit.errors import ImageBuildError
from devkit.images.wheelhouse import Progress, Target, resolve
from devkit.paths import cache_dir

INSTALLER_ENV = "DEVKIT_INSTALLER"
UV_REQUIREMENT = "uv"
# A wheel at least this big goes into the shared layer: the set that decides the build time
# (numpy, scipy, scikit-learn, pandas) is stable when a small package is added.
SHARED_BYTES = 2_000_000
UV_IN_IMAGE = "/opt/devkit/bin/uv"


@dataclass(frozen=True)
class Installer:
    """Which installer a build uses; ``uv`` is the unpacked binary (None: pip)."""

    uv: Path | None

    @property
    def name(self) -> str:
        return "uv" if self.uv else "pip"


def choose_installer(target: Target, progress: Progress) -> tuple[Installer, str | None]:
    """uv unless ``DEVKIT_INSTALLER=pip`` or no uv wheel can be had; the second item is a
    one-line notice when uv was wanted but is unavailable."""
    if os.environ.get(INSTALLER_ENV, "uv").strip().lower() == "pip":
        return Installer(None), None
    try:
        return Installer(uv_binary(target, progress)), None
    except ImageBuildError as exc:
        return Installer(None), f"uv is unavailable ({exc}); installing with pip (slower)."


def uv_binary(target: Target, progress: Progress) -> Path:
    """uv's binary for ``target``, from its wheel in the wheelhouse, unpacked once into
    devkit's cache (``uv/<wheel name>/uv``)."""
    resolution = resolve([UV_REQUIREMENT], target, progress=progress)
    wheel = next((w for w in resolution.wheels if w.name.startswith("uv-")), None)
    if wheel is None:
        raise ImageBuildError(f"the wheelhouse {resolution.directory} has no uv wheel; "
                              "delete that folder and rerun to resolve it again.")
    binary = cache_dir() / "uv" / wheel.stem / "uv"
    if not binary.is_file():
        _unpack(wheel, binary)
    return binary


def _unpack(wheel: Path, binary: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        member = next((n for n in archive.namelist() if n.endswith(".data/scripts/uv")), None)
        if member is None:
            raise ImageBuildError(f"{wheel} holds no uv binary (.data/scripts/uv); delete it "
                                  "from the wheelhouse and rerun.")
        binary.parent.mkdir(parents=True, exist_ok=True)
        partial = binary.with_suffix(".partial")
        partial.write_bytes(archive.read(member))
    partial.chmod(0o755)
    partial.replace(binary)


def runtime_closure(wheels: list[Path], roots: list[str], target: Target) -> list[Path]:
    """The wheels among ``wheels`` that ``roots`` (devkit's runtime requirements) need, with
    their dependencies on ``target``, by the wheels' own metadata, in name order. Those
    depend on no environment (unless it pins another version: then that wheel is not
    among ``wheels``' matches and stays with the environment), so they join the shared
    image. A wrong guess here moves a wheel between layers, never changes what is installed:
    the environment's install still resolves its whole requirement set."""
    by_name = {canonicalize_name(w.name.split("-", 1)[0]): w for w in wheels}
    environment = {"python_version": target.python, "python_full_version": f"{target.python}.0",
                   "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
                   "platform_machine": target.machine, "implementation_name": "cpython",
                   "platform_python_implementation": "CPython", "extra": ""}
    wanted = [Requirement(text) for text in roots]
    found: dict[str, Path] = {}
    while wanted:
        requirement = wanted.pop()
        name = canonicalize_name(requirement.name)
        if name in found or name not in by_name or not _applies(requirement, environment):
            continue
        found[name] = by_name[name]
        wanted += _requires(by_name[name])
    return sorted(found.values(), key=lambda w: w.name)


def _applies(requirement: Requirement, environment: dict[str, str]) -> bool:
    if requirement.marker is None:
        return True
    try:
        return requirement.marker.evaluate(environment)
    except (UndefinedComparison, UndefinedEnvironmentName):
        return True  # an odd marker: which layer holds the wheel is only a cache matter


def _requires(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as archive:
        member = next((n for n in archive.namelist()
                       if n.endswith(".dist-info/METADATA") and n.count("/") == 1), None)
        text = archive.read(member).decode("utf-8", "replace") if member else ""
    found = []
    for line in text.split("\n\n", 1)[0].splitlines():
        if line.startswith("Requires-Dist:"):
            try:
                found.append(Requirement(line.split(":", 1)[1].strip()))
            except InvalidRequirement:
                continue
    return found


def split_shared(wheels: list[Path]) -> tuple[list[Path], list[Path]]:
    """(shared, rest): the big wheels first, in name order so the layer's key is stable."""
    shared = sorted((w for w in wheels if w.stat().st_size >= SHARED_BYTES),
                    key=lambda w: w.name)
    rest = sorted((w for w in wheels if w.stat().st_size < SHARED_BYTES),
                  key=lambda w: w.name)
    return shared, rest


UV_VENV = """\
FROM {base}
COPY uv {uv}
COPY shared /opt/devkit/shared
RUN {uv} venv --quiet --system-site-packages --python "$(command -v python3)" {venv} \\
"""
UV_SHARED = """\
 && {uv} pip install --python {venv}/bin/python --offline --no-index --no-deps \\
    --no-cache --compile-bytecode {wheels} \\
"""
UV_SHARED_END = """\
 && rm -rf /opt/devkit/shared
"""
UV_REST = """\
FROM {shared_image}
COPY wheels /opt/devkit/wheels
RUN {uv} pip install --python {venv}/bin/python --offline --no-index --no-cache \\
    --compile-bytecode --find-links /opt/devkit/wheels -r /opt/devkit/wheels/requirements.txt \\
 && rm -rf /opt/devkit/wheels{smoke}
"""


UV_RUNTIME = """\
COPY runtime /opt/devkit/runtime
RUN {uv} pip install --python {venv}/bin/python --offline --no-index --no-deps \\
    --no-cache --compile-bytecode {runtime} \\
 && rm -rf /opt/devkit/runtime
"""


def shared_steps(base: str, venv: str, shared: list[Path],
                 runtime: list[Path] | None = None) -> str:
    """The install steps of the shared image (:mod:`devkit.images.shared_image`; its context
    has ``uv``, ``shared/`` and ``runtime/``): the venv and the big wheels in one layer (the
    one that takes time), then the runtime's dependencies (:func:`runtime_closure`)."""
    wheels = " ".join(f"/opt/devkit/shared/{w.name}" for w in shared)
    steps = UV_VENV + (UV_SHARED if shared else "") + UV_SHARED_END
    steps += UV_RUNTIME if runtime else ""
    return steps.format(base=base, uv=UV_IN_IMAGE, venv=venv, wheels=wheels,
                        runtime=" ".join(f"/opt/devkit/runtime/{w.name}"
                                         for w in runtime or ()))


def uv_steps(shared_image: str, venv: str, smoke: str = "") -> str:
    """The install steps of an environment (its context has ``wheels/``) on its shared
    image: the rest of the wheels with the requirements, ending with the ``smoke`` command
    (:func:`devkit.images.smoke.smoke_command`) when there is one."""
    return UV_REST.format(shared_image=shared_image, uv=UV_IN_IMAGE, venv=venv,
                          smoke=f" \\\n && {smoke}" if smoke else "")
