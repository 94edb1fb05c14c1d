"""The connection to a swarm target's manager, and where its SDK errors become sentences.

A swarm target is a Docker host that is a swarm manager, named by ``docker_host`` (any
URL the SDK takes: ``unix://``, ``tcp://``, ``ssh://``) or a docker ``context`` (read from
``~/.docker/contexts`` by the SDK's own context store). Every error names the target, the
object and the fix (:func:`translated`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import docker
import docker.errors

from devkit.engines.docker.client import DockerClient
from devkit.errors import TargetError, TargetUnavailable
from devkit.promote.plan import Node
from devkit.promote.targets import Target


@contextlib.contextmanager
def translated(target: Target, action: str) -> Iterator[None]:
    """SDK and connection errors while doing ``action`` on ``target`` -> TargetError."""
    try:
        yield
    except docker.errors.APIError as exc:
        reason = (exc.explanation or str(exc)).strip()
        raise TargetError(f"Target '{target.name}' refused to {action}: {reason}; fix the "
                          f"cause or run `devkit down ENDPOINT --target {target.name}` "
                          f"and promote again.") from exc
    except (docker.errors.DockerException, OSError) as exc:
        raise TargetUnavailable(unreachable(target, exc)) from exc


def unreachable(target: Target, exc: Exception) -> str:
    where = target.docker_host or (f"context {target.context}" if target.context
                                   else "the local engine")
    return (f"Target '{target.name}' ({where}) does not answer ({exc}); start its Docker "
            f"engine or fix `docker_host`/`context` in {target.source or 'its targets file'}.")


def connect(target: Target, timeout: int = 120) -> DockerClient:
    """A client for the target's manager; TargetUnavailable unless it answers and is a
    swarm manager."""
    raw: docker.DockerClient | None = None
    try:
        raw = docker.DockerClient(**_connection(target), timeout=timeout)
        raw.ping()
        info = raw.info()
    except (docker.errors.DockerException, OSError) as exc:
        if raw is not None:
            raw.close()
        raise TargetUnavailable(unreachable(target, exc)) from exc
    swarm = info.get("Swarm") or {}
    if swarm.get("LocalNodeState") != "active" or not swarm.get("ControlAvailable"):
        raw.close()
        raise TargetUnavailable(
            f"Target '{target.name}' answers but is not a swarm manager (swarm state "
            f"{swarm.get('LocalNodeState') or 'inactive'}); run `docker swarm init "
            f"--advertise-addr ADDRESS` there, or point the target at a manager.")
    return DockerClient(raw)


def nodes(client: DockerClient, target: Target) -> list[Node]:
    """Ready, active nodes with the CPUs and memory they offer to services."""
    with translated(target, "list its nodes"):
        found = client.raw.nodes.list()
    result = []
    for node in found:
        attrs: dict[str, Any] = node.attrs
        if attrs.get("Status", {}).get("State") != "ready":
            continue
        if attrs.get("Spec", {}).get("Availability") != "active":
            continue
        resources = attrs.get("Description", {}).get("Resources", {})
        result.append(Node(attrs.get("Description", {}).get("Hostname", node.id),
                           int(resources.get("NanoCPUs", 0)) / 1e9,
                           int(resources.get("MemoryBytes", 0))))
    return result


def _connection(target: Target) -> dict[str, Any]:
    if target.context:
        from docker.context import ContextAPI

        context = ContextAPI.get_context(target.context)
        if context is None:
            raise docker.errors.ContextNotFound(target.context)
        return {"base_url": context.Host, "tls": context.TLSConfig or False}
    return {"base_url": target.docker_host or "unix:///var/run/docker.sock"}
