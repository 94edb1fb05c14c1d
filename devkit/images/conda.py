"""Read a conda environment file as pip would need it: the Python version it asks for and
the packages pip can install.

devkit builds images with pip from a host-side wheelhouse, not with conda, so every conda
package is mapped to its PyPI name. Decisions, made once here:

* Most conda packages share their PyPI name; :data:`RENAMES` lists those that do not.
* Native libraries conda ships separately (``openssl``, ``libgcc-ng``, ``mkl``, ``openblas``,
  any ``lib*``) are dropped with a notice: PyPI wheels bundle the native code they link
  (numpy and scipy wheels carry OpenBLAS, so ``mkl`` changes speed, not results).
* GPU toolkits, compilers and other-language packages (``cudatoolkit``, ``cudnn``, ``r-*``,
  ``gcc``...) are errors naming file and line: dropping them would silently change what the
  environment is, and pip has nothing to install in their place.
* Microsoft's own server packages are dropped and replaced by devkit's runtime (one notice).

Where pip's choice diverges from conda's so that packages cannot load together (numpy 2.x
under a wheel compiled against numpy 1.x), :mod:`devkit.images.abi` corrects it when the
wheelhouse is resolved, and the smoke import catches what that rule cannot see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from devkit.errors import ImageBuildError

RENAMES = {
    "pytorch": "torch",
    "pytorch-cpu": "torch",
    "py-xgboost": "xgboost",
    "py-xgboost-cpu": "xgboost",
    "py-lightgbm": "lightgbm",
    "py-catboost": "catboost",
    "pytables": "tables",
    "py-opencv": "opencv-python-headless",
    "opencv": "opencv-python-headless",
    "matplotlib-base": "matplotlib",
    "msgpack-python": "msgpack",
    "tensorflow-cpu": "tensorflow",
}
# Meta packages and conda's own plumbing: nothing to install and nothing to tell.
SILENT_DROPS = {"python", "pip", "cpuonly", "nomkl", "numpy-base", "conda"}
NATIVE_LIBS = {
    "ca-certificates", "openssl", "zlib", "xz", "tk", "sqlite", "readline", "ncurses",
    "bzip2", "tzdata", "ld_impl_linux-64", "mkl", "mkl-service", "mkl_fft", "mkl_random",
    "intel-openmp", "llvm-openmp", "blas", "openblas", "tbb", "icu", "lz4-c", "zstd",
    "yaml", "expat", "gmp", "mpfr",
}
NO_PIP_EQUIVALENT = {
    "cudatoolkit", "cudatoolkit-dev", "cudnn", "nccl", "pytorch-cuda", "cuda", "gcc", "gxx",
    "gfortran", "compilers", "make", "ffmpeg", "git", "nodejs", "openjdk", "graphviz",
    "openmpi", "mpich", "r-base", "r",
}
NO_PIP_PREFIXES = ("cuda-", "cudatoolkit", "magma", "r-", "gcc_", "gxx_", "gfortran_")
# Replaced by devkit's runtime, which serves the same score.py contract.
MICROSOFT_SERVER_PACKAGES = {"azureml-inference-server-http", "azureml-defaults"}
INDEX_OPTIONS = {"-i", "--index-url", "--extra-index-url", "-f", "--find-links",
                 "--trusted-host"}

_NAME = re.compile(r"^\s*([A-Za-z0-9_][A-Za-z0-9._-]*)")
_VERSION = re.compile(r"^(==|>=|<=|!=|~=|>|<|=)?\s*([0-9][0-9A-Za-z.*+!]*)$")


def normalize(name: str) -> str:
    """PEP 503 name normalisation, so ``Azureml_Defaults`` matches ``azureml-defaults``."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class PythonRequirement:
    """The conda file's ``python`` entry, e.g. ``3.11`` or ``>=3.10,<3.12``."""

    spec: str
    line: int

    def allows(self, version: str) -> bool:
        """Whether a full version such as ``3.11.2`` satisfies the conda spec."""
        have = _as_tuple(version)
        return any(all(_clause_allows(c, have) for c in alt.split(","))
                   for alt in self.spec.split("|"))


@dataclass(frozen=True)
class CondaEnvironment:
    path: Path
    python: PythonRequirement | None
    requirements: tuple[str, ...]
    pip_options: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()


