"""The debugpy hook: ``DEVKIT_DEBUG_PORT`` (or azmlinfsrv's ``AZUREML_DEBUG_PORT``) makes the
worker listen for a debugger; ``DEVKIT_DEBUG_WAIT=1`` holds startup until one attaches.

debugpy is an optional dependency (``devkit-runtime[debug]``); asking for a debug port
without it is a startup error that says how to install it.
"""

from __future__ import annotations

import importlib.util
import logging

from devkit_runtime.config import ServerConfig
from devkit_runtime.wire import Debugger

log = logging.getLogger("devkit_runtime")


class DebuggerUnavailable(RuntimeError):
    """A debug port was requested but debugpy is not installed."""


def check(config: ServerConfig) -> None:
    """Fail fast, in the supervisor, before any worker starts."""
    if config.debug_port is not None and importlib.util.find_spec("debugpy") is None:
        raise DebuggerUnavailable(
            f"a debug port ({config.debug_port}) was requested but debugpy is not installed; "
            "run `pip install debugpy` (or `pip install devkit-runtime[debug]`) in the "
            "server's environment, or unset DEVKIT_DEBUG_PORT/AZUREML_DEBUG_PORT")


def describe(config: ServerConfig) -> Debugger | None:
    """The debugger's state for ``/-/ready`` (``devkit debug --wait`` polls ``attached``)."""
    if config.debug_port is None:
        return None
    import debugpy

    return Debugger(config.debug_port, bool(debugpy.is_client_connected()))


def maybe_listen(config: ServerConfig) -> None:
    """In the worker: start the debugpy listener if configured."""
    if config.debug_port is None:
        return
    import debugpy

    debugpy.listen((config.host, config.debug_port))
    log.info("debugpy listening on %s:%d (workers forced to 1)", config.host, config.debug_port)
    if config.debug_wait:
        log.info("waiting for a debugger to attach (DEVKIT_DEBUG_WAIT=1)")
        debugpy.wait_for_client()
