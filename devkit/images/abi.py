"""Resolve an environment to packages that load together: numpy's 2.0 binary break.

pip picks the newest numpy any requirement allows, because PyPI metadata cannot say which
numpy a compiled wheel was built against: scikit-learn 1.2.2 asks for ``numpy>=1.17.3``,
pip installs numpy 2.x, and ``import sklearn`` fails with "numpy.dtype size changed".
conda does not make that mistake, because its builds record the numpy they were compiled
with (``numpy >=1.21,<2.0a0`` in scikit-learn 1.2.2's conda-forge run constraints).

devkit recovers what conda knows from the wheels themselves. **The rule**: a wheel that
needs numpy and whose extension modules import numpy's C API only under its 1.x name
(``numpy.core._multiarray_umath``, the string numpy 1.x headers compile into every
extension) was built against numpy 1.x, and cannot load under numpy 2, whose headers
compile in ``numpy._core._multiarray_umath`` (with the old name kept as a fallback, which
is why numpy 2 builds also run on numpy 1.x). When the resolved set holds such a wheel
and numpy 2.x, it is resolved again with ``numpy<2``: the newest numpy that is compatible,
which is what conda picks. When that cannot be resolved (numpy 2 pinned, or another
package needs it) the build stops with the clash named.

Not covered: extensions that reach numpy only through pybind11 or ctypes carry no such
string; the smoke import after installing (:mod:`devkit_runtime.envcheck`) still catches
them, with the same sentence.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from devkit.errors import ImageBuildError
from devkit.images.wheelhouse import Progress, Resolution, Target, resolve

NUMPY2_NAME = b"numpy._core._multiarray_umath"
NUMPY1_NAME = b"numpy.core._multiarray_umath"
NUMPY_CAP = "numpy<2"
_REQUIRES_NUMPY = re.compile(r"^Requires-Dist:\s*numpy\b", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Compatible:
    """A resolution whose wheels load together, the pins added to get it, and why."""

    resolution: Resolution
    pins: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()


def resolve_compatible(requirements: Iterable[str], target: Target, *,
                       pip_options: Iterable[str] = (),
                       progress: Progress | None = None) -> Compatible:
    """:func:`~devkit.images.wheelhouse.resolve`, then the numpy rule of the module doc."""
    wanted, options = list(requirements), list(pip_options)
    first = resolve(wanted, target, pip_options=options, progress=progress)
    numpy = numpy_version(first.wheels)
    if numpy is None or not numpy.startswith(tuple("23456789")):
        return Compatible(first)
    old = built_for_numpy1(first.wheels, first.directory)
    if not old:
        return Compatible(first)
    try:
        second = resolve(capped(wanted), target, pip_options=options, progress=progress)
    except ImageBuildError as exc:
        asked = next((r for r in wanted if r.lower().startswith("numpy")), None)
        why = (f"the environment asks for {asked}" if asked
               else "another package in the environment needs numpy 2")
        raise ImageBuildError(
            f"{_names(old)} {_was(old)} compiled against numpy 1.x and cannot load with numpy "
            f"{numpy} (numpy 2.0 changed its binary interface), but {why}, so numpy<2 "
            f"cannot be used: pin numpy<2 (and releases that allow it), or a release of "
            f"{_first_name(old)} built for numpy 2."
        ) from exc
    chosen = numpy_version(second.wheels) or "1.x"
    notice = (f"numpy {chosen} instead of {numpy}: {_names(old)} {_was(old)} compiled "
              "against numpy 1.x, which numpy 2 cannot load (its binary interface changed "
              "in 2.0); conda picks the same (such builds require numpy<2 there).")
    return Compatible(second, (NUMPY_CAP,), (notice,))


def capped(requirements: list[str]) -> list[str]:
    """The requirements with ``<2`` added to numpy's: merged into an existing numpy
    requirement rather than listed beside it, because pip given both ``numpy`` and
    ``numpy<2`` fetches a numpy 2 candidate too and reports it among the downloads."""
    out, merged = [], False
    for text in requirements:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            out.append(text)
            continue
        if canonicalize_name(requirement.name) == "numpy":
            requirement.specifier &= SpecifierSet("<2")
            text, merged = str(requirement), True
        out.append(text)
    return out if merged else [*out, NUMPY_CAP]


def numpy_version(wheels: Iterable[Path]) -> str | None:
    for wheel in wheels:
        name, _, rest = wheel.name.partition("-")
        if name.lower() == "numpy":
            return rest.split("-")[0]
    return None


def built_for_numpy1(wheels: Iterable[Path], directory: Path) -> list[str]:
    """``name version`` of each wheel built against numpy 1.x (cached per wheel file)."""
    cache_file = directory / "numpy-abi.json"
    try:
        known: dict[str, str] = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        known = {}
    found, changed = [], False
    for wheel in wheels:
        if wheel.name not in known:
            known[wheel.name], changed = numpy_abi(wheel), True
        if known[wheel.name] == "1":
            name, version = wheel.name.split("-")[:2]
            found.append(f"{name.replace('_', '-')} {version}")
    if changed:
        partial = cache_file.with_suffix(".tmp")
        partial.write_text(json.dumps(known, indent=1, sort_keys=True))
        partial.replace(cache_file)
    return found


def numpy_abi(wheel: Path) -> str:
    """``"1"`` or ``"2"``: the numpy major whose headers the wheel's extensions were
    compiled with; ``"-"`` for wheels that do not use numpy's C API (or are numpy)."""
    if wheel.name.lower().startswith("numpy-"):
        return "-"
    try:
        with zipfile.ZipFile(wheel) as archive:
            if not _requires_numpy(archive):
                return "-"
            seen_old = False
            for member in archive.namelist():
                if not member.endswith((".so", ".pyd")) and ".so." not in member:
                    continue
                blob = archive.read(member)
                if NUMPY2_NAME in blob:
                    return "2"
                seen_old = seen_old or NUMPY1_NAME in blob
    except (OSError, zipfile.BadZipFile):
        return "-"  # pip installs it or fails; the smoke import judges it then
    return "1" if seen_old else "-"


def _requires_numpy(archive: zipfile.ZipFile) -> bool:
    for member in archive.namelist():
        if member.endswith(".dist-info/METADATA"):
            text = archive.read(member).decode("utf-8", errors="replace")
            return bool(_REQUIRES_NUMPY.search(text))
    return False


def _names(found: list[str]) -> str:
    return ", ".join(found[:3]) + (f" and {len(found) - 3} more" if len(found) > 3 else "")


def _was(found: list[str]) -> str:
    return "was" if len(found) == 1 else "were"


def _first_name(found: list[str]) -> str:
    return found[0].split(" ")[0]
