"""An endpoint's credentials: keys (``auth_mode: key``), tokens (``aml_token``), and the
``Authorization`` header any client sends past its router."""

from __future__ import annotations

from devkit.actions.place import LOCAL, Scope
from devkit.router.keys import EndpointKeys
from devkit.router.tokens import DEFAULT_LIFETIME_S, IssuedToken


def keys(name: str, *, regenerate: str | None = None, scope: Scope = LOCAL) -> EndpointKeys:
    """The endpoint's primary and secondary keys; ``regenerate`` ("primary" or
    "secondary") replaces one (the other stays valid) and updates the router live."""
    return scope.access().keys(name, regenerate)


def token(name: str, *, lifetime_s: int = DEFAULT_LIFETIME_S,
          scope: Scope = LOCAL) -> IssuedToken:
    """A token for an ``aml_token`` endpoint, valid for ``lifetime_s`` seconds."""
    return scope.access().token(name, lifetime_s)


def credentials(name: str, *, scope: Scope = LOCAL) -> dict[str, str]:
    """What the endpoint's auth mode offers: its keys, or a fresh token."""
    access = scope.access()
    if access.auth_mode(name) == "aml_token":
        return access.token(name).as_json()
    return access.keys(name).as_json()


def authorization(name: str, *, scope: Scope = LOCAL) -> dict[str, str]:
    """``Authorization: Bearer`` the primary key or a freshly issued token: exactly what
    any client of the endpoint sends."""
    access = scope.access()
    mode = access.auth_mode(name)
    if mode == "key":
        return {"Authorization": f"Bearer {access.keys(name).primary}"}
    if mode == "aml_token":
        return {"Authorization": f"Bearer {access.token(name).token}"}
    return {}
