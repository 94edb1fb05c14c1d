"""``model.yml`` and ``environment.yml`` (Azure ML CLI v2 asset files) into typed assets.

``devkit ml model create -f model.yml [--name --version --path --type] [--set ...]`` and
``devkit ml environment create -f environment.yml ...`` register these in the local
registry. Flags are overrides of the file's fields (as in az), so a file is optional when
the flags say enough. An environment is validated by the very reader deployments use; its
paths are stored absolute, so the registered spec no longer depends on where it came from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from devkit.spec.deployment import MODEL_TYPES, read_environment
from devkit.spec.fields import Section
from devkit.spec.model import EnvironmentSpec
from devkit.spec.overrides import Override, apply_overrides, parse_override
from devkit.spec.yamlsource import YamlMap, read_yaml

ASSET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
_COMMON = {"$schema", "name", "version", "description", "tags", "properties"}
MODEL_FILE_KEYS = _COMMON | {"path", "type", "stage", "flavors", "datastore", "job_name"}
ENVIRONMENT_FILE_KEYS = _COMMON | {"image", "conda_file", "build", "inference_config",
                                   "os_type"}
# az's flag for a field, where it is not the field's name.
_FLAG_NAMES = {"build.path": "--build-context", "build.dockerfile_path": "--dockerfile-path"}


def _empty() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True)
class ModelAsset:
    name: str
    version: str | None  # None: the registry picks the next version
    path: Path
    type: str = "custom_model"
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=_empty)


@dataclass(frozen=True)
class EnvironmentAsset:
    name: str
    version: str | None
    environment: EnvironmentSpec
    spec: Mapping[str, Any]  # the environment fields, paths absolute (what is registered)
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=_empty)


def read_model_file(file: Path | None, flags: Mapping[str, str | None],
                    sets: Sequence[str] = ()) -> ModelAsset:
    """A model asset from ``file`` (optional) with ``flags`` (name/version/path/type)
    and ``--set`` texts applied. Raises SpecError naming file, line and field."""
    doc = _document(file, flags, sets, "model")
    doc.check_keys(MODEL_FILE_KEYS)
    path = doc.local_path("path", "any", fix="point `path` at a local model folder or file",
                          example="path: model")
    assert path is not None
    return ModelAsset(name=_asset_name(doc, "name: my-model"),
                      version=doc.label("version"), path=path,
                      type=doc.choice("type", MODEL_TYPES, "custom_model"),
                      description=doc.text("description"), tags=doc.string_map("tags"))


def read_environment_file(file: Path | None, flags: Mapping[str, str | None],
                          sets: Sequence[str] = ()) -> EnvironmentAsset:
    """An environment asset from ``file`` (optional), flags (name/version/image/
    conda_file/build.path...) and ``--set`` texts."""
    doc = _document(file, flags, sets, "environment")
    doc.check_keys(ENVIRONMENT_FILE_KEYS)
    name = _asset_name(doc, "name: my-env")
    environment = read_environment(doc)
    return EnvironmentAsset(name=name, version=doc.label("version"), environment=environment,
                            spec=_registered_spec(doc, environment),
                            description=doc.text("description"), tags=doc.string_map("tags"))


def _asset_name(doc: Section, example: str) -> str:
    """Azure's asset name rule (dots allowed, unlike endpoint names: curated environments
    are called ``AzureML-sklearn-1.0-ubuntu20.04-py38-cpu``)."""
    name = doc.text("name", required=True, example=example)
    assert name is not None
    if not ASSET_NAME.match(name):
        raise doc.error("name", f"'{name}' is not a valid asset name; use up to 255 letters, "
                        "digits, '-', '_' and '.', starting with a letter or digit")
    version = doc.label("version")
    if version is not None and not ASSET_NAME.match(version):
        raise doc.error("version", f"'{version}' is not a valid version; use letters, digits, "
                        "'-', '_' and '.', e.g. 1 or 2024.06.1")
    return name


def _document(file: Path | None, flags: Mapping[str, str | None], sets: Sequence[str],
              kind: str) -> Section:
    if file is not None:
        path, shown = file.resolve(), str(file)
        root: Any = read_yaml(file, shown)
    else:
        path, shown = Path.cwd() / f"{kind}.yml", f"the {kind} flags"
        root = None
    overrides: list[Override] = []
    for key, value in flags.items():
        if value is not None:
            name = _FLAG_NAMES.get(key) or "--" + key.replace("_", "-")
            overrides.append(Override(f"{name} {value}", tuple(key.split(".")), value, value))
    overrides += [parse_override(text) for text in sets]
    if root is not None and not isinstance(root, YamlMap):
        root = None
    return Section(apply_overrides(root, overrides), path, shown)


def _registered_spec(doc: Section, environment: EnvironmentSpec) -> dict[str, Any]:
    """The environment fields as the registry stores them: paths absolute."""
    spec: dict[str, Any] = {}
    if environment.image is not None:
        spec["image"] = environment.image
    if environment.conda_file is not None:
        spec["conda_file"] = str(environment.conda_file)
    if environment.build is not None:
        spec["build"] = {"path": str(environment.build.path),
                         "dockerfile_path": environment.build.dockerfile_path}
    if doc.has("inference_config"):
        spec["inference_config"] = doc.plain("inference_config")
    return spec
