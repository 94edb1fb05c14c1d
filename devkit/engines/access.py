"""What a client of a local endpoint reaches through its router: live traffic and
credentials, read from and written to the router's config folder.

Both local engines front every endpoint with devkit's router, whose config
(``endpoint_state_dir(NAME)/router/router.json``) is the one live record of the weights,
the mirror and the accepted key hashes (:mod:`devkit.router.control`). None of it depends
on which engine runs the replicas, so it is written once here and :class:`Engine`
inherits it; a remote place (a cluster target) answers the same calls its own way.
"""

from __future__ import annotations

from collections.abc import Mapping

from devkit.errors import RouterError
from devkit.router import keys as endpoint_keys
from devkit.router.config import read_router_config
from devkit.router.control import TrafficChange, current_traffic, refresh_key_hashes
from devkit.router.control import set_traffic as write_traffic
from devkit.router.keys import EndpointKeys
from devkit.router.tokens import DEFAULT_LIFETIME_S, IssuedToken, issue_token


class RouterAccess:
    """Traffic and credentials of endpoints fronted by a local devkit router."""

    def traffic(self, name: str) -> TrafficChange:
        """The live weights and mirror, and whether the running router applied them."""
        return current_traffic(name)

    def set_traffic(self, name: str, traffic: Mapping[str, int],
                    mirror: Mapping[str, int] | None = None) -> TrafficChange:
        """New live weights (deployments not named get 0); ``mirror`` None keeps it."""
        return write_traffic(name, traffic, mirror)

    def auth_mode(self, name: str) -> str:
        mode = read_router_config(name).get("auth", {}).get("mode")
        return str(mode)

    def keys(self, name: str, regenerate: str | None = None) -> EndpointKeys:
        """The endpoint's keys; ``regenerate`` ("primary"/"secondary") replaces one and
        puts the new hashes in the live router."""
        self._require(name, "key", f"get a token with `devkit token {name}` instead")
        if regenerate is None:
            return endpoint_keys.load_or_create_keys(name)
        found = endpoint_keys.regenerate_key(name, regenerate)
        refresh_key_hashes(name, endpoint_keys.key_hashes(found))
        return found

    def token(self, name: str, lifetime_s: int = DEFAULT_LIFETIME_S) -> IssuedToken:
        self._require(name, "aml_token", f"show its keys with `devkit keys {name}` instead")
        return issue_token(name, lifetime_s)

    def _require(self, name: str, wanted: str, instead: str) -> None:
        mode = self.auth_mode(name)
        if mode != wanted:
            raise RouterError(f"Endpoint '{name}' uses auth_mode {mode}, not {wanted}; "
                              f"{instead}.")
