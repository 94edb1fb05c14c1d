"""The smoke import every environment gets once it is installed, image or venv.

The environment's own packages (the conda file's, or a Dockerfile's ``pip install``
arguments; not devkit's runtime) are imported by ``python -m devkit_runtime.envcheck``
with the environment's interpreter. A failure stops the build with the runtime's sentence
naming the clash and the fix, before any replica starts; a score.py that never imports the
package would not have failed, but neither does Azure promise it works, and a build error
is cheaper than a replica that fails later.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Iterable
from pathlib import Path

from devkit_runtime.envcheck import PREFIX
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from devkit.errors import ImageBuildError

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
