"""Debugging a deployment: restart it under debugpy and write the VS Code files next to
its spec, or bring it back to its spec."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from devkit import debug as dbg
from devkit.actions.place import LOCAL, Scope, local_engine
from devkit.autoscale import daemon
from devkit.engines.base import Progress, no_progress
from devkit.reload import load_spec, recall_settings
from devkit.spec.model import Endpoint


@dataclass(frozen=True)
class DebugSession:
    """Where to attach, and the files written for VS Code."""

    target: dbg.DebugTarget
    launch_json: Path
    devcontainer_json: Path

    def instructions(self) -> str:
        return self.target.instructions(self.launch_json, self.devcontainer_json)


def debug_on(name: str, deployment: str, *, port: int | None = None,
             spec: Endpoint | None = None, workspace: Path | None = None,
             scope: Scope = LOCAL, progress: Progress = no_progress) -> DebugSession:
    """Restart ``deployment`` with one replica listening for debugpy on a loopback
    ``port`` (default: a free one) and write ``.vscode/launch.json`` and
    ``.devcontainer/devcontainer.json`` into ``workspace`` (default: the spec's folder)."""
    engine = local_engine(scope.owner(name), "Debugging")
    endpoint = spec if spec is not None else load_spec(name)
    daemon.stop(name)  # autoscaling pauses while a replica sits at a breakpoint
    target = dbg.start(engine, endpoint, deployment, progress, port, recall_settings(name))
    folder = workspace or endpoint.spec.source.file.parent
    return DebugSession(target, dbg.write_launch_json(target, folder),
                        dbg.write_devcontainer_json(target, folder))


def debug_off(name: str, deployment: str, *, spec: Endpoint | None = None,
              scope: Scope = LOCAL, progress: Progress = no_progress) -> None:
    """Bring ``deployment`` back to its spec: debugger off, replicas and timeouts back."""
    engine = local_engine(scope.owner(name), "Debugging")
    endpoint = spec if spec is not None else load_spec(name)
    dbg.stop(engine, endpoint, deployment, progress, recall_settings(name))
    if daemon.wanted(endpoint):  # back to its spec: autoscaled again
        daemon.start(name, engine.name)


def wait_for_debugger(session: DebugSession, timeout_s: float | None = None) -> None:
    """Block until a debugger attached to the session's replica (DebugError after
    ``timeout_s``; None waits for ever)."""
    dbg.wait_for_client(session.target, timeout_s)
