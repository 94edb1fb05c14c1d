"""Where devkit keeps state and caches on the host.

State (per-endpoint records for the process engine, auth keys, router config) lives in
``DEVKIT_STATE_DIR`` (default ``$XDG_STATE_HOME/devkit`` or ``~/.local/state/devkit``);
caches that can be rebuilt (wheelhouses, process-engine venvs) in ``DEVKIT_CACHE_DIR``
(default ``$XDG_CACHE_HOME/devkit`` or ``~/.cache/devkit``). Tests point both at
temporary folders through the environment.
"""

from __future__ import annotations

import os
from pathlib import Path


def state_dir() -> Path:
    explicit = os.environ.get("DEVKIT_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "devkit"


def cache_dir() -> Path:
    explicit = os.environ.get("DEVKIT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "devkit"


def endpoint_state_dir(endpoint: str) -> Path:
    """Per-endpoint state folder (keys, router config, process records)."""
    return state_dir() / "endpoints" / endpoint


def config_dir() -> Path:
    """User settings (targets, the secrets store): ``DEVKIT_CONFIG_DIR``, else
    ``$XDG_CONFIG_HOME/devkit`` or ``~/.config/devkit``."""
    explicit = os.environ.get("DEVKIT_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "devkit"


def runtime_dir() -> Path:
    """Files that must never reach a disk (secret values handed to replicas):
    ``DEVKIT_RUNTIME_DIR``, else ``$XDG_RUNTIME_DIR/devkit``, else a per-user folder in
    ``/dev/shm`` (both memory-backed), else the state dir as a last resort."""
    explicit = os.environ.get("DEVKIT_RUNTIME_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and Path(xdg).is_dir():
        return Path(xdg) / "devkit"
    if Path("/dev/shm").is_dir():
        return Path("/dev/shm") / f"devkit-{os.getuid()}"
    return state_dir() / "run"
