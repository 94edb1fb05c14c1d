"""The per-endpoint replica secret: only the endpoint's router (and the CLI) may score.

On the process engine replicas must listen on the host's loopback, and on Docker a
Linux host routes to a container's address on the endpoint network, so any local user
could call one past the router's key check, or trigger its reload (which runs code). When
``DEVKIT_REPLICA_SECRET_FILE`` names a file, the server refuses scoring calls
(``/score``, ``/swagger.json``) and admin calls (``/-/reload``) that do not carry its
content in the ``x-devkit-replica-secret`` header (compared in constant time), with a 401
saying so. The router adds the header to every upstream request; the CLI to its admin
calls. The value lives only in that 0600 file: never in the environment, logs or status.

The probes (``/``, ``/-/live``, ``/-/ready``) and ``/metrics`` stay open: the router's
health checker, ``devkit status`` and monitoring must reach them, and they run no user
code nor change anything (readiness shows an init() traceback, which the replica's log
on the same machine shows too). On Docker the file is bind-mounted read-only into each
container and the router reads it through its config mount.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from devkit_runtime.errors import ConfigError

ENV = "DEVKIT_REPLICA_SECRET_FILE"
HEADER = b"x-devkit-replica-secret"
GUARDED = frozenset({"/score", "/swagger.json"})
REFUSAL = ("This replica takes calls only from its endpoint's router (the "
           "x-devkit-replica-secret header is missing or wrong); call the endpoint's "
           "scoring URI instead (see `devkit status`).")
ASGIApp = Callable[[Any, Any, Any], Any]


def load(env: Mapping[str, str]) -> bytes | None:
    """The secret, or None when none is configured. A configured file that cannot be read
    stops the server: failing open would be the one unsafe reading."""
    path = env.get(ENV, "")
    if not path:
        return None
    try:
        with open(path, "rb") as handle:
            secret = handle.read().strip()
    except OSError as exc:
        raise ConfigError(f"{ENV}={path} cannot be read ({exc.strerror}); run `devkit up` "
                          "again to recreate it") from exc
    if not secret:
        raise ConfigError(f"{ENV}={path} is empty; run `devkit up` again to recreate it")
    return secret


def carried(headers: Iterable[tuple[bytes, bytes]], secret: bytes) -> bool:
    """Whether the request's headers carry ``secret`` (lower-cased header names)."""
    for name, value in headers:
        if name == HEADER:
            return hmac.compare_digest(value.strip(), secret)
    return False


def wrap(app: ASGIApp, env: Mapping[str, str] | None = None) -> ASGIApp:
    """``app`` behind the secret when one is configured, else ``app`` itself."""
    secret = load(os.environ if env is None else env)
    if secret is None:
        return app

    async def gate(scope: Any, receive: Any, send: Any) -> None:
        if (scope["type"] == "http" and scope["path"] in GUARDED
                and not carried(scope["headers"], secret)):
            from devkit_runtime.app import error, send_reply

            await send_reply(send, error(401, REFUSAL))
            return
        await app(scope, receive, send)

    return gate
