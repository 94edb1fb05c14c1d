"""One command at a time per endpoint: ``up``, ``down``, ``traffic``, key rotation and
``promote`` of the same endpoint serialise on a lock instead of racing.

The lock is ``fcntl.flock`` on ``endpoint_state_dir(NAME)/.lock``: the kernel drops it when
its holder exits however it exits (Ctrl-C, ``kill -9``), so an interrupted command never
leaves a stale lock, and the next command converges from whatever state it left (``up``
is a reconcile; ``down`` removes what it finds). The file holds the holder's pid and
command, so a waiter can say whom it waits for: "waiting for another `devkit up` of
ENDPOINT (pid N)".

Re-entrant within a thread (``restart`` is a ``down`` then an ``up``). ``down`` removes the
file as it releases it, so the state folder leaves nothing behind; a waiter that then
wins the lock on the unlinked file notices (its inode is no longer the path's) and takes
the lock again on the new file, so two holders can never both believe they hold it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from devkit.engines.status import Progress, no_progress
from devkit.paths import endpoint_state_dir

LOCK_FILE = ".lock"
_held = threading.local()  # endpoint name -> depth, per thread


def lock_path(name: str) -> Path:
    return endpoint_state_dir(name) / LOCK_FILE


@contextlib.contextmanager
def endpoint_lock(name: str, command: str, progress: Progress = no_progress,
                  remove: bool = False, create: bool = True) -> Iterator[None]:
    """Hold the endpoint's lock for ``command`` ("up", "down", ...); say so and wait when
    another process holds it. ``remove``: delete the lock file on release (``down``).
    ``create`` False: an endpoint with no state folder is not locked (the command is
    about to say it does not exist; it must not leave a folder behind)."""
    depth: dict[str, int] = getattr(_held, "depth", None) or {}
    _held.depth = depth
    if not create and not endpoint_state_dir(name).is_dir():
        yield
        return
    if depth.get(name):
        depth[name] += 1
        try:
            yield
        finally:
            depth[name] -= 1
        return
    fd = _acquire(name, command, progress)
    depth[name] = 1
    try:
        yield
    finally:
        depth[name] = 0
        if remove:
            with contextlib.suppress(OSError):
                lock_path(name).unlink()
            with contextlib.suppress(OSError):
                endpoint_state_dir(name).rmdir()  # only if nothing else is left there
        os.close(fd)  # releases the flock


def _acquire(name: str, command: str, progress: Progress) -> int:
    path = lock_path(name)
    said = False
    while True:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not said:
                progress(f"waiting for another {_holder(fd, name)} to finish")
                said = True
            fcntl.flock(fd, fcntl.LOCK_EX)
        if _same_file(fd, path):
            _write_holder(fd, command)
            return fd
        os.close(fd)  # the holder removed it (down) while we waited: lock the new one


def _same_file(fd: int, path: Path) -> bool:
    try:
        now = path.stat()
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino)


def _write_holder(fd: int, command: str) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()} {command}\n".encode(), 0)


def _holder(fd: int, name: str) -> str:
    """"`devkit up` of NAME (pid N)", from what the holder wrote."""
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").split()
    except OSError:
        text = []
    if len(text) >= 2 and text[0].isdigit():
        return f"`devkit {text[1]}` of {name} (pid {text[0]})"
    return f"command on endpoint {name}"
