"""A deployment's secret references resolved into values, before anything starts.

The result carries the variables to deliver (only those that held a reference, with every
reference substituted) and a digest that changes when any of those values changes, so a
rotated secret restarts exactly the deployments that use it. The digest is an HMAC under
a random per-user key (``<state dir>/secrets.key``): it may sit in a container label
without letting anyone test guesses of a short secret against it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from devkit.errors import SpecError
from devkit.paths import state_dir
from devkit.secrets.refs import SecretRef, references, substitute
from devkit.secrets.store import Lookup, store_path
from devkit.spec.model import DeploymentSpec, Endpoint

KEY_FILE = "secrets.key"


class SecretMissing(SpecError):
    """A deployment references a secret no source provides."""


@dataclass(frozen=True)
class ResolvedSecrets:
    """What one deployment's replicas get: variable → value, and the values' digest."""

    env: Mapping[str, str] = field(default_factory=dict)
    digest: str = ""

    def __bool__(self) -> bool:
        return bool(self.env)

    def __repr__(self) -> str:  # never the values, even in a traceback or a debugger
        return f"ResolvedSecrets(variables={sorted(self.env)}, digest={self.digest!r})"


NONE = ResolvedSecrets()


def spec_folders(endpoint: Endpoint, deployment: DeploymentSpec) -> list[Path]:
    """Where ``.env`` files are read for ``deployment``: its own folder, then the
    endpoint file's."""
    folders = [deployment.source.file.parent, endpoint.spec.source.file.parent]
    return list(dict.fromkeys(f if f.is_dir() else f.parent for f in folders))


def resolve_endpoint(endpoint: Endpoint,
                     environ: Mapping[str, str] | None = None) -> dict[str, ResolvedSecrets]:
    """Every deployment's secrets; SecretMissing for the first reference no source has."""
    resolved: dict[str, ResolvedSecrets] = {}
    for deployment in endpoint.deployments:
        wanted = references(deployment.environment_variables)
        if not wanted:
            resolved[deployment.name] = NONE
            continue
        lookup = Lookup(spec_folders(endpoint, deployment), environ)
        resolved[deployment.name] = _resolve(deployment, wanted, lookup)
    return resolved


def _resolve(deployment: DeploymentSpec, wanted: Mapping[str, list[SecretRef]],
             lookup: Lookup) -> ResolvedSecrets:
    env: dict[str, str] = {}
    for variable, refs in wanted.items():
        values: dict[SecretRef, str] = {}
        for ref in refs:
            value = lookup.find(ref)
            if value is None:
                raise _missing(deployment, variable, ref)
            values[ref] = value
        env[variable] = substitute(deployment.environment_variables[variable], values)
    return ResolvedSecrets(env, _digest(env))


def _missing(deployment: DeploymentSpec, variable: str, ref: SecretRef) -> SecretMissing:
    folder = deployment.source.file.parent
    return SecretMissing(
        f"deployment '{deployment.name}' needs {ref.uri}, which no source provides; set it "
        f"with `devkit secrets set {ref.uri}` (reads the value from stdin), or export "
        f"{ref.env_name}=..., or add that line to {folder / '.env'}",
        file=str(deployment.source.file), line=deployment.source.line,
        field=f"environment_variables.{variable}")


def _digest(env: Mapping[str, str]) -> str:
    text = "\0".join(f"{k}={v}" for k, v in sorted(env.items())).encode()
    return hmac.new(_key(), text, hashlib.sha256).hexdigest()[:16]


def _key() -> bytes:
    path = state_dir() / KEY_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another `up` made it first
        return path.read_bytes()
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key


__all__ = ["NONE", "ResolvedSecrets", "SecretMissing", "resolve_endpoint", "spec_folders",
           "store_path"]
