"""The managed front end's per-request checks, inside the server: for pods on a cluster.

Locally devkit's router stands in front of every replica and answers 401, 429 and 408 as
Azure's front end does (CONTRACT.md §3). On Kubernetes a Gateway routes, splits and mirrors
but does none of those, so each pod checks its own callers. :func:`wrap` puts :class:`Guard`
around the server's ASGI app when the environment asks for it (the Kubernetes target sets
these; unset, the server behaves exactly as before):

``DEVKIT_AUTH_MODE``           ``key``, ``aml_token`` or ``none``
``DEVKIT_AUTH_DIR``            a folder (the mounted Secret) with files ``primary`` and
                               ``secondary`` (keys) and ``token-secret`` (token signing)
``DEVKIT_ENDPOINT``            the endpoint a token must be issued for
``DEVKIT_MAX_IN_FLIGHT``       requests one server takes at once before answering 429
``DEVKIT_REQUEST_TIMEOUT_MS``  no answer started by then: 408

Only ``/score`` and ``/swagger.json`` are guarded; the probes (``/``, ``/-/live``,
``/-/ready``) and ``/metrics`` stay open because the kubelet and Prometheus carry no key.
The check is the router's own (:class:`devkit_runtime.router.auth.Authenticator`), so keys
and tokens mean the same everywhere. A key folder without keys refuses every call: failing
closed is the only safe reading of a missing Secret. The folder is read again every
``REFRESH_S`` seconds, so a rotated Secret (which the kubelet swaps in place) takes effect
without a restart. The limits count per server process (``WORKER_COUNT`` is 1 in a pod).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devkit_runtime.app import Message, Receive, Scope, Send, error, send_reply
from devkit_runtime.config import ConfigError
from devkit_runtime.router.auth import Authenticator, key_hash
from devkit_runtime.router.config import AUTH_MODES, AuthConfig

GUARDED = frozenset({"/score", "/swagger.json"})
KEY_FILES = ("primary", "secondary")
TOKEN_FILE = "token-secret"
REFRESH_S = 10.0
ASGIApp = Callable[[Scope, Receive, Send], Any]


@dataclass(frozen=True)
class GuardConfig:
    auth_mode: str = "none"
    auth_dir: str = ""
    endpoint: str = ""
    max_in_flight: int = 0  # 0: no limit
    request_timeout_ms: int = 0  # 0: no timeout

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GuardConfig | None:
        """The guard's settings, or None when none is set (the server runs unguarded)."""
        names = ("DEVKIT_AUTH_MODE", "DEVKIT_MAX_IN_FLIGHT", "DEVKIT_REQUEST_TIMEOUT_MS")
        if not any(env.get(name) for name in names):
            return None
        mode = env.get("DEVKIT_AUTH_MODE", "none") or "none"
        if mode not in AUTH_MODES:
            raise ConfigError(f"DEVKIT_AUTH_MODE={mode!r} is not one of "
                              f"{', '.join(AUTH_MODES)}; set one of them or unset it")
        if mode != "none" and not env.get("DEVKIT_AUTH_DIR"):
            raise ConfigError(f"DEVKIT_AUTH_MODE={mode} needs DEVKIT_AUTH_DIR, the folder "
                              "holding the endpoint's keys; set it to the mounted Secret")
        return cls(auth_mode=mode, auth_dir=env.get("DEVKIT_AUTH_DIR", ""),
                   endpoint=env.get("DEVKIT_ENDPOINT", ""),
                   max_in_flight=_whole(env, "DEVKIT_MAX_IN_FLIGHT"),
                   request_timeout_ms=_whole(env, "DEVKIT_REQUEST_TIMEOUT_MS"))


class Credentials:
    """The Authenticator for the current contents of the auth folder, re-read now and then."""

    def __init__(self, config: GuardConfig, clock: Callable[[], float] = time.monotonic):
        self._config = config
        self._clock = clock
        self._read_at = -REFRESH_S
        self._auth = Authenticator(AuthConfig(mode=config.auth_mode), config.endpoint)

    def authenticator(self) -> Authenticator:
        now = self._clock()
        if now - self._read_at >= REFRESH_S:
            self._auth = Authenticator(self._read(), self._config.endpoint)
            self._read_at = now
        return self._auth

    def _read(self) -> AuthConfig:
        mode = self._config.auth_mode
        folder = Path(self._config.auth_dir)
        if mode == "key":
            keys = [_text(folder / name) for name in KEY_FILES]
            # No key on file means no hash to match: every call is refused.
            return AuthConfig(mode, key_sha256=tuple(key_hash(k) for k in keys if k))
        if mode == "aml_token":
            secret = _text(folder / TOKEN_FILE).encode()
            # An empty secret would sign tokens anyone can forge: refuse them all instead.
            return AuthConfig("key", key_sha256=()) if not secret else AuthConfig(
                mode, token_secret=secret)
        return AuthConfig("none")


class Guard:
    """ASGI middleware: 401 without a valid credential, 429 over the in-flight limit, 408
    when the answer has not started within the request timeout."""

    def __init__(self, app: ASGIApp, config: GuardConfig,
                 credentials: Credentials | None = None) -> None:
        self.app = app
        self.config = config
        self.credentials = credentials or Credentials(config)
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in GUARDED:
            await self.app(scope, receive, send)
            return
        refusal = self.credentials.authenticator().check(_authorization(scope))
        if refusal:
            await send_reply(send, error(401, refusal))
            return
        limit = self.config.max_in_flight
        if limit and self.in_flight >= limit:
            await send_reply(send, error(429, f"Too many requests in flight on this instance "
                                              f"(limit {limit} = 2 x max_concurrent_requests_"
                                              "per_instance); retry later or raise it."))
            return
        self.in_flight += 1
        try:
            await self._forward(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        timeout_ms = self.config.request_timeout_ms
        if not timeout_ms:
            await self.app(scope, receive, send)
            return
        started = asyncio.Event()

        async def watched_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.set()
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, watched_send))
        begun = asyncio.ensure_future(started.wait())
        await asyncio.wait({task, begun}, timeout=timeout_ms / 1000,
                           return_when=asyncio.FIRST_COMPLETED)
        begun.cancel()
        if started.is_set() or task.done():
            await task  # an answer is on its way (or done): let it finish
            return
        task.cancel()  # run() keeps its thread; the executor writes it off on its own timer
        await send_reply(send, error(408, f"The request did not finish within "
                                          f"request_timeout_ms ({timeout_ms} ms)."))


def wrap(app: ASGIApp, env: Mapping[str, str]) -> ASGIApp:
    """``app`` guarded as the environment says, or ``app`` itself when nothing is set."""
    config = GuardConfig.from_env(env)
    return app if config is None else Guard(app, config)


def _authorization(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return str(value.decode("latin-1"))
    return None


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def _whole(env: Mapping[str, str], name: str) -> int:
    raw = env.get(name, "") or "0"
    if not raw.isdigit():
        raise ConfigError(f"environment variable {name}={raw!r} is not a whole number; "
                          "set it to one or unset it")
    return int(raw)
