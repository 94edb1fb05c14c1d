"""Is it the environment? Say so, and which packages clash, when installed code fails.

Two callers share the diagnosis:

* the image build (and the process engine's venv) runs ``python -m devkit_runtime.envcheck
  DIST ...`` once the environment is installed: every named distribution's top-level
  modules are imported, and a failure prints one sentence naming the clash and the fix
  (``devkit-envcheck: ...``) and exits 1, so a broken environment fails the build before
  any replica starts;
* the loader asks :func:`blame` about an exception from importing score.py or its
  ``init()``: when the failing frame is inside an installed package (``site-packages`` or
  ``dist-packages``) while it was importing, the environment is at fault, not score.py.

The rule for "failing frame": the innermost traceback frame in a file that is installed
code or the user's code, skipping the standard library and importlib's frozen frames (a C
extension that fails to load has no frame of its own; the ``import`` line that loaded it
does). Installed code that raises while being *called* (``joblib.load`` of a missing file)
is still the script's doing and is left to the caller.

Known clashes get a specific sentence: numpy's 2.0 binary break (a wheel compiled against
numpy 1.x imported under numpy 2), and an ``ImportError`` for a name another installed
distribution no longer provides (Flask 2.0 under Werkzeug 3). Only the standard library is
used: this runs inside every image, before anything else is known to work.
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import os
import sys
import sysconfig
import traceback
from dataclasses import dataclass
from types import TracebackType

PREFIX = "devkit-envcheck: "
SITE_DIRS = ("site-packages", "dist-packages")
NUMPY_ABI_MARKERS = (
    "numpy.dtype size changed",  # Cython modules built against numpy 1.x, under numpy 2
    "compiled using NumPy 1.x",  # numpy 2's own warning text, when it becomes an error
    "numpy.core.multiarray failed to import",
    "numpy.core._multiarray_umath failed to import",
    "_ARRAY_API not found",
)
_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_SKIP_MODULES = {"tests", "test", "testing", "docs", "examples", "benchmarks"}


@dataclass(frozen=True)
class Dist:
    name: str
    version: str

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


def blame(exc: BaseException) -> str | None:
    """One sentence saying how the environment broke, when ``exc`` came from installed code
    while it was being imported (or is a known binary clash); None when it is the script's."""
    if isinstance(exc, SyntaxError) and not is_installed(exc.filename or ""):
        return None  # the script's own syntax: its file and line say it all
    frame = failing_file(exc)
    if frame is None or not is_installed(frame):
        return None
    if not (isinstance(exc, ImportError) or _numpy_abi(exc) or _raised_while_importing(exc)):
        return None
    return explain(exc, owner(frame))


def failing_file(exc: BaseException) -> str | None:
    """The innermost frame's file that is installed or user code (see the module doc)."""
    found = None
    for filename in _frames(exc.__traceback__):
        if not _neutral(filename):
            found = filename
    return found


def is_installed(path: str) -> bool:
    return any(part in SITE_DIRS for part in path.split(os.sep))


def explain(exc: BaseException, culprit: Dist | None) -> str:
    """The clash in one sentence, ending with the fix."""
    what = f"{type(exc).__name__}: {_first_line(exc)}"
    subject = str(culprit) if culprit else "an installed package"
    if _numpy_abi(exc):
        numpy = _installed("numpy")
        return (f"{subject} was compiled against numpy 1.x and cannot load with "
                f"{numpy or 'the installed numpy'} ({what}; numpy 2.0 changed its binary "
                f"interface): pin numpy<2 in the environment, or a release of "
                f"{culprit.name if culprit else 'that package'} built for numpy 2")
    other = _other_distribution(exc, culprit)
    if other is not None:
        return (f"{subject} does not work with the installed {other} ({what}): pin "
                f"{other.name} to a release {subject} supports (usually an older one), or "
                f"upgrade {culprit.name if culprit else 'the package'}")
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        return (f"{subject} needs the module {exc.name}, which no installed package "
                f"provides ({what}): add the package that provides {exc.name} to the "
                "environment")
    return (f"{subject} fails while importing ({what}): its installed dependencies clash "
            "or it needs a system library the image lacks; pin versions that work together "
            "in the environment")


def owner(path: str) -> Dist | None:
    """The installed distribution a file belongs to, by its top-level package."""
    parts = path.split(os.sep)
    index = max(i for i, part in enumerate(parts) if part in SITE_DIRS)
    if index + 1 >= len(parts):
        return None
    top = parts[index + 1].split(".")[0]
    return _top_level_owners().get(top)


