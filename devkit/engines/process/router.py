"""The endpoint's router as a detached host process, for the process engine.

``python -m devkit_runtime.router`` from devkit's own interpreter (which has the runtime
installed: devkit depends on it), in its own session so it outlives the CLI like the
replicas do, on a free 127.0.0.1 port, logging to ``logs/router.log`` beside the
replicas' logs, under a keeper that restarts it when it dies (after the CLI exited too). A
router that is still alive is left alone: config changes reach it through the file. One
whose keeper died is started again on its previous port when that is free.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from devkit.engines.process import state as ps
from devkit.ports import free_port, is_free

KEPT_ENV = ("HOME", "LANG", "LC_ALL", "PATH", "TMPDIR", "TZ", "USER")


def command(config: Path, port: int, keeper_status: Path) -> list[str]:
    """The router under a keeper (``devkit_runtime.keeper``), which restarts it on the
    same port when it dies, as Docker's restart policy does for the router container."""
    return [sys.executable, "-m", "devkit_runtime.keeper", "--status", str(keeper_status),
            "--name", "router", "--", sys.executable, "-m", "devkit_runtime.router",
            "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]


def spawn(config: Path, log: Path, previous_port: int | None = None) -> ps.RouterRecord:
    """Start a router on ``config``; its record (pid, port, log, start time)."""
    port = previous_port if previous_port and is_free(previous_port) else free_port()
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {k: os.environ[k] for k in KEPT_ENV if k in os.environ}
    env["PYTHONUNBUFFERED"] = "1"
    tag = f"{config.parent.parent.name}/router/{secrets.token_hex(6)}"
    env[ps.TAG_ENV] = tag
    keeper_status = log.with_name("router.keeper.json")
    keeper_status.unlink(missing_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(command(config, port, keeper_status), env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=config.parent, start_new_session=True)
    ps.children[proc.pid] = proc
    return ps.RouterRecord(proc.pid, port, str(log), ps.start_time(proc.pid), ps.boot_id(),
                           tag, str(keeper_status))
