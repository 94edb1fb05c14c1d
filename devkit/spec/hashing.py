"""``spec_hash``: a stable fingerprint of what a deployment's spec asks for.

Engines label what they start with this hash and compare it on the next ``up`` to decide
whether a deployment changed. It covers the spec's fields only, never the contents of the
code or model files (a code change is hot-reloaded, not redeployed), and leaves out what
does not change behaviour: where the spec was written (``source``), ``description`` and
``tags``. The encoding is canonical JSON, so the hash is the same in every process and
on every run; bump ``_VERSION`` if the encoding itself ever has to change.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any

from devkit.spec.model import DeploymentSpec

_VERSION = "devkit-spec-hash-1"
_LEFT_OUT = frozenset({"source", "description", "tags"})


def spec_hash(deployment: DeploymentSpec) -> str:
    """A sha256 hex digest of the deployment's behaviour-relevant spec fields."""
    payload = json.dumps([_VERSION, _canonical(deployment)], sort_keys=True,
                         separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(payload.encode("ascii")).hexdigest()


def _canonical(value: Any) -> Any:
    """Plain JSON data for any spec value (dataclasses, mappings, paths, enums)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name))
                for f in dataclasses.fields(value) if f.name not in _LEFT_OUT}
    if isinstance(value, Mapping):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    return value
