"""What a client of an endpoint sends to get past its router: shared by ``devkit invoke``
and the TUI's invoke panel, so both authenticate exactly as any other client would."""

from __future__ import annotations

from devkit.router import keys
from devkit.router.config import read_router_config
from devkit.router.tokens import issue_token


def authorization(endpoint: str) -> dict[str, str]:
    """``Authorization: Bearer`` the primary key (auth_mode key) or a freshly issued token
    (aml_token); no header when the router checks nothing."""
    mode = read_router_config(endpoint).get("auth", {}).get("mode")
    if mode == "key":
        return {"Authorization": f"Bearer {keys.load_or_create_keys(endpoint).primary}"}
    if mode == "aml_token":
        return {"Authorization": f"Bearer {issue_token(endpoint).token}"}
    return {}
