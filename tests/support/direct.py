"""Calling a replica directly, past its router, as the CLI does: a replica running devkit's
runtime on the process or docker engine takes the endpoint's replica secret
(devkit.engines.replica_secret); elsewhere no header is needed and none is sent."""

from __future__ import annotations

from typing import Any

from devkit.engines import replica_secret
from devkit.engines.process import state as ps


def headers_for(url: str) -> dict[str, str]:
    """The header a direct call to the replica at ``url`` (``http://host:port...``) needs:
    a process replica's loopback port, or a docker replica's published loopback port or
    address on its endpoint network."""
    for name in ps.names():
        current = ps.load(name)
        for dep in current.deployments.values() if current else ():
            if any(f"127.0.0.1:{r.port}" in url for r in dep.replicas):
                return replica_secret.headers(name)
    endpoint = _docker_endpoint(url)
    return replica_secret.headers(endpoint) if endpoint else {}


def _docker_endpoint(url: str) -> str | None:
    """The endpoint of the devkit replica container answering at ``url``, if any."""
    try:
        import docker

        client = docker.from_env()
        found = client.containers.list(filters={"label": ["devkit.role=deployment"]})
    except Exception:  # no Docker here: not a docker replica
        return None
    for container in found:
        if any(address in url + "/" for address in _addresses(container.attrs)):
            return str(container.labels.get("devkit.endpoint"))
    return None


def _addresses(attrs: dict[str, Any]) -> list[str]:
    settings = attrs.get("NetworkSettings") or {}
    found = [f"127.0.0.1:{b['HostPort']}/" for bindings in (settings.get("Ports") or {}).values()
             for b in bindings or [] if b.get("HostPort")]
    for net in (settings.get("Networks") or {}).values():
        if net.get("IPAddress"):
            found += [f"{net['IPAddress']}:{port.split('/')[0]}/"
                      for port in (settings.get("Ports") or {})]
    return found
