"""How resolved secret values reach a replica without landing anywhere they would stay.

Not in the image (resolved at replica start, never at build), not in a label or
``Config.Env`` (``docker inspect`` shows both), not in a log line or a spec copy: the
values are written to a 0600 JSON file in a memory-backed folder
(:func:`devkit.paths.runtime_dir`), which the docker engine bind-mounts read-only at
:data:`CONTAINER_PATH` and the process engine names directly. The runtime reads the file
named by ``DEVKIT_SECRETS_FILE`` and exports its values into the worker's environment
before ``init()`` (``devkit_runtime.secrets``), so score.py sees ordinary variables, as
in Azure. ``down`` removes the files.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from devkit.paths import runtime_dir
from devkit.secrets.resolve import ResolvedSecrets, SecretMissing, resolve_endpoint
from devkit.spec.model import Endpoint

CONTAINER_PATH = "/run/devkit/secrets.json"
ENV = "DEVKIT_SECRETS_FILE"


def secrets_file(endpoint: str, deployment: str) -> Path:
    return runtime_dir() / "secrets" / endpoint / f"{deployment}.json"


def write(endpoint: str, deployment: str, resolved: ResolvedSecrets) -> Path | None:
    """Write the deployment's values (None, and any old file removed, when it has none)."""
    path = secrets_file(endpoint, deployment)
    if not resolved:
        path.unlink(missing_ok=True)
        return None
    for folder in (runtime_dir(), path.parent.parent, path.parent):
        folder.mkdir(mode=0o700, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(dict(resolved.env), out)
    tmp.replace(path)
    return path


def forget(endpoint: str) -> None:
    """Remove every secrets file of the endpoint (``down``)."""
    shutil.rmtree(runtime_dir() / "secrets" / endpoint, ignore_errors=True)


@dataclass(frozen=True)
class Delivered:
    """One deployment's secrets as handed over: the file and the values' digest."""

    file: str
    digest: str


def deliver(endpoint: Endpoint) -> dict[str, Delivered]:
    """Resolve every deployment's references (SecretMissing before anything starts) and
    write the files of those that have any."""
    delivered: dict[str, Delivered] = {}
    for name, resolved in resolve_endpoint(endpoint).items():
        spec = endpoint.deployment(name)
        if resolved and spec.environment.is_byoc:
            raise SecretMissing(
                f"deployment '{name}' is a bring-your-own-container image, which does not run "
                "devkit's runtime (the part that hands resolved secrets to score.py); set the "
                "value directly for local runs or use devkit's runtime in the image",
                file=str(spec.source.file), line=spec.source.line,
                field="environment_variables")
        path = write(endpoint.name, name, resolved)
        if path is not None:
            delivered[name] = Delivered(str(path), resolved.digest)
    return delivered
