"""Azure's most used curated inference environments and a local equivalent of each.

A deployment may name ``azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest`` (or the
``azureml://registries/azureml/environments/...`` form). Those images live in Microsoft's
registry, which devkit does not pull; what they amount to is an Azure ML base image plus
a Python and a few pinned packages. This table holds that much for the common ones, so
the error can say exactly what to register, and ``devkit ml environment create --curated
NAME`` can register it in one step (its conda file is written into the registry).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from devkit.spec.references import Reference

# devkit's base image stands in for every mcr.microsoft.com/azureml/ image.
BASE_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04"
_INFERENCE = "azureml-inference-server-http"


@dataclass(frozen=True)
class Curated:
    python: str
    packages: tuple[str, ...]


CURATED: dict[str, Curated] = {
    "AzureML-sklearn-1.0-ubuntu20.04-py38-cpu": Curated(
        "3.8", ("scikit-learn==1.0.2", "numpy~=1.21", "pandas~=1.1", "joblib", _INFERENCE)),
    "AzureML-sklearn-1.1-ubuntu20.04-py38-cpu": Curated(
        "3.8", ("scikit-learn==1.1.3", "numpy~=1.21", "pandas~=1.4", "joblib", _INFERENCE)),
    "AzureML-sklearn-1.5": Curated(
        "3.9", ("scikit-learn==1.5.1", "numpy~=1.26", "pandas~=2.2", "joblib", _INFERENCE)),
    "AzureML-minimal-ubuntu20.04-py38-cpu-inference": Curated("3.8", (_INFERENCE,)),
    "AzureML-minimal-ubuntu22.04-py39-cpu-inference": Curated("3.9", (_INFERENCE,)),
    "AzureML-pytorch-1.10-ubuntu18.04-py38-cuda11-gpu": Curated(
        "3.8", ("torch==1.10.2", "torchvision==0.11.3", _INFERENCE)),
    "AzureML-tensorflow-2.4-ubuntu18.04-py37-cpu-inference": Curated(
        "3.7", ("tensorflow==2.4.1", _INFERENCE)),
    "AzureML-lightgbm-3.2-ubuntu18.04-py37-cpu": Curated(
        "3.7", ("lightgbm==3.2.1", "scikit-learn~=0.24", "pandas~=1.1", _INFERENCE)),
}
_BY_LOWER = {name.lower(): name for name in CURATED}


def curated_name(ref: Reference) -> str | None:
    """The table's spelling of ``ref``'s name when it is a curated environment."""
    return _BY_LOWER.get(ref.name.lower())


def is_curated(ref: Reference) -> bool:
    return ref.registry == "azureml" or ref.name.lower().startswith("azureml-")


def curated_fix(ref: Reference) -> str | None:
    """The local fix for a curated environment devkit was not given; None otherwise."""
    if not is_curated(ref):
        return None
    name = curated_name(ref)
    if name is None:
        return (f"'{ref.name}' looks like one of Azure's curated environments, which devkit "
                "cannot download; register a local equivalent under that name: an "
                f"environment.yml with `name: {ref.name}`, `image: {BASE_IMAGE}` and a "
                "conda_file listing its Python and packages, then `devkit ml environment "
                "create -f environment.yml`")
    found = CURATED[name]
    listed = ", ".join(found.packages)
    return (f"it is one of Azure's curated environments, which devkit cannot download; "
            f"register devkit's equivalent (Python {found.python}, {listed}) with `devkit ml "
            f"environment create --curated {name}`, or your own under that name with "
            "`devkit ml environment create -f environment.yml`")


def conda_text(name: str) -> str:
    """The conda file of the curated environment ``name`` (a key of :data:`CURATED`)."""
    found = CURATED[name]
    pins = "".join(f"      - {package}\n" for package in found.packages)
    return (f"# devkit's local equivalent of Azure's curated environment {name}\n"
            f"name: {name}\nchannels: [conda-forge]\ndependencies:\n"
            f"  - python={found.python}\n  - pip\n  - pip:\n{pins}")


def write_equivalent(name: str, folder: Path) -> Path:
    """Write the conda file of curated environment ``name`` into ``folder``; its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "conda.yml"
    path.write_text(conda_text(name), encoding="utf-8")
    return path
