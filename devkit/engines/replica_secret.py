"""The per-endpoint replica secret's file on the host (what it guards and why:
:mod:`devkit_runtime.replica_secret`).

One 0600 file per endpoint, ``<state>/endpoints/NAME/router/replica.secret``, beside the
router's config (which names it relative to its folder, so a router in a container reads
the same file through its mount). Engines whose replicas the host can reach (the process
engine's loopback ports, a docker container's address on the endpoint network, where the
file is bind-mounted read-only) turn it on with ``Engine.replica_secret``; ``down`` removes it with
the router's folder. Its value never goes into an environment, a log line or ``status``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from devkit.router.files import router_dir

FILE = "replica.secret"
HEADER = "x-devkit-replica-secret"


def path(endpoint: str) -> Path:
    return router_dir(endpoint) / FILE


def ensure(endpoint: str) -> Path:
    """The endpoint's secret file, created (0600, 256 random bits) when missing."""
    target = path(endpoint)
    if target.is_file() and target.read_bytes().strip():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_urlsafe(32) + "\n")
    tmp.replace(target)
    return target


def headers(endpoint: str) -> dict[str, str]:
    """The header to send a replica of ``endpoint`` directly (empty when it has none)."""
    try:
        value = path(endpoint).read_text(encoding="ascii").strip()
    except OSError:
        return {}
    return {HEADER: value} if value else {}
