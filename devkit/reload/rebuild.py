"""Environment changes are never silently ignored: "blue needs a rebuild".

A running deployment carries the environment hash it was started with (a Docker label, or
``process.json``). The same hash computed from the spec *now* differs when the conda file,
the Dockerfile or its build context, the base image or devkit's runtime changed. Code
changes never show up here: they reload in place. ``devkit up`` rebuilds and restarts
exactly the deployments listed (the engines compare the same hashes).
"""

from __future__ import annotations

from dataclasses import dataclass

from devkit.engines.base import EndpointStatus, Engine
from devkit.errors import DevkitError
from devkit.spec.model import DeploymentSpec, Endpoint


@dataclass(frozen=True)
class RebuildNeeded:
    endpoint: str
    deployment: str
    reason: str

    def sentence(self) -> str:
        return (f"{self.deployment} needs a rebuild: {self.reason}; run `devkit up` to "
                f"rebuild and restart only {self.deployment}.")


def rebuilds_needed(engine: Engine, status: EndpointStatus,
                    spec: Endpoint) -> list[RebuildNeeded]:
    """Running deployments whose environment no longer matches the spec."""
    found = []
    for running in status.deployments:
        wanted = next((d for d in spec.deployments if d.name == running.name), None)
        if wanted is None or not running.env_hash:
            continue
        try:
            now = engine.env_hash(wanted)
        except DevkitError as exc:  # e.g. the conda file no longer parses
            found.append(RebuildNeeded(status.name, running.name, f"its environment cannot "
                                       f"be read ({exc})"))
            continue
        if now != running.env_hash:
            what = _what_changed(wanted)
            found.append(RebuildNeeded(status.name, running.name,
                                       f"its environment changed ({what})"))
    return found


def _what_changed(deployment: DeploymentSpec) -> str:
    environment = deployment.environment
    if environment.build is not None:
        return f"Dockerfile or build context {environment.build.path}"
    if environment.conda_file is not None:
        return f"conda file {environment.conda_file}, base image or devkit's runtime"
    return "base image or devkit's runtime"
