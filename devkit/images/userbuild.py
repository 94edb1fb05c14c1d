"""A ``build:`` environment's own Dockerfile, made to build here, offline.

Azure ML users write Dockerfiles ``FROM mcr.microsoft.com/azureml/...-inference...`` with
``RUN pip install ...`` steps. Neither works on a machine without registry or index access,
so before building, devkit rewrites a copy of the Dockerfile (the user's file is never
touched):

* **FROM an Azure ML image** that is not present locally becomes devkit's base image, as for
  ``image:`` environments: devkit's runtime replaces the Azure ML server either way. The
  Python the base image runs instead (Azure's names say ``py39``...) is said once, and
  ``python`` is linked to ``python3`` where the base lacks it (Azure's images have both).
* **``pip install`` steps** get their packages from the host-side wheelhouse: every
  requirement the stage's ``pip install`` commands name (arguments and ``-r`` files found in
  the build context) is resolved on the host for the stage's Python
  (:func:`devkit.images.abi.resolve_compatible`, so numpy's ABI rule applies too), the
  wheels are copied into the build context, and right after the stage's ``FROM`` devkit adds
  ``COPY`` of them plus ``ARG PIP_NO_INDEX=1 PIP_FIND_LINKS=...``. pip reads those as
  environment variables during ``RUN`` and nowhere else: ``ARG`` values do not persist into
  the image, unlike ``ENV``.

Why COPY and not a local index over HTTP: docker 20.10's classic builder (what the SDK
drives) has no build-time mounts, and reaching a host server needs ``--network host``,
which would also give every other ``RUN`` step the host's network. A COPY works with any
builder, needs no port or extra container, and costs the image only the wheels it uses.
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from devkit.errors import ImageBuildError

WHEELS_DIR = ".devkit-wheels"
WHEELS_IN_IMAGE = "/opt/devkit/wheelhouse"
DOCKERFILE_NAME = ".devkit.Dockerfile"
PIP_ARGS = (f"ARG PIP_NO_INDEX=1\nARG PIP_FIND_LINKS={WHEELS_IN_IMAGE}\n"
            "ARG PIP_BREAK_SYSTEM_PACKAGES=1\nARG PIP_DISABLE_PIP_VERSION_CHECK=1\n"
            "ARG PIP_ROOT_USER_ACTION=ignore\n")
# Azure ML images have `python` on PATH; Debian's python3 package does not provide it.
PYTHON_ALIAS = ('RUN command -v python >/dev/null || ln -s "$(command -v python3)" '
                "/usr/local/bin/python")
_PIP_VALUE_OPTIONS = {"-c", "--constraint", "-t", "--target", "--prefix", "--root",
                      "--cache-dir", "--src", "--platform", "--python-version",
                      "--implementation", "--abi", "--progress-bar", "--log"}
_INDEX_OPTIONS = {"-i", "--index-url", "--extra-index-url", "-f", "--find-links",
                  "--trusted-host"}
_PY_VERSION = re.compile(r"py(\d)(\d{1,2})\b")


@dataclass
class Stage:
    """One ``FROM`` and the pip requirements its ``RUN`` steps install."""

    line: int  # index into the instruction list
    image: str
    requirements: list[str] = field(default_factory=list)
    pip_options: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Instruction:
    number: int  # 1-based line number of its first line
    keyword: str
    text: str  # the instruction with continuations joined


def instructions(text: str) -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    found: list[Instruction] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        if line.startswith("#"):
            continue
        whole = (pending + line).strip()
        pending = ""
        keyword = whole.split(None, 1)[0].upper()
        found.append(Instruction(start, keyword, whole))
    return found


def stages(items: list[Instruction], dockerfile: Path, context: Path) -> list[Stage]:
    found: list[Stage] = []
    for index, item in enumerate(items):
        if item.keyword == "FROM":
            words = [w for w in item.text.split()[1:] if not w.startswith("--")]
            found.append(Stage(index, words[0] if words else ""))
        elif item.keyword == "RUN" and found:
            reqs, options = pip_requirements(item, dockerfile, context)
            found[-1].requirements += reqs
            found[-1].pip_options += [o for o in options if o not in found[-1].pip_options]
    return found


def pip_requirements(item: Instruction, dockerfile: Path,
                     context: Path) -> tuple[list[str], list[str]]:
    """What the ``pip install`` commands of one RUN step install, and their index options."""
    command = item.text.split(None, 1)[1] if " " in item.text else ""
    if command.lstrip().startswith("["):
        return [], []  # exec form: rare for pip, and not a shell command to split
    try:
        words = shlex.split(command, posix=True)
    except ValueError:
        return [], []
    requirements: list[str] = []
    options: list[str] = []
    for segment in _segments(words):
        args = _pip_install_args(segment)
        if args is not None:
            _read_args(args, item, dockerfile, context, requirements, options)
    return requirements, options


def _segments(words: list[str]) -> list[list[str]]:
    segments: list[list[str]] = [[]]
    for word in words:
        if word in ("&&", "||", ";", "|"):
            segments.append([])
        else:
            segments[-1].append(word.rstrip(";"))
    return segments


def _pip_install_args(words: list[str]) -> list[str] | None:
    """The arguments after ``install`` when ``words`` runs pip install, else None."""
    for index, word in enumerate(words):
        name = word.rsplit("/", 1)[-1]
        if re.fullmatch(r"pip[0-9.]*", name):
            rest = words[index + 1:]
        elif re.fullmatch(r"python[0-9.]*", name) and words[index + 1:index + 3] == ["-m",
                                                                                     "pip"]:
            rest = words[index + 3:]
        else:
            continue
        return rest[1:] if rest[:1] == ["install"] else None
    return None


def _read_args(args: list[str], item: Instruction, dockerfile: Path, context: Path,
               requirements: list[str], options: list[str]) -> None:
    words = iter(args)
    for word in words:
        option, _, inline = word.partition("=") if word.startswith("--") else (word, "", "")
        if option in ("-r", "--requirement"):
            path = inline or next(words, "")
            requirements += _requirements_file(path, item, dockerfile, context, options)
        elif option in _INDEX_OPTIONS:
            options += [option, inline or next(words, "")]
        elif option in ("-e", "--editable"):
            raise ImageBuildError(f"{dockerfile}:{item.number}: 'pip install {word}' builds "
                                  "from source, which an offline build cannot; build a wheel "
                                  "and COPY it, or install it by name.")
        elif option in _PIP_VALUE_OPTIONS and not inline:
            next(words, None)
        elif not word.startswith("-") and not word.startswith(("/", ".")):
            requirements.append(word)


def _requirements_file(path: str, item: Instruction, dockerfile: Path, context: Path,
                       options: list[str]) -> list[str]:
    found = _in_context(path, context)
    if found is None:
        raise ImageBuildError(f"{dockerfile}:{item.number}: 'pip install -r {path}': no "
                              f"{Path(path).name} in the build context {context}; devkit "
                              "resolves its packages on the host, so the file must be there.")
    lines: list[str] = []
    for raw in found.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            option, _, value = line.partition(" ")
            if option in _INDEX_OPTIONS:
                options += [option, value.strip()]
            continue
        lines.append(line)
    return lines


def _in_context(path: str, context: Path) -> Path | None:
    """The context file a path inside the image came from: same relative path, else the
    only file of that name (``COPY requirements.txt /app/`` then ``-r /app/...``)."""
    direct = context / path.lstrip("/")
    if direct.is_file():
        return direct
    named = [p for p in context.rglob(Path(path).name) if p.is_file()]
    return named[0] if len(named) == 1 else None


def python_in_name(image: str) -> str | None:
    """``3.9`` for Azure's ``...-py39-...`` image names."""
    match = _PY_VERSION.search(image)
    return f"{match.group(1)}.{match.group(2)}" if match else None


