"""The docker engine: deployments as labelled containers on a network per endpoint."""

from devkit.engines.docker.engine import DockerEngine

__all__ = ["DockerEngine"]
