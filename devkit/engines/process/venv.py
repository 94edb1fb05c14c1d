"""One virtual environment per environment hash, for the process engine.

The venv lives in ``cache_dir()/venvs/<hash>`` and holds the conda file's pip packages
(read by :mod:`devkit.images.conda`, the same parser the image builds use) plus devkit's
runtime. It is isolated from devkit's own interpreter on purpose (no
``--system-site-packages``): the deployment must see its own package versions, as it
would in its image. The hash covers what decides the venv's content — the requirements,
pip options, the host Python and the runtime's version — so an unchanged environment is
reused and a changed one gets a fresh venv beside the old.

The packages are resolved as an image's are (:func:`devkit.images.abi.resolve_compatible`
for the host's Python and platform, so numpy's ABI rule adds the same ``numpy<2``), pip
installs them preferring those wheels, and the environment's packages are smoke-imported
(:func:`devkit.images.smoke.check_venv`): a clash fails ``up`` with its sentence instead of
starting a replica that cannot import them.

The venv is made and filled by uv when its wheel can be had (the binary the image builds
use, :func:`devkit.images.installer.uv_binary`): ``uv venv`` (no ensurepip), then the exact
wheels the wheelhouse resolved, installed ``--offline --no-deps`` through uv's cache under
``cache_dir()/uv-cache``, which hardlinks files into the venv, so a package shared by two
environments is unpacked once. No bytecode is compiled up front: the smoke import compiles
what it imports and Python writes the rest on first use (the venv is the user's own,
writable folder). The runtime joins as a ``.pth`` line to its source (what an editable
install amounts to). ``DEVKIT_INSTALLER=pip``, or no uv wheel, keeps the previous path
(``ensurepip`` and ``pip install``).

A venv is complete only when its marker file exists: an interrupted install is retried
from scratch rather than half-used. A ``python=`` pin the host cannot honour is said when
the venv is made, once, with the Python that runs instead.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

from devkit.engines.base import Progress
from devkit.errors import ImageBuildError
from devkit.images.installer import INSTALLER_ENV, uv_binary
from devkit.images.runtime_wheel import (
    runtime_source,
    runtime_version,
    runtime_wheel,
    wheel_requirements,
)
from devkit.images.smoke import check_venv, distribution_names
from devkit.images.wheelhouse import Target
from devkit.paths import cache_dir
from devkit.spec.model import DeploymentSpec

MARKER = ".devkit-complete"
# The runtime's extras in every venv: debugpy (`devkit debug`), watchdog (hot reload).
RUNTIME_EXTRAS = "debug,watch"
EXTRA_PACKAGES = ("debugpy>=1.8", "watchdog>=4")  # the same, as requirements (uv path)


@dataclass(frozen=True)
class Venv:
    path: Path
    env_hash: str

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"


@dataclass(frozen=True)
class Requirements:
    packages: tuple[str, ...]
    pip_options: tuple[str, ...]
    notices: tuple[str, ...]
    source: Path | None = None  # the file the packages were read from


def requirements_of(deployment: DeploymentSpec) -> Requirements:
    from devkit.images.mlflow_env import conda_environment

    env = conda_environment(deployment)
    if env is None:
        return Requirements((), (), ())
    conda_file = env.path
    notices = list(env.notices)
    host = ".".join(map(str, sys.version_info[:3]))
    if env.python is not None and not env.python.allows(host):
        notices.append(f"{conda_file}:{env.python.line}: asks for python {env.python.spec} but "
                       f"the process engine runs the host's python {host}; use the docker "
                       "engine for the exact version")
    return Requirements(env.requirements, env.pip_options, tuple(notices), env.path)


def venv_hash(reqs: Requirements) -> str:
    source = runtime_source()
    # The runtime's own dependencies are part of the venv: a runtime that gained one
    # (werkzeug) must not reuse a venv built without it.
    project = (source / "pyproject.toml").read_text(encoding="utf-8") if source else ""
    digest = hashlib.sha256()
    for part in (*reqs.packages, "--", *reqs.pip_options, "--", sys.version,
                 runtime_version(), str(source), project, RUNTIME_EXTRAS):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:16]


def ensure_venv(deployment: DeploymentSpec, progress: Progress) -> Venv:
    """The deployment's venv, created, filled and smoke-imported if missing."""
    reqs = requirements_of(deployment)
    env_hash = venv_hash(reqs)
    target = Venv(cache_dir() / "venvs" / env_hash, env_hash)
    if (target.path / MARKER).is_file():
        return target
    for notice in reqs.notices:
        progress(f"{deployment.name}: {notice}")
    progress(f"{deployment.name}: creating venv {target.path} (once per environment)")
    shutil.rmtree(target.path, ignore_errors=True)
    uv = _uv(progress)
    if uv is not None:
        _uv_fill(target, deployment, reqs, uv, progress)
    else:
        venv.EnvBuilder(with_pip=True, clear=True).create(target.path)
        packages = _compatible(deployment, reqs, progress)
        _pip(target, deployment, [*_runtime_args(), *reqs.pip_options, *packages], progress)
    try:
        check_venv(target.python, distribution_names(reqs.packages),
                   f"venv of deployment '{deployment.name}' ({reqs.source or deployment.source})")
    except ImageBuildError:
        shutil.rmtree(target.path, ignore_errors=True)
        raise
    (target.path / MARKER).write_text(env_hash + "\n", encoding="utf-8")
    return target


