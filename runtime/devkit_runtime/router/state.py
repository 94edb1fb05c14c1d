"""One applied config generation, and the watcher that swaps it in when the file changes.

A :class:`RouterState` bundles everything derived from one config (policy, authenticator,
balancers) so a reload is a single reference swap: requests already running keep the state
they started with and finish normally, new requests see the new one. Nothing is dropped.

The watcher polls the file's identity (inode, size, mtime) every 0.2 s, because Docker
bind mounts do not deliver inotify events reliably, and reloads at once on SIGHUP. After
each attempt it writes ``router.applied.json`` next to the config (``{"generation": N}``,
plus ``"error"`` when the newest file was rejected) so the host can wait for a change to
take effect without knowing the router's address; the first one only once the server
listens.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from devkit_runtime.router.auth import Authenticator
from devkit_runtime.router.config import (
    ConfigError,
    DeploymentRoute,
    RouterConfig,
    load_config,
)
from devkit_runtime.router.policy import TrafficPolicy
from devkit_runtime.router.upstream import Balancer, PoolRegistry

log = logging.getLogger("devkit.router")

APPLIED_FILE = "router.applied.json"
POLL_INTERVAL_S = 0.2


@dataclass(frozen=True)
class RouterState:
    config: RouterConfig
    policy: TrafficPolicy
    auth: Authenticator
    balancers: dict[str, Balancer]
    routes: dict[str, DeploymentRoute]  # by name: the request path looks them up

    @classmethod
    def build(cls, config: RouterConfig, pools: PoolRegistry,
              rng: random.Random | None = None) -> RouterState:
        policy = TrafficPolicy.from_routes(
            [(d.name, d.weight, d.mirror) for d in config.deployments], rng)
        # A draining replica gets no new requests, but its pool is retained: requests in
        # flight finish on it and are still counted (the autoscaler waits for 0).
        balancers = {d.name: pools.balancer(d.active) for d in config.deployments}
        pools.retain({r.url for d in config.deployments for r in d.replicas})
        return cls(config, policy, Authenticator(config.auth, config.endpoint), balancers,
                   {d.name: d for d in config.deployments})


def summary(config: RouterConfig) -> str:
    """A one-line description of a config for the log (never secrets)."""
    weights = " ".join(f"{d.name}={d.weight}" for d in config.deployments) or "no deployments"
    mirror = "".join(f" mirror {d.name}={d.mirror}" for d in config.deployments if d.mirror)
    return f"generation {config.generation}: {weights}{mirror}, auth {config.auth.mode}"


class ConfigWatcher:
    """Reloads ``path`` when it changes or on demand, handing each good config to ``apply``."""

    def __init__(self, path: Path, apply: Callable[[RouterConfig], None],
                 listening: Callable[[], bool] = lambda: True) -> None:
        self.path = path
        self._apply = apply
        # The marker promises "this router serves generation N": on start it is written
        # only once the server listens, so a host that waits for it can send at once.
        self._listening = listening
        self._unwritten = False
        self._identity: tuple[int, int, int] | None = None
        self._wake = asyncio.Event()
        self.generation: int | None = None
        self.last_error = ""

    def load_now(self) -> None:
        """Read the file and apply it if it is valid; record the outcome either way."""
        self._identity = self._stat()
        try:
            config = load_config(self.path)
        except ConfigError as exc:
            self.last_error = str(exc)
            log.error("%s; keeping the previous config", exc)
        else:
            self._apply(config)
            self.generation, self.last_error = config.generation, ""
            log.info("applied router config %s", summary(config))
        if self._listening():
            self._write_applied()
        else:
            self._unwritten = True

    def request_reload(self) -> None:
        """Reload on the next loop turn (the SIGHUP handler)."""
        self._identity = None
        self._wake.set()

    def now_listening(self) -> None:
        """The server listens: the marker held back at start is written at once (a host
        that saw the router answer may already be reading it)."""
        if self._unwritten and self._listening():
            self._unwritten = False
            self._write_applied()

    async def run(self) -> None:
        while self._unwritten:
            if self._listening():
                self._unwritten = False
                self._write_applied()
            else:
                await asyncio.sleep(0.01)
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_INTERVAL_S)
            self._wake.clear()
            identity = self._stat()
            if identity != self._identity and identity is not None:
                self.load_now()

    def forget(self) -> None:
        """Remove the applied marker: this router no longer serves the config."""
        with contextlib.suppress(OSError):
            (self.path.parent / APPLIED_FILE).unlink()

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def _write_applied(self) -> None:
        record: dict[str, object] = {"generation": self.generation, "pid": os.getpid()}
        if self.last_error:
            record["error"] = self.last_error
        target = self.path.parent / APPLIED_FILE
        temp = target.with_name(f".{APPLIED_FILE}.{os.getpid()}.tmp")
        try:
            temp.write_text(json.dumps(record), encoding="utf-8")
            os.replace(temp, target)
        except OSError as exc:  # a read-only mount: the HTTP route still tells the truth
            log.warning("cannot write %s: %s", target, exc)
