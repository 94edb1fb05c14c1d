"""Reload outcomes of every replica, read from the replicas themselves, and explicit reloads.

Each replica's runtime reloads on its own when its code changes (``devkit_runtime.watch``)
and reports the last outcome in ``GET /-/ready`` (``reload``: ok, ms, generation, error,
file, line). This module reads those, and asks for a reload explicitly: on the process
engine through the replica's loopback admin port, on Docker with ``docker exec <container>
python -m devkit_runtime.reload`` (the admin listener only answers inside the container).
Paths the runtime reports inside a container are mapped back to the user's files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import httpx

from devkit.engines import launch
from devkit.engines.base import EndpointStatus, ReplicaStatus
from devkit.spec.model import Endpoint

TIMEOUT_S = 5.0
RELOAD_TIMEOUT_S = 600.0


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
        raw = raw or {}
        ok = raw.get("ok")
        return cls(deployment, replica, None if ok is None else bool(ok), raw.get("ms"),
                   raw.get("generation"), raw.get("error"), raw.get("file"), raw.get("line"))

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


def last_reloads(status: EndpointStatus, deployment: str | None = None,
                 spec: Endpoint | None = None) -> list[ReplicaReload]:
    """The last reload outcome each replica reports in ``/-/ready``."""
    found = []
    for dep, replica in _replicas(status, deployment):
        try:
            body = httpx.get(f"{replica.url}/-/ready", timeout=TIMEOUT_S).json()
            outcome = ReplicaReload.from_runtime(dep, replica.index, body.get("reload"))
        except (httpx.HTTPError, ValueError) as exc:
            outcome = ReplicaReload(dep, replica.index, None, error=f"unreachable ({exc})")
        found.append(_mapped(outcome, status.engine, spec))
    return found


def reload_now(status: EndpointStatus, deployment: str | None = None,
               spec: Endpoint | None = None) -> list[ReplicaReload]:
    """Reload every replica of the endpoint (or of one deployment) and return outcomes."""
    found = []
    for dep, replica in _replicas(status, deployment):
        if status.engine == "docker":
            raw = _reload_in_container(replica)
        else:
            raw = _reload_over_admin(replica)
        found.append(_mapped(ReplicaReload.from_runtime(dep, replica.index, raw),
                             status.engine, spec))
    return found


def _replicas(status: EndpointStatus, deployment: str | None
              ) -> list[tuple[str, ReplicaStatus]]:
    return [(d.name, r) for d in status.deployments if deployment in (None, d.name)
            for r in d.replica_status]


def _reload_over_admin(replica: ReplicaStatus) -> dict[str, Any]:
    if replica.admin_url is None:
        return {"ok": None, "error": "no admin port (the replica is not running)"}
    try:
        reply = httpx.post(f"{replica.admin_url}/-/reload", timeout=RELOAD_TIMEOUT_S)
        answer: dict[str, Any] = reply.json()
        return answer
    except (httpx.HTTPError, ValueError) as exc:
        return {"ok": None, "error": f"its admin port did not answer ({exc})"}


def _reload_in_container(replica: ReplicaStatus) -> dict[str, Any]:
    import docker
    import docker.errors

    try:
        client = docker.from_env()
        try:
            container = client.containers.get(replica.ident)
            code, output = container.exec_run(["python", "-m", "devkit_runtime.reload"])
        finally:
            client.close()
    except docker.errors.DockerException as exc:
        return {"ok": None, "error": f"docker exec failed ({exc})"}
    try:
        answer: dict[str, Any] = json.loads(output.decode().strip().splitlines()[-1])
        return answer
    except (ValueError, IndexError):
        return {"ok": None, "error": f"unexpected answer (exit {code}): {output[-300:]!r}"}


def _mapped(outcome: ReplicaReload, engine: str, spec: Endpoint | None) -> ReplicaReload:
    """A container path (/var/azureml-app/<code>/score.py) as the user's own file."""
    if engine != "docker" or spec is None or not outcome.file:
        return outcome
    for d in spec.deployments:
        remote = launch.container_code_dir(d)
        if d.name == outcome.deployment and remote and d.code_configuration:
            prefix = f"{remote}/"
            if outcome.file.startswith(prefix):
                local = f"{d.code_configuration.code}/"
                return replace(outcome, file=local + outcome.file[len(prefix):],
                               error=(outcome.error or "").replace(prefix, local) or None)
    return outcome
