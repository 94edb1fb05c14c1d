"""Which YAML files an endpoint was brought up from, so later commands can read its spec.

Engines keep what runs (labels, ``process.json``) but not where the spec lives; rebuild
detection (``status``, ``reload``) and ``devkit debug`` need the spec itself. ``up``
records the endpoint file and its deployment files in
``endpoint_state_dir(NAME)/spec-files.json``, with the spec's recipe (``--set``
overrides, ``-e`` name: :class:`devkit.spec.Recipe`) so the same spec is rebuilt;
``down`` forgets them.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from devkit.errors import SpecError
from devkit.paths import endpoint_state_dir
from devkit.spec import Recipe, load, load_recipe
from devkit.spec.model import Endpoint

SPEC_FILES = "spec-files.json"


def _record(name: str) -> Path:
    return endpoint_state_dir(name) / SPEC_FILES


def remember_spec(endpoint: Endpoint, watch: bool = True) -> None:
    """Record the files ``endpoint`` was loaded from, and whether it was brought up with
    watching on (called by ``devkit up``)."""
    files = [str(endpoint.spec.source.file)]
    files += [str(d.source.file) for d in endpoint.deployments]
    path = _record(endpoint.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    record: dict[str, object] = {"files": list(dict.fromkeys(files)), "watch": watch}
    if endpoint.recipe is not None:
        record["recipe"] = endpoint.recipe.to_json()
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def forget_spec(name: str) -> None:
    """Remove the record (``devkit down``), and the state folder if nothing else is left."""
    path = _record(name)
    path.unlink(missing_ok=True)
    folder = path.parent
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def recall_spec(name: str) -> Endpoint | None:
    """The endpoint's spec as its files say now (as ``up`` ran it, ``--no-watch``
    included); ``None`` when ``up`` recorded none or they are gone. A file that no longer
    parses raises its SpecError."""
    try:
        record = json.loads(_record(name).read_text(encoding="utf-8"))
        paths = [Path(f) for f in record["files"]]
        recipe = Recipe.from_json(record["recipe"]) if "recipe" in record else None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if recipe is not None:
        paths = recipe.files()
    if not all(p.is_file() for p in paths):
        return None
    endpoint = load_recipe(recipe) if recipe is not None else load(paths)
    return endpoint if record.get("watch", True) else watch_off(endpoint)


def load_spec(name: str, paths: list[Path] | None = None) -> Endpoint:
    """The spec of running endpoint ``name``: from ``paths`` when given, else as ``up``
    recorded it. SpecError (with the fix) when neither works or the names differ."""
    endpoint = load(paths) if paths else recall_spec(name)
    if endpoint is None:
        raise SpecError(f"devkit does not know where the spec of endpoint '{name}' is (it was "
                        "brought up by an older devkit or its files moved); pass its folder "
                        "with --spec PATH.")
    if endpoint.name != name:
        raise SpecError(f"the spec at {endpoint.spec.source} describes endpoint "
                        f"'{endpoint.name}', not '{name}'; pass the right folder with --spec.")
    return endpoint


def with_env(endpoint: Endpoint, deployment: str | None, extra: dict[str, str]) -> Endpoint:
    """``endpoint`` with ``extra`` environment variables on one deployment (or all)."""
    changed = tuple(
        dataclasses.replace(d, environment_variables={**d.environment_variables, **extra})
        if deployment is None or d.name == deployment else d
        for d in endpoint.deployments)
    return dataclasses.replace(endpoint, deployments=changed)


def watch_off(endpoint: Endpoint) -> Endpoint:
    """``devkit up --no-watch``: the runtime does not watch code (DEVKIT_WATCH=0)."""
    return with_env(endpoint, None, {"DEVKIT_WATCH": "0"})
