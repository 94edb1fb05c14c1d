"""Host side of the endpoint router: keys, tokens, the router's config file, live changes.

The router itself runs from ``devkit_runtime.router`` (in a container or as a host
process); this package owns what it reads. Everything for endpoint ``NAME`` lives under
``endpoint_state_dir(NAME)``:

    keys.json                  primary/secondary keys (0600), :mod:`devkit.router.keys`
    router/router.json         the router's config, written atomically, :mod:`.config`
    router/token.secret        HMAC secret for aml_token auth (0600), :mod:`.tokens`
    router/router.applied.json written by the router: the generation it applied

Engines start the router with
``python -m devkit_runtime.router --config <state>/router/router.json --host H --port P``
(bind-mounting ``<state>/router`` for Docker) after calling :func:`write_router_config`.

Layering: this package depends only on the spec, paths and errors — never on an engine —
so the engines, which must start each endpoint's router, may call it; the CLI and the TUI
call it for live traffic and key changes.
"""

from devkit.router.config import read_router_config, write_router_config
from devkit.router.control import TrafficChange, current_traffic, set_traffic
from devkit.router.files import router_config_path, router_dir

__all__ = [
    "TrafficChange", "current_traffic", "read_router_config", "router_config_path",
    "router_dir", "set_traffic", "write_router_config",
]
