"""``load(paths)``: a folder or a list of YAML files into one validated :class:`Endpoint`.

Two ways to name an endpoint, as the Azure CLI user knows them:

* a folder: every ``*.yml``/``*.yaml`` directly inside it is read and sorted by content,
  not by name: a document with deployment keys (``endpoint_name``, ``model``...) is a
  deployment, one that mostly has endpoint keys is the endpoint, anything else (a conda
  file, a CI workflow) is ignored. Exactly one endpoint file must be found;
* an endpoint file followed by deployment files (``az ml online-deployment create -f``);
* deployment files alone with ``endpoint_name`` (``-e NAME``): the endpoint is made by
  name, with key auth and no live traffic, as ``az ml online-endpoint create -n`` makes it.

``--set`` overrides go to the document they are about: ``TARGET:path=value`` to the
endpoint (``endpoint:``) or the deployment named TARGET, an endpoint-only field
(``auth_mode``, ``traffic``...) to the endpoint, anything else to every deployment.
Discovery gives a :class:`~devkit.spec.recipe.Recipe`; :func:`load_recipe` reads it.

Per-file reading lives in :mod:`devkit.spec.deployment` and :func:`_read_endpoint`; this
module owns discovery and the checks that span files (endpoint names, duplicate
deployments, traffic).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from devkit.errors import SpecError
from devkit.spec.deployment import DEPLOYMENT_MARKERS, read_deployment
from devkit.spec.fields import Section, did_you_mean
from devkit.spec.model import AuthMode, DeploymentSpec, Endpoint, EndpointSpec, Source
from devkit.spec.overrides import Override, apply_overrides, field_override, parse_override
from devkit.spec.recipe import Recipe, SpecFile
from devkit.spec.references import AssetLookup
from devkit.spec.traffic import check_traffic
from devkit.spec.yamlsource import YamlMap, read_yaml

ENDPOINT_KEYS = frozenset({
    "$schema", "name", "description", "tags", "auth_mode", "traffic", "mirror_traffic",
    "public_network_access",
    # Accepted for Azure compatibility, meaningless on a laptop.
    "properties", "identity", "kind", "compute",
})
# Fields only an endpoint has: an unprefixed `--set` of one of them goes to the endpoint.
ENDPOINT_ONLY = frozenset({"auth_mode", "traffic", "mirror_traffic", "public_network_access",
                           "identity", "kind", "compute"})
_YAML_SUFFIXES = (".yml", ".yaml")


@dataclass(frozen=True)
class _Doc:
    """One parsed YAML file: its absolute path, how messages name it, its root value."""

    path: Path
    shown: str
    root: Any


def load(paths: Sequence[Path], *, sets: Sequence[str] = (), endpoint_name: str | None = None,
         assets: AssetLookup | None = None) -> Endpoint:
    """Read and validate one endpoint and its deployments. Raises SpecError.

    ``sets`` are ``--set`` texts (``[TARGET:]path=value``), ``endpoint_name`` is ``-e``;
    ``assets`` resolves ``azureml:`` references (default: devkit's local registry)."""
    return load_recipe(plan(paths, sets=sets, endpoint_name=endpoint_name), assets)


def load_recipe(recipe: Recipe, assets: AssetLookup | None = None) -> Endpoint:
    """The endpoint a :class:`Recipe` describes, read from its files now."""
    if assets is None:
        from devkit.assets import local_registry  # the registry reads its own records

        assets = local_registry()
    endpoint_section = _section(recipe.endpoint, recipe, "endpoint")
    spec = _read_endpoint(endpoint_section, recipe)
    sections = [_section(d, recipe, "deployment") for d in recipe.deployments]
    deployments = tuple(read_deployment(section, assets) for section in sections)
    _check_deployments(spec, sections, deployments)
    _check_endpoint_traffic(endpoint_section, deployments)
    return Endpoint(spec=spec, deployments=deployments, recipe=recipe)


def _section(document: SpecFile, recipe: Recipe, kind: str) -> Section:
    """A document of the recipe read, with the name flag and its overrides applied."""
    if document.path is None:
        root: Any = YamlMap()
        path, shown = recipe.folder / f"{recipe.name}.endpoint", f"endpoint '{recipe.name}'"
    else:
        path, shown = document.path, _shown(document.path)
        root = read_yaml(path, shown)
        if not isinstance(root, YamlMap) and root is not None:
            raise SpecError("the file does not hold a YAML mapping of fields; write "
                            "`name: ...` and the other fields at the top level",
                            file=shown, line=1)
    overrides: list[Override] = []
    if recipe.name is not None:
        key, flag = ("name", "-n") if kind == "endpoint" else ("endpoint_name", "-e")
        overrides.append(field_override(key, recipe.name, f"{flag} {recipe.name}"))
    overrides += [parse_override(text) for text in document.sets]
    return Section(apply_overrides(root, overrides), path, shown)


def _shown(path: Path) -> str:
    """A file as messages name it: relative to the current folder when under it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def plan(paths: Sequence[Path], *, sets: Sequence[str] = (),
         endpoint_name: str | None = None) -> Recipe:
    """The recipe ``devkit up PATHS [-e NAME] [--set ...]`` describes (reads the YAML to
    sort files by content). Raises SpecError."""
    endpoint_doc, deployment_docs = _collect([Path(p) for p in paths], endpoint_name)
    names = [_doc_name(doc) for doc in deployment_docs]
    endpoint_sets: list[str] = []
    deployment_sets: list[list[str]] = [[] for _ in deployment_docs]
    for text in sets:
        target, arg = _target(text)
        if target is None and deployment_docs and not _for_endpoint(arg):
            for found in deployment_sets:
                found.append(arg)
        elif target in (None, "endpoint"):
            endpoint_sets.append(arg)
        elif target in names:
            deployment_sets[names.index(target)].append(arg)
        else:
            known = ", ".join(n for n in names if n) or "none"
            raise SpecError(f"`--set {text}` names '{target}', which is neither `endpoint` "
                            f"nor a deployment (deployments: {known}); prefix the path with "
                            "one of those, or with nothing")
    endpoint = SpecFile(endpoint_doc.path if endpoint_doc else None, tuple(endpoint_sets))
    return Recipe(endpoint=endpoint, name=endpoint_name,
                  deployments=tuple(SpecFile(doc.path, tuple(found)) for doc, found
                                    in zip(deployment_docs, deployment_sets, strict=True)))


def _target(text: str) -> tuple[str | None, str]:
    """``"blue:instance_count=2"`` -> ("blue", "instance_count=2"); no prefix -> None."""
    key = text.partition("=")[0]
    if ":" not in key:
        return None, text
    target, _, rest = text.partition(":")
    return target.strip(), rest


def _for_endpoint(arg: str) -> bool:
    first = arg.partition("=")[0].strip().split(".")[0].split("[")[0]
    return first in ENDPOINT_ONLY


def _doc_name(doc: _Doc) -> str | None:
    name = doc.root.get("name") if isinstance(doc.root, YamlMap) else None
    return name if isinstance(name, str) else None


# -- discovery -------------------------------------------------------------------------


def _collect(paths: list[Path], named: str | None) -> tuple[_Doc | None, list[_Doc]]:
    if not paths:
        raise SpecError("no spec was given; pass a folder holding endpoint.yml or the "
                        "endpoint file followed by deployment files")
    for path in paths:
        if not path.exists():
            raise SpecError("this path does not exist; pass a folder or YAML files that "
                            "exist", file=str(path))
    if len(paths) == 1 and paths[0].is_dir():
        return _collect_folder(paths[0], named)
    for path in paths:
        if path.is_dir():
            raise SpecError("a folder cannot be mixed with files; pass either one folder or "
                            "an endpoint file followed by deployment files", file=str(path))
    docs = [_Doc(path.resolve(), str(path), read_yaml(path, str(path))) for path in paths]
    if _is_deployment(docs[0].root):
        if named is not None:  # -e NAME: deployment files alone
            return None, docs
        raise SpecError("this is a deployment file but the first file must be the endpoint; "
                        "pass the endpoint file first, or name the endpoint with -e NAME",
                        file=docs[0].shown, line=1)
    return docs[0], docs[1:]


def _collect_folder(folder: Path, named: str | None) -> tuple[_Doc | None, list[_Doc]]:
    files = sorted(p for p in folder.iterdir() if p.suffix in _YAML_SUFFIXES and p.is_file())
    docs = [_Doc(p.resolve(), str(folder / p.name), read_yaml(p, str(folder / p.name)))
            for p in files]
    endpoints = [doc for doc in docs if _is_endpoint(doc.root)]
    deployments = [doc for doc in docs if _is_deployment(doc.root)]
    if not endpoints and named is not None:
        return None, deployments
    if not endpoints:
        looked = ", ".join(p.name for p in files) or "no YAML files"
        raise SpecError(f"no endpoint file was found (looked at: {looked}); add an "
                        "endpoint.yml with at least `name: my-endpoint`", file=str(folder))
    if len(endpoints) > 1:
        first, second = endpoints[0], endpoints[1]
        raise SpecError(f"this is a second endpoint file in one folder (the first is "
                        f"{first.shown}); keep one endpoint per folder", file=second.shown,
                        line=1)
    return endpoints[0], deployments


def _is_deployment(root: Any) -> bool:
    if not isinstance(root, YamlMap):
        return False
    return bool(DEPLOYMENT_MARKERS & set(root)) or "OnlineDeployment" in _schema(root)


def _is_endpoint(root: Any) -> bool:
    """Mostly endpoint keys (typos count, so they get reported rather than ignored)."""
    if not isinstance(root, YamlMap) or not root or _is_deployment(root):
        return False
    if "OnlineEndpoint" in _schema(root):
        return True
    keys = [str(key) for key in root]
    known = sum(1 for key in keys if key in ENDPOINT_KEYS or did_you_mean(key, ENDPOINT_KEYS))
    return known * 2 > len(keys)


def _schema(root: YamlMap) -> str:
    value = root.get("$schema")
    return value if isinstance(value, str) else ""


# -- the endpoint file and checks across files -----------------------------------------


def _read_endpoint(doc: Section, recipe: Recipe) -> EndpointSpec:
    doc.check_keys(ENDPOINT_KEYS)
    made_by_name = recipe.endpoint.path is None
    auth_mode = AuthMode(doc.choice("auth_mode", [mode.value for mode in AuthMode], "key"))
    if auth_mode is AuthMode.AAD_TOKEN:
        # Valid for Azure, impossible here: refused now, before any replica starts.
        raise doc.error("auth_mode", "aad_token needs Microsoft Entra ID, which is not "
                        "available locally; use auth_mode key or aml_token for local runs")
    return EndpointSpec(
        name=doc.name("name", example="name: my-endpoint"),
        source=Source(doc.file, doc.data.line, label=doc.shown if made_by_name else None),
        compute=doc.text("compute"),
        auth_mode=auth_mode,
        traffic=_weights(doc, "traffic"),
        mirror_traffic=_weights(doc, "mirror_traffic"),
        description=doc.text("description"),
        tags=doc.string_map("tags"),
        public_network_access=doc.choice("public_network_access", ("enabled", "disabled"),
                                         "enabled"),
    )


def _weights(doc: Section, key: str) -> Any:
    """The raw weights; their rules are checked once deployments are known."""
    section = doc.section(key, allowed=None)
    if section is None:
        return MappingProxyType({})
    return MappingProxyType({str(name): value for name, value in section.data.items()})


def _check_deployments(spec: EndpointSpec, sections: list[Section],
                       deployments: Sequence[DeploymentSpec]) -> None:
    seen: dict[str, Section] = {}
    for section, deployment in zip(sections, deployments, strict=True):
        if deployment.endpoint_name != spec.name:
            raise section.error("endpoint_name", f"'{deployment.endpoint_name}' does not "
                                f"match the endpoint's name '{spec.name}' "
                                f"({spec.source}); set `endpoint_name: {spec.name}`")
        if deployment.name in seen:
            first = seen[deployment.name]
            raise section.error("name", f"deployment '{deployment.name}' is already defined "
                                f"in {first.shown}:{first.data.value_line('name')}; give "
                                "each deployment a unique name")
        seen[deployment.name] = section


def _check_endpoint_traffic(doc: Section, deployments: Sequence[DeploymentSpec]) -> None:
    def locate(block: str, key: str | None) -> tuple[str | None, int | None]:
        mapping = doc.data.get(block)
        if key is not None and isinstance(mapping, YamlMap) and key in mapping:
            return doc.shown, mapping.value_line(key)
        return doc.shown, doc.data.key_line(block)

    traffic = doc.data.get("traffic") or {}
    mirror = doc.data.get("mirror_traffic") or {}
    check_traffic([d.name for d in deployments], traffic, mirror, locate)


def endpoint_of(path: Path, sets: Sequence[str] = ()) -> str | None:
    """The ``endpoint_name`` a deployment file (with its overrides) names, if any."""
    root = apply_overrides(read_yaml(path, _shown(path.resolve())),
                           [parse_override(text) for text in sets])
    found = root.get("endpoint_name")
    return found if isinstance(found, str) else None
