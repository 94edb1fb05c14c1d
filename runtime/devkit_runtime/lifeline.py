"""Processes of one replica live and die together.

A worker (or a supervisor started by a keeper) asks the kernel to SIGKILL it when its
parent dies (Linux ``prctl(PR_SET_PDEATHSIG)``), the way every process of a container dies
with its PID 1. Without it a ``kill -9`` of the supervisor leaves its worker as an orphan
that keeps answering on the inherited port while nothing supervises it. SIGKILL, not
SIGTERM: a worker wedged in C code holding the GIL never runs a Python signal handler.
Elsewhere (macOS) the worker's control channel closing is the fallback signal.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys

PR_SET_PDEATHSIG = 1
PARENT_ENV = "DEVKIT_PARENT_PID"  # who the child expects as its parent (the race check)


_LIBC: list[ctypes.CDLL] = []


def libc() -> ctypes.CDLL | None:
    """libc, loaded once (a keeper loads it before forking: its child only calls it)."""
    if not sys.platform.startswith("linux"):
        return None
    if not _LIBC:
        with contextlib.suppress(OSError):
            _LIBC.append(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6",
                                     use_errno=True))
    return _LIBC[0] if _LIBC else None


def die_with_parent(expected_parent: int | None = None) -> bool:
    """Arrange for SIGKILL when the parent process exits; True where the OS supports it.
    A parent that is already gone (it died before this ran) ends this process now. Safe
    between fork and exec (it survives exec), once :func:`libc` was called before."""
    found = libc()
    if found is None:
        return False
    with contextlib.suppress(AttributeError):
        if found.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            return False
        if expected_parent is not None and os.getppid() != expected_parent:
            os._exit(1)  # re-parented before prctl took effect: the parent is gone
        return True
    return False


def expected_parent() -> int | None:
    raw = os.environ.get(PARENT_ENV, "")
    return int(raw) if raw.isdigit() else None


def describe_exit(returncode: int, killed_for: str | None = None) -> tuple[str, bool]:
    """How a child ended, as status and logs say it, and whether the kernel's OOM killer is
    a suspect: a SIGKILL nobody in devkit sent (the OOM killer sends SIGKILL; nothing on
    the host records which process it picked where devkit can read it)."""
    if returncode >= 0:
        return f"exited with code {returncode}", False
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    if killed_for is not None:
        return f"killed by {name} ({killed_for})", False
    if -returncode == signal.SIGKILL:
        return f"killed by {name} (possibly out of memory)", True
    return f"killed by {name}", False


def write_json(path: str, data: dict[str, object]) -> None:
    """Replace ``path`` atomically (readers never see half a file)."""
    import json

    tmp = f"{path}.{os.getpid()}.tmp"
    with contextlib.suppress(OSError):
        with open(tmp, "w", encoding="utf-8") as out:
            json.dump(data, out)
        os.replace(tmp, path)
