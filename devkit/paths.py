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