@dataclass
class _Collector:
    path: Path
    requirements: list[str] = field(default_factory=list)
    pip_options: list[str] = field(default_factory=list)
    native: list[str] = field(default_factory=list)
    microsoft: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    python: PythonRequirement | None = None

    def fail(self, line: int, message: str, where: Path | None = None) -> ImageBuildError:
        return ImageBuildError(f"{where or self.path}:{line}: {message}")

    def add_requirement(self, requirement: str, line: int) -> None:
        name = _package_name(requirement)
        if name and normalize(name) in MICROSOFT_SERVER_PACKAGES:
            self.microsoft.append(name)
        else:
            self.requirements.append(requirement)


def load_conda_file(path: Path) -> CondaEnvironment:
    """Parse ``path`` into pip requirements; raises ImageBuildError naming file:line."""
    root = _compose(path)
    collector = _Collector(path)
    for node in _dependency_nodes(root, path):
        line = node.start_mark.line + 1
        if isinstance(node, yaml.ScalarNode):
            _conda_package(collector, str(node.value), line)
        elif isinstance(node, yaml.MappingNode) and _is_pip_section(node):
            _pip_section(collector, node.value[0][1], path)
        else:
            raise collector.fail(line, "an entry under 'dependencies' must be a conda package "
                                 "or a 'pip:' list; fix or remove it.")
    return _finish(collector)


def load_requirements_file(path: Path) -> CondaEnvironment:
    """A pip requirements file, read like the ``pip:`` list of a conda file."""
    collector = _Collector(path)
    _requirements_file(collector, path, 1, path)
    return _finish(collector)


def _compose(path: Path) -> yaml.MappingNode:
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ImageBuildError(f"cannot read the conda file {path}: {exc.strerror}; check "
                              "the environment's conda_file path.") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise ImageBuildError(f"{path}:{line}: the conda file is not valid YAML "
                              f"({getattr(exc, 'problem', exc)}); fix its syntax.") from exc
    if not isinstance(root, yaml.MappingNode):
        raise ImageBuildError(f"{path}:1: a conda file must be a mapping with a "
                              "'dependencies' list; see `conda env export --from-history`.")
    return root


def _dependency_nodes(root: yaml.MappingNode, path: Path) -> list[yaml.Node]:
    for key, value in root.value:
        if key.value == "dependencies":
            if not isinstance(value, yaml.SequenceNode):
                raise ImageBuildError(f"{path}:{value.start_mark.line + 1}: 'dependencies' "
                                      "must be a list of packages; fix it.")
            return list(value.value)
    return []


def _is_pip_section(node: yaml.MappingNode) -> bool:
    return len(node.value) == 1 and node.value[0][0].value == "pip"


def _conda_package(collector: _Collector, spec: str, line: int) -> None:
    name, constraint = _split_conda_spec(spec)
    key = name.lower()
    if key == "python":
        if constraint.startswith("=") and not constraint.startswith("=="):
            constraint = constraint[1:]  # conda's "python=3.11" means 3.11.*
        collector.python = PythonRequirement(constraint or "*", line)
        return
    if key in SILENT_DROPS:
        return
    if key in NO_PIP_EQUIVALENT or key.startswith(NO_PIP_PREFIXES):
        raise collector.fail(line, f"the conda package '{name}' has no pip equivalent, and "
                             "devkit installs environments with pip: remove it (PyPI wheels "
                             "such as torch bundle the CUDA libraries they need) or use a "
                             "'build:' environment with your own Dockerfile.")
    if key in NATIVE_LIBS or key.startswith(("lib", "_")):
        collector.native.append(name)
        return
    pip_name = RENAMES.get(key, name)
    collector.add_requirement(pip_name + _pip_constraint(constraint, spec, collector, line),
                              line)


def _split_conda_spec(spec: str) -> tuple[str, str]:
    spec = spec.split("::", 1)[-1].strip()
    match = _NAME.match(spec)
    if match is None:
        return spec, ""
    return match.group(1), spec[match.end():].strip()


