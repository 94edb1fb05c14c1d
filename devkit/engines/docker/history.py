"""What Docker remembers of a replica container's past, for ``status``.

Replicas run with ``restart_policy: unless-stopped``: a crash or an OOM kill is restarted
by Docker with its backoff (``RestartCount`` counts them), while ``docker stop`` or
``docker kill`` from outside leaves the container stopped, as Docker means them to. Inspect
data forgets the exit code once the container runs again, so the last one (and whether the
kernel's OOM killer struck, also when it killed only a worker that the runtime restarted
itself) is read from the engine's event log, which is kept in memory and bounded: after a
``dockerd`` restart or on a busy engine it may be gone, and then only inspect data counts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import docker.errors
from docker.models.containers import Container

from devkit.engines.status import DeploymentState

LAST_LINES = 20


@dataclass(frozen=True)
class Past:
    restarts: int = 0
    last_exit_code: int | None = None
    oom_killed: bool = False
    reason: str | None = None
    last_lines: str | None = None


def exit_code(container: Container) -> int | None:
    code = (container.attrs.get("State") or {}).get("ExitCode")
    return int(code) if isinstance(code, int) else None


def read(container: Container, state: DeploymentState) -> Past:
    """The replica's restarts, last exit, OOM kills and, unless it is ready, why not and
    its last log lines."""
    attrs = container.attrs
    inspect = attrs.get("State") or {}
    restarts = int(attrs.get("RestartCount") or 0)
    stopped = container.status in ("exited", "dead")
    code = exit_code(container) if stopped else None
    oom = bool(inspect.get("OOMKilled"))
    died_code, died_oom = _events(container)
    if code is None:
        code = died_code
    oom = oom or died_oom
    if state is DeploymentState.READY:
        return Past(restarts, code, oom)
    reason = _reason(container, state, inspect, restarts, code, oom)
    return Past(restarts, code, oom, reason, _tail(container))


def _reason(container: Container, state: DeploymentState, inspect: dict[str, Any],
            restarts: int, code: int | None, oom: bool) -> str:
    killed = " (killed for memory: OOM)" if oom else ""
    if container.status in ("exited", "dead"):
        if inspect.get("Error"):
            return (f"Docker could not start it ({inspect['Error']}); run `devkit up` to "
                    "recreate it")
        return (f"stopped from outside (docker stop) at {_short(inspect.get('FinishedAt'))} "
                f"with exit code {code}{killed}; run `devkit up` to restart it")
    if container.status == "restarting":
        return (f"exited with code {code}{killed} and is being restarted by Docker "
                f"(restart {restarts}, with backoff)")
    if state is DeploymentState.UNHEALTHY:
        return "init() failed (see error); save a fix to score.py or run `devkit up`"
    again = f" after exit code {code}{killed} (restart {restarts})" if restarts else ""
    return f"started{again}, its readiness route does not answer yet"


def _events(container: Container) -> tuple[int | None, bool]:
    """The last ``die`` event's exit code and whether an ``oom`` event happened, from the
    engine's bounded in-memory event log (empty after a dockerd restart)."""
    since = _epoch(container.attrs.get("Created")) or int(time.time()) - 86400
    try:
        # `until` is now, to the microsecond: the engine holds the stream open until
        # `until` passes, so a whole second ahead cost every status up to a second (and
        # `up` ends with a status).
        events = container.client.api.events(
            since=since, until=f"{time.time():.6f}", decode=True,
            filters={"container": container.id, "event": ["die", "oom"]})
        found = list(events)
    except (docker.errors.DockerException, OSError, ValueError):
        return None, False
    code = None
    oom = False
    for event in found:
        if event.get("status") == "oom":
            oom = True
        elif event.get("status") == "die":
            raw = (event.get("Actor") or {}).get("Attributes", {}).get("exitCode")
            code = int(raw) if str(raw).lstrip("-").isdigit() else code
    return code, oom


def _tail(container: Container) -> str | None:
    try:
        raw = container.logs(tail=LAST_LINES)
    except docker.errors.DockerException:
        return None
    text = bytes(raw).decode("utf-8", errors="replace").rstrip()
    return text or None


def _epoch(stamp: str | None) -> int | None:
    if not stamp:
        return None
    try:
        return int(datetime.fromisoformat(stamp[:19]).replace(tzinfo=timezone.utc).timestamp())
    except ValueError:
        return None


def _short(stamp: str | None) -> str:
    """``2026-12-01T23:53:16Z`` from Docker's nanosecond timestamps."""
    return f"{stamp[:19]}Z" if stamp and len(stamp) >= 19 else "an unknown time"