def top_level_modules(name: str) -> list[str]:
    """The importable top-level modules of an installed distribution."""
    dist = metadata.distribution(name)
    listed = (dist.read_text("top_level.txt") or "").split()
    if not listed:
        listed = sorted({_top_of(str(f)) for f in dist.files or ()} - {""})
    return [m for m in dict.fromkeys(listed)
            if m.isidentifier() and not m.startswith("_") and m not in _SKIP_MODULES]


def smoke(names: list[str]) -> list[str]:
    """Import each distribution's top-level modules; one sentence per distribution that
    fails (a distribution pip did not install at all is one too)."""
    problems = []
    for name in names:
        try:
            modules = top_level_modules(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{name} is not installed in the environment: check its name in "
                            "the environment's package list")
            continue
        for module in modules:
            print(f"importing {module} ({name})", flush=True)  # a crash names the last one
            try:
                importlib.import_module(module)
            except BaseException as exc:  # noqa: BLE001 - anything a package raises
                dist = _dist(name)
                frame = failing_file(exc)
                culprit = owner(frame) if frame and is_installed(frame) else dist
                problems.append(f"importing {module} fails: {explain(exc, culprit or dist)}")
                traceback.print_exception(type(exc), exc, exc.__traceback__, limit=-4)
                break
    return problems


def main(argv: list[str] | None = None) -> int:
    names = list(sys.argv[1:] if argv is None else argv)
    problems = smoke(names)
    for problem in problems:
        print(PREFIX + problem, flush=True)
    if not problems:
        print(f"{PREFIX}ok: {len(names)} packages import", flush=True)
    return 1 if problems else 0


def _frames(tb: TracebackType | None) -> list[str]:
    files = []
    while tb is not None:
        files.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    return files


def _neutral(filename: str) -> bool:
    """Frames that blame nobody: importlib's frozen ones, the standard library and this
    runtime (which loads score.py, wherever it is installed)."""
    if filename.startswith("<") or filename.startswith(_RUNTIME_DIR):
        return True
    return filename.startswith(_stdlib_dirs()) and not is_installed(filename)


def _stdlib_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    return tuple({paths["stdlib"] + os.sep, paths["platstdlib"] + os.sep})


def _raised_while_importing(exc: BaseException) -> bool:
    """Whether importlib was on the stack between the last user frame and the failure:
    the installed package failed while being imported, not while being called."""
    files = _frames(exc.__traceback__)
    last_user = max((i for i, f in enumerate(files)
                     if not _neutral(f) and not is_installed(f)), default=-1)
    return any(f.startswith("<frozen importlib") for f in files[last_user + 1:])


def _numpy_abi(exc: BaseException) -> bool:
    text = str(exc)
    return any(marker in text for marker in NUMPY_ABI_MARKERS)


def _other_distribution(exc: BaseException, culprit: Dist | None) -> Dist | None:
    """For ``cannot import name X from Y``: the distribution providing Y, if another one."""
    module = getattr(exc, "name", None)
    if not isinstance(exc, ImportError) or not module:
        return None
    other = _top_level_owners().get(module.split(".")[0])
    return other if other is not None and other != culprit else None


def _top_level_owners() -> dict[str, Dist]:
    owners: dict[str, Dist] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        tops = (dist.read_text("top_level.txt") or "").split() or {
            _top_of(str(f)) for f in dist.files or ()}
        for top in tops:
            if top:
                owners.setdefault(top, Dist(name, dist.version))
    return owners


def _top_of(path: str) -> str:
    """The module a RECORD path belongs to: a package folder (``sklearn/...``) or a module
    file (``six.py``); auditwheel's ``*.libs`` folders and metadata are none."""
    parts = path.replace("\\", "/").split("/")
    if len(parts) > 1:
        return parts[0] if parts[0].isidentifier() else ""
    stem, _, suffix = parts[0].partition(".")
    return stem if suffix == "py" or suffix.endswith(("so", "pyd")) else ""


def _dist(name: str) -> Dist:
    dist = metadata.distribution(name)
    return Dist(dist.metadata["Name"] or name, dist.version)


def _installed(name: str) -> Dist | None:
    try:
        return _dist(name)
    except metadata.PackageNotFoundError:
        return None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    first = lines[0].rstrip(".") if lines else "(no message)"
    path = getattr(exc, "path", None)  # ImportError names the file it looked in: noise here
    return first.replace(f" ({path})", "") if path else first


if __name__ == "__main__":
    sys.exit(main())
