"""Where the router's state lives, and atomic, private file writes for it.

The router polls its config and Docker bind-mounts the folder, so a reader must never see
a half-written file: every write goes to a temporary file in the same folder and is
renamed over the target. Secrets are created 0600 from the start (not chmod-ed after),
so there is no moment when another user could read them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from devkit.paths import endpoint_state_dir

ROUTER_DIR = "router"
CONFIG_FILE = "router.json"
LOCK_FILE = ".router.lock"


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


@contextlib.contextmanager
def config_lock(endpoint: str, state: Path | None = None) -> Iterator[None]:
    """Hold the endpoint's router-config lock (an advisory ``flock``) for one
    read-modify-write. No folder, no config to change: nothing to lock (and no folder is
    made for an endpoint that never ran)."""
    folder = router_dir(endpoint, state)
    if not folder.is_dir():
        yield
        return
    with open(folder / LOCK_FILE, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
