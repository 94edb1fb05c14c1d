"""devkit's runtime as a wheel, so every image installs the exact server this host runs.

The wheel is built from the ``runtime/`` source next to the installed ``devkit_runtime``
package (``pip wheel --no-deps`` on a scratch copy, so the source tree gets no build
litter) and cached by a hash of that source: the same hash feeds every environment hash,
so changing the runtime rebuilds images and nothing else does. When devkit was installed
without the runtime's source, the wheel of the installed version comes from the index.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from devkit.errors import ImageBuildError
from devkit.paths import cache_dir

PACKAGE = "devkit_runtime"
DISTRIBUTION = "devkit-runtime"


def runtime_source() -> Path | None:
    """The folder holding the runtime's ``pyproject.toml`` and package, if present."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        return None
    project = Path(spec.origin).resolve().parent.parent
    return project if (project / "pyproject.toml").is_file() else None


def runtime_version() -> str:
    import devkit_runtime

    return str(devkit_runtime.__version__)


def runtime_fingerprint() -> str:
    """A hash of the runtime's source files (or its version when no source is present)."""
    source = runtime_source()
    digest = hashlib.sha256(runtime_version().encode())
    if source is None:
        return digest.hexdigest()
    for path in _source_files(source):
        digest.update(str(path.relative_to(source)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def runtime_wheel() -> Path:
    """The cached runtime wheel, built (or fetched) on first use."""
    folder = cache_dir() / "runtime" / runtime_fingerprint()[:16]
    found = sorted(folder.glob("*.whl"))
    if found:
        return found[0]
    folder.mkdir(parents=True, exist_ok=True)
    source = runtime_source()
    if source is not None:
        _build_from_source(source, folder)
    else:
        _download_release(folder)
    found = sorted(folder.glob("*.whl"))
    if not found:
        raise ImageBuildError(f"building devkit's runtime wheel left nothing in {folder}; "
                              "reinstall devkit (`make setup`) and retry.")
    return found[0]


def wheel_requirements(wheel: Path) -> list[str]:
    """The wheel's ``Requires-Dist`` lines, leaving out optional extras."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(name).decode()
    requirements = []
    for line in metadata.splitlines():
        if line.startswith("Requires-Dist:") and "extra ==" not in line:
            requirements.append(line.split(":", 1)[1].strip())
    return requirements


def _source_files(source: Path) -> list[Path]:
    files = [source / "pyproject.toml"]
    for path in sorted((source / PACKAGE).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files.append(path)
    return files


def _build_from_source(source: Path, folder: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="devkit-runtime-") as scratch:
        copy = Path(scratch) / "runtime"
        copy.mkdir()
        for path in _source_files(source):
            destination = copy / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
        what = "build devkit's runtime wheel from " + str(source)
        try:
            # Offline first: the host's own setuptools, when it can build wheels.
            _pip(["wheel", "--no-deps", "--no-build-isolation", "-w", str(folder), str(copy)],
                 what)
        except ImageBuildError:
            _pip(["wheel", "--no-deps", "-w", str(folder), str(copy)], what)


def _download_release(folder: Path) -> None:
    _pip(["download", "--no-deps", "--only-binary=:all:", "-d", str(folder),
          f"{DISTRIBUTION}=={runtime_version()}"],
         f"download {DISTRIBUTION} {runtime_version()}")


def _pip(arguments: list[str], what: str) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *arguments]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last = " | ".join(result.stderr.strip().splitlines()[-3:])
        raise ImageBuildError(f"could not {what}: {last}; reinstall devkit with "
                              "`make setup` and retry.")
