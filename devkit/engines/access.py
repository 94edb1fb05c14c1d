"""What a client of a local endpoint reaches through its router: live traffic and
credentials, read from and written to the router's config folder.

Both local engines front every endpoint with devkit's router, whose config
(``endpoint_state_dir(NAME)/router/router.json``) is the one live record of the weights,
the mirror and the accepted key hashes (:mod:`devkit.router.control`). None of it depends
on which engine runs the replicas, so it is written once here and :class:`Engine`
inherits it; a remote place (a cluster target) answers the same calls its own way.

:mod:`devkit.router` is imported inside the methods: it needs ``devkit_runtime``, and
``import devkit.engines`` must stay cheap and work where only the spec is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from devkit.errors import RouterError

if TYPE_CHECKING:
    from devkit.router.control import TrafficChange
    from devkit.router.keys import EndpointKeys
    from devkit.router.tokens import IssuedToken

DEFAULT_TOKEN_LIFETIME_S = 3600  # as in Azure


class RouterAccess:
    """Traffic and credentials of endpoints fronted by a local devkit router."""

    def traffic(self, name: str) -> TrafficChange:
        """The live weights and mirror, and whether the running router applied them."""
        from devkit.router.control import current_traffic

        return current_traffic(name)

    def set_traffic(self, name: str, traffic: Mapping[str, int],
                    mirror: Mapping[str, int] | None = None) -> TrafficChange:
        """New live weights (deployments not named get 0); ``mirror`` None keeps it."""
        from devkit.engines.lock import endpoint_lock
        from devkit.router.control import set_traffic

        with endpoint_lock(name, "traffic", create=False):
            return set_traffic(name, traffic, mirror)

    def auth_mode(self, name: str) -> str:
        from devkit.router.config import load_router_config

        return load_router_config(name).auth.mode

    def keys(self, name: str, regenerate: str | None = None) -> EndpointKeys:
        """The endpoint's keys; ``regenerate`` ("primary"/"secondary") replaces one and
        puts the new hashes in the live router."""
        from devkit.router import keys as endpoint_keys
        from devkit.router.control import refresh_key_hashes

        self._require(name, "key", f"get a token with `devkit token {name}` instead")
        if regenerate is None:
            return endpoint_keys.load_or_create_keys(name)
        from devkit.engines.lock import endpoint_lock

        with endpoint_lock(name, "keys", create=False):
            found = endpoint_keys.regenerate_key(name, regenerate)
            refresh_key_hashes(name, endpoint_keys.key_hashes(found))
        return found

    def token(self, name: str, lifetime_s: int = DEFAULT_TOKEN_LIFETIME_S) -> IssuedToken:
        from devkit.router.tokens import issue_token

        self._require(name, "aml_token", f"show its keys with `devkit keys {name}` instead")
        return issue_token(name, lifetime_s)

    def _require(self, name: str, wanted: str, instead: str) -> None:
        mode = self.auth_mode(name)
        if mode != wanted:
            raise RouterError(f"Endpoint '{name}' uses auth_mode {mode}, not {wanted}; "
                              f"{instead}.")