def rewrite(items: list[Instruction], found: list[Stage], bases: dict[int, str],
            with_wheels: set[int]) -> str:
    """The Dockerfile devkit builds: FROM lines replaced as ``bases`` says, the wheelhouse
    COPY and pip ARGs after the FROM of each stage in ``with_wheels``."""
    by_line = {stage.line: stage for stage in found}
    out: list[str] = []
    for index, item in enumerate(items):
        stage = by_line.get(index)
        if stage is not None and index in bases:
            out.append(item.text.replace(stage.image, bases[index], 1))
            out.append(PYTHON_ALIAS)
        else:
            out.append(item.text)
        if stage is not None and index in with_wheels:
            out.append(f"COPY {WHEELS_DIR} {WHEELS_IN_IMAGE}\n{PIP_ARGS.rstrip()}")
    return "\n".join(out) + "\n"


def copy_context(source: Path, destination: Path,
                 link: Callable[[Path, Path], None]) -> None:
    """The user's build context, copied so devkit's additions never touch it."""
    shutil.copytree(source, destination, symlinks=True, copy_function=_copier(link))


def _copier(link: Callable[[Path, Path], None]) -> Callable[[str, str], object]:
    def copy(src: str, dst: str) -> object:
        link(Path(src), Path(dst))
        return dst

    return copy