def _compatible(deployment: DeploymentSpec, reqs: Requirements,
                progress: Progress) -> list[str]:
    """The packages plus the pins numpy's ABI rule adds, and ``--find-links`` to the wheels
    resolved for this host, so pip installs what was checked."""
    if not reqs.packages:
        return []
    from devkit.images.abi import resolve_compatible

    compatible = resolve_compatible(reqs.packages, host_target(), pip_options=reqs.pip_options,
                                    progress=lambda line: progress(f"{deployment.name}: {line}"))
    for notice in compatible.notices:
        progress(f"{deployment.name}: notice: {notice}")
    return ["--find-links", str(compatible.resolution.directory), *reqs.packages,
            *compatible.pins]


def _uv(progress: Progress) -> Path | None:
    """uv's binary for this host, or None for the pip path (asked for, or no uv wheel)."""
    if os.environ.get(INSTALLER_ENV, "uv").strip().lower() == "pip":
        return None
    try:
        return uv_binary(host_target(), progress)
    except ImageBuildError as exc:
        progress(f"notice: uv is unavailable ({exc}); making the venv with pip (slower)")
        return None


def _uv_fill(target: Venv, deployment: DeploymentSpec, reqs: Requirements, uv: Path,
             progress: Progress) -> None:
    """``uv venv``, then the resolved wheels (the environment's, the runtime's
    dependencies, its extras) linked in from uv's cache, then the runtime itself."""
    from devkit.images.abi import resolve_compatible

    source = runtime_source()
    wheel = None if source is not None else runtime_wheel()
    runtime_deps = wheel_requirements(wheel or runtime_wheel())

    def say(line: str) -> None:
        progress(f"{deployment.name}: {line}")

    compatible = resolve_compatible([*reqs.packages, *runtime_deps, *EXTRA_PACKAGES],
                                    host_target(), pip_options=reqs.pip_options, progress=say)
    for notice in compatible.notices:
        say(f"notice: {notice}")
    wheels = [str(w) for w in compatible.resolution.wheels]
    if wheel is not None:
        wheels.append(str(wheel))
    env = {**os.environ, "UV_CACHE_DIR": str(cache_dir() / "uv-cache")}
    _run_uv(target, deployment, [str(uv), "venv", "--quiet", "--python", sys.executable,
                                 str(target.path)], env)
    say(f"uv: installing {len(wheels)} wheels")
    _run_uv(target, deployment, [str(uv), "pip", "install", "--quiet", "--python",
                                 str(target.python), "--offline", "--no-index", "--no-deps",
                                 *wheels], env)
    if source is not None:  # editable, so runtime fixes reach existing venvs
        purelib = subprocess.run([str(target.python), "-c",
                                  "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        Path(purelib, "devkit_runtime_source.pth").write_text(f"{source}\n", encoding="utf-8")


def _run_uv(target: Venv, deployment: DeploymentSpec, command: list[str],
            env: dict[str, str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        shutil.rmtree(target.path, ignore_errors=True)
        where = requirements_of(deployment).source or deployment.source
        output = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise ImageBuildError(
            f"Installing the environment of deployment '{deployment.name}' ({where}) with uv "
            f"failed; fix the package named in uv's output and run `devkit up` again (or set "
            f"{INSTALLER_ENV}=pip):\n{output}")


def host_target() -> Target:
    """This interpreter's Python, machine and glibc, as a wheelhouse target."""
    glibc = platform.libc_ver()[1] or "2.17"
    return Target(python=f"{sys.version_info[0]}.{sys.version_info[1]}",
                  machine=platform.machine(), glibc=".".join(glibc.split(".")[:2]))


def _runtime_args() -> list[str]:
    source = runtime_source()
    if source is not None:
        # Editable, so runtime fixes reach existing venvs without a rebuild.
        return ["-e", f"{source}[{RUNTIME_EXTRAS}]"]
    return [f"devkit-runtime[{RUNTIME_EXTRAS}]=={runtime_version()}"]


def _pip(target: Venv, deployment: DeploymentSpec, args: list[str], progress: Progress) -> None:
    command = [str(target.python), "-m", "pip", "install", "--disable-pip-version-check",
               "--progress-bar", "off", *args]
    progress(f"{deployment.name}: pip install {' '.join(args)}")
    tail: list[str] = []
    # ``with`` closes the pipe: left to the garbage collector it warns (ResourceWarning).
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            tail = (tail + [line.rstrip()])[-20:]
            if line.startswith(("Collecting", "Successfully", "ERROR")):
                progress(f"{deployment.name}: {line.rstrip()}")
    if proc.returncode != 0:
        shutil.rmtree(target.path, ignore_errors=True)
        where = requirements_of(deployment).source or deployment.source
        output = "\n".join(tail)
        raise ImageBuildError(
            f"Installing the environment of deployment '{deployment.name}' ({where}) failed; "
            f"fix the package named in pip's output and run `devkit up` again:\n{output}")
