"""Which YAML files an endpoint was brought up from, so later commands can read its spec.

Engines keep what runs (labels, ``process.json``) but not where the spec lives; rebuild
detection (``status``, ``reload``) and ``devkit debug`` need the spec itself. ``up``
records the endpoint file and its deployment files in
``endpoint_state_dir(NAME)/spec-files.json``, with the spec's recipe (``--set``
overrides, ``-e`` name: :class:`devkit.spec.Recipe`) so the same spec is rebuilt;
``down`` forgets them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from devkit.engines.settings import RunSettings
from devkit.errors import SpecError
from devkit.paths import endpoint_state_dir
from devkit.spec import Recipe, load, load_recipe
from devkit.spec.model import Endpoint

SPEC_FILES = "spec-files.json"


def _record(name: str) -> Path:
    return endpoint_state_dir(name) / SPEC_FILES


def remember_spec(endpoint: Endpoint, settings: RunSettings | None = None) -> None:
    """Record the files ``endpoint`` was loaded from, and the run settings it was brought
    up with (``--no-watch``, ``--gpu``), so a later restart keeps them (``devkit up``)."""
    files = [str(endpoint.spec.source.file)]
    files += [str(d.source.file) for d in endpoint.deployments]
    path = _record(endpoint.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    record: dict[str, object] = {"files": list(dict.fromkeys(files)),
                                 **(settings or RunSettings()).to_json()}
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


def _read(name: str) -> dict[str, Any] | None:
    try:
        record = json.loads(_record(name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def recall_spec(name: str) -> Endpoint | None:
    """The endpoint's spec as its files (and the ``--set``/``-e`` recipe ``up`` recorded)
    say now; ``None`` when ``up`` recorded none or they are gone. A file that no longer
    parses raises its SpecError. The run settings are :func:`recall_settings`'."""
    record = _read(name)
    try:
        paths = [Path(f) for f in record["files"]] if record else []
        recipe = Recipe.from_json(record["recipe"]) if record and "recipe" in record else None
    except (KeyError, TypeError, ValueError):
        return None
    if recipe is not None:  # may hold no file at all: `devkit ml online-endpoint create -n`
        files = recipe.files()
        return load_recipe(recipe) if all(p.is_file() for p in files) else None
    if not paths or not all(p.is_file() for p in paths):
        return None
    return load(paths)


def recall_settings(name: str) -> RunSettings:
    """The run settings ``up`` recorded (defaults when it recorded none)."""
    return RunSettings.from_json(_read(name) or {})


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
