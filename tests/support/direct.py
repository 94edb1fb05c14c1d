"""Calling a replica directly, past its router, as the CLI does: on the process engine
that takes the endpoint's replica secret (devkit.engines.replica_secret); elsewhere no
header is needed and none is sent."""

from __future__ import annotations

from devkit.engines import replica_secret
from devkit.engines.process import state as ps


def headers_for(url: str) -> dict[str, str]:
    """The header a direct call to the replica at ``url`` (``http://host:port...``) needs."""
    for name in ps.names():
        current = ps.load(name)
        for dep in current.deployments.values() if current else ():
            if any(f"127.0.0.1:{r.port}" in url for r in dep.replicas):
                return replica_secret.headers(name)
    return {}
