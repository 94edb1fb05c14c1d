"""devkit's in-container inference server (docs/contract.md §1-2). Imports nothing from devkit.

Public API: :class:`ServerConfig` (settings, from env/flags) and :func:`serve` (blocking;
runs the supervisor and its workers). Both are imported lazily so that the scoring
compatibility modules (``azureml.contrib.services.aml_request`` -> ``amlrequest``) stay
cheap to import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["ServerConfig", "ServerStartError", "serve", "__version__"]

if TYPE_CHECKING:
    from devkit_runtime.config import ServerConfig
    from devkit_runtime.supervisor import ServerStartError, serve


def __getattr__(name: str) -> Any:
    if name == "ServerConfig":
        from devkit_runtime.config import ServerConfig

        return ServerConfig
    if name in ("serve", "ServerStartError"):
        from devkit_runtime import supervisor

        return getattr(supervisor, name)
    raise AttributeError(name)
