"""Engines run endpoints: ``docker`` (containers) and ``process`` (host processes).

Both implement :class:`~devkit.engines.base.Engine`; callers pick one by name with
:func:`get_engine`, which imports the implementation lazily (the docker SDK is not loaded
when the process engine is used). With no name, docker is used when an engine answers,
else the process engine, and the caller is told why in one line.
"""

from __future__ import annotations

import importlib

from devkit.engines.base import (
    DeploymentState,
    DeploymentStatus,
    EndpointStatus,
    Engine,
    Progress,
    ReplicaStatus,
    RunSettings,
    no_progress,
)
from devkit.errors import EngineError, EngineUnavailable

UpOptions = RunSettings  # its name before it carried watch and debug too

# engine name -> "module:class"; add a line per engine.
ENGINES: dict[str, str] = {
    "docker": "devkit.engines.docker:DockerEngine",
    "process": "devkit.engines.process:ProcessEngine",
}

__all__ = [
    "ENGINES", "DeploymentState", "DeploymentStatus", "Engine", "EndpointStatus", "Progress",
    "ReplicaStatus", "RunSettings", "UpOptions", "available_engines", "get_engine",
    "no_progress",
]


def _load(name: str) -> Engine:
    target = ENGINES.get(name)
    if target is None:
        raise EngineError(f"Unknown engine '{name}'; use one of: {', '.join(ENGINES)}.")
    module_name, attr = target.split(":")
    engine: Engine = getattr(importlib.import_module(module_name), attr)()
    return engine


def get_engine(name: str | None = None, progress: Progress = no_progress) -> Engine:
    """The engine called ``name``; with ``None``, docker when an engine answers, else
    process (saying so through ``progress``)."""
    if name is not None:
        return _load(name)
    try:
        return _load("docker")
    except EngineUnavailable as exc:
        progress(f"Docker is not available ({_first_clause(exc)}); using the process engine.")
        return _load("process")


def available_engines() -> list[Engine]:
    """Every engine that can answer here (docker only when its engine runs)."""
    engines: list[Engine] = []
    for name in ENGINES:
        try:
            engines.append(_load(name))
        except EngineUnavailable:
            continue
    return engines


def _first_clause(exc: Exception) -> str:
    return str(exc).split(";")[0].rstrip(".")
