"""Reload outcomes of every replica, read from the replicas themselves, and explicit reloads.

Each replica's runtime reloads on its own when its code changes (``devkit_runtime.watch``)
and reports the last outcome in ``GET /-/ready`` (``reload``: ok, ms, generation, error,
file, line). This module reads those, and asks for a reload explicitly through the
engine (:meth:`Engine.reload_replica`: the admin port, or ``docker exec``). Paths as the
server sees them (:meth:`Engine.code_root`) are mapped back to the user's files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import httpx
from devkit_runtime.wire import Readiness, ReloadOutcome

from devkit.engines.base import EndpointStatus, Engine, ReplicaStatus
from devkit.spec.model import DeploymentSpec, Endpoint

TIMEOUT_S = 5.0

# Where the server sees a deployment's code folder (Engine.code_root).
CodeRoot = Callable[[DeploymentSpec], "str | None"]


@dataclass(frozen=True)
class ReplicaReload:
    """One replica's last reload (``ok`` is None when it never reloaded or is unreachable)."""

    deployment: str
    replica: int
    ok: bool | None
    ms: float | None = None
    generation: int | None = None
    error: str | None = None
    file: str | None = None
    line: int | None = None

    @classmethod
    def from_runtime(cls, deployment: str, replica: int, raw: dict[str, Any] | None
                     ) -> ReplicaReload:
        """From the runtime's answer (:class:`devkit_runtime.wire.ReloadOutcome`), or from
        the engine's ``{"ok": None, "error": why}`` when no outcome came back."""
        outcome = ReloadOutcome.from_json(raw)
        if outcome is None:
            error = (raw or {}).get("error")
            return cls(deployment, replica, None, error=str(error) if error else None)
        return cls.of(deployment, replica, outcome)

    @classmethod
    def of(cls, deployment: str, replica: int, outcome: ReloadOutcome | None) -> ReplicaReload:
        if outcome is None:
            return cls(deployment, replica, None)
        return cls(deployment, replica, outcome.ok, outcome.ms, outcome.generation,
                   outcome.error, outcome.file, outcome.line)

    def where(self) -> str:
        if not self.file:
            return "the scoring script"
        return f"{self.file}:{self.line}" if self.line else self.file

    def sentence(self) -> str:
        name = f"{self.deployment}-{self.replica}"
        if self.ok:
            return f"{loaded_or_reloaded(self.generation)} {name} in {self.ms or 0:.0f} ms " \
                   f"(generation {self.generation})"
        if self.ok is None:
            return f"{name}: {self.error or 'no reload yet'}"
        where = self.where()
        at = "" if where in (self.error or "") else f" at {where}"  # the runtime may say it
        return (f"{name}: reload failed{at}: {self.error}; the previous version keeps serving. "
                f"Fix it and save again.")

    def to_json(self) -> dict[str, Any]:
        return {"deployment": self.deployment, "replica": self.replica, "ok": self.ok,
                "ms": self.ms, "generation": self.generation, "error": self.error,
                "file": self.file, "line": self.line}


def loaded_or_reloaded(generation: int | None) -> str:
    """The runtime counts its first load of the script as generation 1: calling that a
    reload would tell the user their save was picked up when nothing was saved yet."""
    return "loaded" if generation == 1 else "reloaded"


def summary(outcomes: list[ReplicaReload]) -> list[str]:
    """One line per deployment: ``reloaded blue in N ms (generation G)`` when every replica
    reloaded, else a line per replica that did not."""
    lines: list[str] = []
    for name in dict.fromkeys(o.deployment for o in outcomes):
        mine = [o for o in outcomes if o.deployment == name]
        if all(o.ok for o in mine):
            slowest = max(o.ms or 0 for o in mine)
            lines.append(f"{loaded_or_reloaded(mine[0].generation)} {name} in {slowest:.0f} ms "
                         f"(generation {mine[0].generation})")
        else:
            lines += [o.sentence() for o in mine if not o.ok]
    return lines


def last_reloads(engine: Engine, status: EndpointStatus, deployment: str | None = None,
                 spec: Endpoint | None = None) -> list[ReplicaReload]:
    """The last reload outcome each replica reports in ``/-/ready``."""
    found = []
    for dep, replica in _replicas(status, deployment):
        try:
            body = engine.readiness_answer(replica, TIMEOUT_S)
            ready = Readiness.parse(body)
            outcome = ReplicaReload.of(dep, replica.index, ready.reload)
        except httpx.HTTPError as exc:
            outcome = ReplicaReload(dep, replica.index, None, error=f"unreachable ({exc})")
        found.append(_mapped(outcome, engine.code_root, spec))
    return found


def reload_now(engine: Engine, status: EndpointStatus, deployment: str | None = None,
               spec: Endpoint | None = None) -> list[ReplicaReload]:
    """Reload every replica of the endpoint (or of one deployment) and return outcomes."""
    found = []
    for dep, replica in _replicas(status, deployment):
        outcome = ReplicaReload.from_runtime(dep, replica.index, engine.reload_replica(replica))
        found.append(_mapped(outcome, engine.code_root, spec))
    return found


def _replicas(status: EndpointStatus, deployment: str | None
              ) -> list[tuple[str, ReplicaStatus]]:
    return [(d.name, r) for d in status.deployments if deployment in (None, d.name)
            for r in d.replica_status]


def _mapped(outcome: ReplicaReload, code_root: CodeRoot,
            spec: Endpoint | None) -> ReplicaReload:
    """A path as the server sees it (``code_root``: /var/azureml-app/<code>/score.py in a
    container) as the user's own file."""
    if spec is None or not outcome.file:
        return outcome
    for d in spec.deployments:
        remote = code_root(d)
        if d.name == outcome.deployment and remote and d.code_configuration:
            prefix, local = f"{remote}/", f"{d.code_configuration.code}/"
            if prefix != local and outcome.file.startswith(prefix):
                return replace(outcome, file=local + outcome.file[len(prefix):],
                               error=(outcome.error or "").replace(prefix, local) or None)
    return outcome
