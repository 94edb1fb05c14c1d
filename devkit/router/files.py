"""Where the router's state lives, and atomic, private file writes for it.

The router polls its config and Docker bind-mounts the folder, so a reader must never see
a half-written file: every write goes to a temporary file in the same folder and is
renamed over the target. Secrets are created 0600 from the start (not chmod-ed after),
so there is no moment when another user could read them.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from devkit.paths import endpoint_state_dir

ROUTER_DIR = "router"
CONFIG_FILE = "router.json"


def router_dir(endpoint: str, state: Path | None = None) -> Path:
    """The folder the router reads (bind-mount this one for Docker)."""
    return (state or endpoint_state_dir(endpoint)) / ROUTER_DIR


def router_config_path(endpoint: str, state: Path | None = None) -> Path:
    return router_dir(endpoint, state) / CONFIG_FILE


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)  # O_CREAT honours the umask; the mode must be exact
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


def write_json(path: Path, payload: Any, mode: int = 0o644) -> None:
    write_atomic(path, (json.dumps(payload, indent=2) + "\n").encode("utf-8"), mode)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
