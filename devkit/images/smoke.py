"""The smoke import every environment gets once it is installed, image or venv.

The environment's own packages (the conda file's, or a Dockerfile's ``pip install``
arguments; not devkit's runtime) are imported by ``python -m devkit_runtime.envcheck``
with the environment's interpreter. A failure stops the build with the runtime's sentence
naming the clash and the fix, before any replica starts; a score.py that never imports the
package would not have failed, but neither does Azure promise it works, and a build error
is cheaper than a replica that fails later.

A uv-built image whose packages were smoke-imported once on the same shared image, from the
same wheels (:func:`checked_key`), skips the import: the same files on the same interpreter
import the same way, and the import (~2 s for numpy/scipy/scikit-learn)
is most of a rebuilt environment's build. The record is a file per key under the cache,
written only after a build whose import passed, so a clash is never recorded.
"""

from __future__ import annotations

import hashlib
import shlex
import subprocess
from collections.abc import Iterable
from pathlib import Path

from devkit_runtime.envcheck import PREFIX
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from devkit.errors import ImageBuildError
from devkit.paths import cache_dir

MODULE = "devkit_runtime.envcheck"
# Installed by pip with everything, never imported by score.py as such.
SKIP = {"pip", "setuptools", "wheel"}


def distribution_names(requirements: Iterable[str]) -> list[str]:
    """The distributions named by ``requirements`` (specifiers, extras, markers dropped),
    once each, in order."""
    names: dict[str, str] = {}
    for text in requirements:
        try:
            name = Requirement(text).name
        except InvalidRequirement:
            continue
        if canonicalize_name(name) not in SKIP:
            names.setdefault(canonicalize_name(name), name)
    return list(names.values())


def smoke_command(python: str, names: list[str]) -> str:
    """The shell command that smoke-imports ``names`` (empty when there are none)."""
    if not names:
        return ""
    return f"{python} -m {MODULE} {' '.join(shlex.quote(n) for n in names)}"


def dockerfile_step(python: str, names: list[str]) -> str:
    """The Dockerfile line that smoke-imports ``names`` (empty when there are none)."""
    command = smoke_command(python, names)
    return f"RUN {command}" if command else ""


def check_venv(python: Path, names: list[str], what: str) -> None:
    """Smoke-import ``names`` with ``python``; raise the clash as an ImageBuildError."""
    if not names:
        return
    done = subprocess.run([str(python), "-m", MODULE, *names], capture_output=True,
                          text=True, check=False)
    if done.returncode == 0:
        return
    verdicts = [line[len(PREFIX):] for line in done.stdout.splitlines()
                if line.startswith(PREFIX)]
    detail = "; ".join(verdicts) or (done.stdout + done.stderr).strip()[-400:]
    raise ImageBuildError(f"the {what} was installed but its packages do not import: "
                          f"{detail}.")


def checked_key(shared_image_id: str, wheels: Iterable[Path], names: list[str]) -> str:
    """What decides the smoke import's outcome: the image the install starts from, the
    wheels' bytes and the names imported. The requirements' text is not in it (a comment or
    an always-true marker changes the environment's hash, not what is installed): the
    wheels are their resolution for this image's platform, and every one is installed."""
    digest = hashlib.sha256(f"smoke/1\0{shared_image_id}\0".encode())
    for wheel in sorted(wheels, key=lambda w: w.name):
        digest.update(wheel.name.encode() + b"\0" + hashlib.sha256(wheel.read_bytes()).digest())
    digest.update("\0".join(names).encode())
    return digest.hexdigest()


def _record(key: str) -> Path:
    return cache_dir() / "smoke-checked" / key


def was_checked(key: str) -> bool:
    """Whether a build with this :func:`checked_key` passed its smoke import."""
    return _record(key).is_file()


def mark_checked(key: str) -> None:
    record = _record(key)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.touch()