def _pip_constraint(constraint: str, spec: str, collector: _Collector, line: int) -> str:
    """conda ``=1.4`` means 1.4.*; ``==1.4.2=build`` pins exactly; ranges pass through."""
    if not constraint:
        return ""
    if constraint.startswith("=") and not constraint.startswith("=="):
        version = constraint[1:].split("=")[0].strip()
        return f"=={version}" if "*" in version else f"=={version}.*"
    if constraint.startswith("=="):
        return "==" + constraint[2:].split("=")[0].split()[0]
    if constraint[0] in "<>!~":
        if "|" in constraint:
            raise collector.fail(line, f"'{spec}': pip cannot express conda's '|' (or) "
                                 "version ranges; pick one range.")
        return constraint.replace(" ", "")
    version = constraint.split()[0]  # "numpy 1.26 build" form
    return f"=={version}" if "*" in version else f"=={version}.*"


def _pip_section(collector: _Collector, node: yaml.Node, path: Path) -> None:
    if not isinstance(node, yaml.SequenceNode):
        raise collector.fail(node.start_mark.line + 1, "'pip:' must be a list of "
                             "requirements; fix it.")
    for item in node.value:
        _pip_line(collector, str(item.value), item.start_mark.line + 1, path)


def _pip_line(collector: _Collector, text: str, line: int, where: Path) -> None:
    text = text.split(" #", 1)[0].strip()
    if not text or text.startswith("#"):
        return
    if not text.startswith("-"):
        collector.add_requirement(text, line)
        return
    option, _, value = text.partition(" ")
    if "=" in option and option.startswith("--"):
        option, _, value = option.partition("=")
    value = value.strip()
    if option in ("-r", "--requirement"):
        _requirements_file(collector, where.parent / value, line, where)
    elif option in INDEX_OPTIONS:
        collector.pip_options.extend([option, value])
    elif option == "--pre":
        collector.pip_options.append(option)
    elif option in ("-e", "--editable"):
        raise collector.fail(line, f"'{text}': editable installs cannot come from a "
                             "wheelhouse; build a wheel or use a 'build:' environment.", where)
    else:
        collector.notices.append(f"{where}:{line}: pip option '{option}' ignored: devkit "
                                 "installs from its wheelhouse.")


def _requirements_file(collector: _Collector, target: Path, line: int, where: Path) -> None:
    try:
        lines = target.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise collector.fail(line, f"cannot read the requirements file {target} "
                             f"({exc.strerror}); fix the '-r' path (it is relative to "
                             f"{where.parent}).", where) from exc
    for number, text in enumerate(lines, start=1):
        _pip_line(collector, text, number, target)


def _finish(collector: _Collector) -> CondaEnvironment:
    notices = list(collector.notices)
    if collector.native:
        notices.append(f"{collector.path}: conda-only native libraries dropped "
                       f"({', '.join(collector.native)}): PyPI wheels bundle their own.")
    if collector.microsoft:
        notices.append(f"{collector.path}: {', '.join(collector.microsoft)} replaced by "
                       "devkit's runtime, which serves the same score.py contract.")
    return CondaEnvironment(collector.path, collector.python, tuple(collector.requirements),
                            tuple(collector.pip_options), tuple(notices))


def _package_name(requirement: str) -> str | None:
    match = _NAME.match(requirement)
    return match.group(1) if match else None


def _as_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split("."):
        digits = re.match(r"\d+", piece)
        if digits is None:
            break
        parts.append(int(digits.group()))
    return tuple(parts)


def _clause_allows(clause: str, have: tuple[int, ...]) -> bool:
    clause = clause.strip().split(" ")[0]
    match = _VERSION.match(clause) if clause not in ("", "*") else None
    if match is None:
        return True  # "*" or a form we cannot read: do not warn about what we cannot judge
    op, raw = match.group(1) or "=", match.group(2)
    if raw.endswith(".*"):
        op, raw = ("=" if op in ("=", "==") else op), raw[:-2]
    want = _as_tuple(raw)
    if op == "=" or (op == "==" and "*" in clause):
        return have[: len(want)] == want
    size = max(len(want), len(have))
    left, right = have + (0,) * (size - len(have)), want + (0,) * (size - len(want))
    return {"==": left == right, "!=": left != right, ">=": left >= right,
            "<=": left <= right, ">": left > right, "<": left < right,
            "~=": left >= right and have[: len(want) - 1] == want[:-1]}[op]
