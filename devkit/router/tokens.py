"""Expiring tokens for ``auth_mode: aml_token``.

A token is signed with an HMAC secret kept at ``<state>/router/token.secret`` (0600),
inside the folder the router reads, because the router must verify signatures itself.
The token format is defined once, in ``devkit_runtime.router.auth``; this module only
creates the secret and issues tokens. Lifetime defaults to one hour, as in Azure.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from devkit_runtime.router.auth import sign_token

from devkit.router.files import router_dir, write_atomic

SECRET_FILE = "token.secret"
DEFAULT_LIFETIME_S = 3600


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime

    def as_json(self) -> dict[str, str]:
        iso = self.expires_at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
        return {"token": self.token, "expires_at": iso}


def secret_path(endpoint: str, state: Path | None = None) -> Path:
    return router_dir(endpoint, state) / SECRET_FILE


def load_or_create_secret(endpoint: str, state: Path | None = None) -> bytes:
    path = secret_path(endpoint, state)
    if not path.exists():
        write_atomic(path, secrets.token_urlsafe(48).encode("ascii"), mode=0o600)
    return path.read_bytes().strip()


def issue_token(endpoint: str, lifetime_s: int = DEFAULT_LIFETIME_S,
                state: Path | None = None) -> IssuedToken:
    expires = int(time.time()) + lifetime_s
    token = sign_token(load_or_create_secret(endpoint, state), endpoint, expires)
    return IssuedToken(token, datetime.fromtimestamp(expires, tz=timezone.utc))
