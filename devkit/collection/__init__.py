"""Where a deployment's collected data goes, and what each process is told to collect.

The data dir is ``DEVKIT_DATA_DIR`` when set, else ``.devkit/data/`` beside the
deployment's YAML (the project), with a ``.gitignore`` so collected payloads are never
committed. A deployment's files are ``<data dir>/<endpoint>/<deployment>/...``
(:mod:`devkit_runtime.collection.writer` lays out the rest, as Azure does).

The folder has the same absolute path everywhere: the Docker engine bind-mounts it at
its host path into replicas and the router, so the settings one process is given
(``DEVKIT_DATA_COLLECTOR``, or the router config's ``data_collection``) name real paths
wherever they are read. Replicas collect the model's collections (score.py's
``Collector``); the router collects ``request`` and ``response``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from devkit_runtime.collection.settings import ENV, PAYLOAD_COLLECTIONS, CollectionSettings

from devkit.paths import endpoint_state_dir
from devkit.spec.model import DeploymentSpec

DATA_ENV = "DEVKIT_DATA_DIR"
RECORD = "collection.json"  # in the endpoint's state folder: where `devkit data` looks


def data_root(deployment: DeploymentSpec) -> Path:
    """The data dir for ``deployment`` (see the module docstring)."""
    explicit = os.environ.get(DATA_ENV)
    if explicit:
        return Path(explicit).resolve()
    return deployment.source.file.parent.resolve() / ".devkit" / "data"


def deployment_dir(deployment: DeploymentSpec) -> Path:
    return data_root(deployment) / deployment.endpoint_name / deployment.name


def settings_of(deployment: DeploymentSpec, *, payloads: bool,
                instance: str = "") -> CollectionSettings | None:
    """What one process collects for ``deployment``: the router (``payloads``) takes
    request/response, a replica the rest; None when there is nothing for it to do."""
    config = deployment.data_collector
    if not config:
        return None
    names = frozenset(str(name) for name in _list(config.get("collections")))
    mine = names & PAYLOAD_COLLECTIONS if payloads else names - PAYLOAD_COLLECTIONS
    if not mine:
        return None
    model = deployment.model
    return CollectionSettings(
        dir=deployment_dir(deployment), endpoint=deployment.endpoint_name,
        deployment=deployment.name, collections=mine,
        sampling_rate=float(str(config.get("sampling_rate", 1.0))),
        rolling_rate=str(config.get("rolling_rate", "Hour")),
        model_version=f"{model.name}:{model.version}" if model else "default",
        instance=instance)


def replica_env(deployment: DeploymentSpec, instance: str = "") -> dict[str, str]:
    """``DEVKIT_DATA_COLLECTOR`` for a replica, creating its folder; empty if none."""
    settings = settings_of(deployment, payloads=False, instance=instance)
    if settings is None:
        return {}
    prepare(settings.dir)
    return {ENV: settings.to_json()}


def router_entry(deployment: DeploymentSpec) -> dict[str, Any] | None:
    """The router config's ``data_collection`` for ``deployment`` (None: nothing)."""
    settings = settings_of(deployment, payloads=True, instance="router")
    if settings is None:
        return None
    prepare(settings.dir)
    entry: dict[str, Any] = json.loads(settings.to_json())
    return entry


def mount_dirs(deployments: Iterable[DeploymentSpec]) -> list[str]:
    """The deployment folders a container must see (bind-mounted at the same path)."""
    return sorted({str(deployment_dir(d)) for d in deployments if d.data_collector})


def prepare(folder: Path) -> None:
    """Create ``folder`` and keep the project's ``.devkit`` folder out of git."""
    folder.mkdir(parents=True, exist_ok=True)
    for parent in folder.parents:
        if parent.name == ".devkit":
            ignore = parent / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# written by devkit: collected data stays local\n*\n")
            break


def remember(endpoint: str, deployments: Iterable[DeploymentSpec]) -> None:
    """Record the endpoint's deployment folders for `devkit data`."""
    folders = {d.name: str(deployment_dir(d)) for d in deployments if d.data_collector}
    path = endpoint_state_dir(endpoint) / RECORD
    if folders:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(folders, indent=1) + "\n", encoding="utf-8")
    else:
        path.unlink(missing_ok=True)


def remembered(endpoint: str) -> dict[str, Path]:
    """The folders :func:`remember` recorded for ``endpoint`` (empty if none)."""
    try:
        raw = json.loads((endpoint_state_dir(endpoint) / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(name): Path(folder) for name, folder in raw.items()}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple, frozenset, set)) else []
