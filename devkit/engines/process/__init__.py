"""The process engine: deployments as detached host processes, one venv per environment."""

from devkit.engines.process.engine import ProcessEngine

__all__ = ["ProcessEngine"]
