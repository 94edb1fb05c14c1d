"""Endpoint keys for ``auth_mode: key``: a primary and a secondary, either accepted.

Generated at first use with :func:`secrets.token_urlsafe` and kept in
``endpoint_state_dir(NAME)/keys.json`` (0600). The router never sees them: its config
carries their SHA-256 hashes (:func:`key_hashes`). Regenerating one key leaves the other
valid, so clients can rotate without downtime, as with a managed endpoint.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from devkit_runtime.router.auth import key_hash

from devkit.errors import RouterError
from devkit.paths import endpoint_state_dir
from devkit.router.files import read_json, write_json

KEYS_FILE = "keys.json"
KEY_NAMES = ("primary", "secondary")


@dataclass(frozen=True)
class EndpointKeys:
    primary: str
    secondary: str

    def as_json(self) -> dict[str, str]:
        return {"primary": self.primary, "secondary": self.secondary}


def keys_path(endpoint: str, state: Path | None = None) -> Path:
    return (state or endpoint_state_dir(endpoint)) / KEYS_FILE


def load_or_create_keys(endpoint: str, state: Path | None = None) -> EndpointKeys:
    """The endpoint's keys, generating and storing both the first time."""
    path = keys_path(endpoint, state)
    if path.exists():
        return _read(path)
    keys = EndpointKeys(_new_key(), _new_key())
    write_json(path, keys.as_json(), mode=0o600)
    return keys


def regenerate_key(endpoint: str, which: str, state: Path | None = None) -> EndpointKeys:
    """Replace the ``primary`` or ``secondary`` key; the other stays valid."""
    if which not in KEY_NAMES:
        raise RouterError(f"Cannot regenerate key '{which}'; choose primary or secondary.")
    current = load_or_create_keys(endpoint, state).as_json()
    current[which] = _new_key()
    keys = EndpointKeys(**current)
    write_json(keys_path(endpoint, state), keys.as_json(), mode=0o600)
    return keys


def key_hashes(keys: EndpointKeys) -> list[str]:
    return [key_hash(keys.primary), key_hash(keys.secondary)]


def _new_key() -> str:
    return secrets.token_urlsafe(32)


def _read(path: Path) -> EndpointKeys:
    try:
        raw = read_json(path)
        return EndpointKeys(primary=str(raw["primary"]), secondary=str(raw["secondary"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RouterError(f"The key file {path} is unreadable ({exc}); delete it and run "
                          f"`devkit keys --regenerate primary` to create new keys.") from exc
