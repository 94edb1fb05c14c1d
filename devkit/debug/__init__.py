"""``devkit debug``: a live deployment restarted under debugpy, and the VS Code files to
attach to it (launch configuration with path mappings, dev container).

* :func:`start` / :func:`stop` -- restart one deployment with or without the debugger
  (through the engine's ``up`` with debug run settings: one replica, loopback debug
  port, timeouts lifted);
* :func:`wait_for_client` -- block until a debugger attached;
* :func:`write_launch_json` / :func:`write_devcontainer_json` -- from ``devcontainer/``.
"""

from devkit.debug.files import write_devcontainer_json, write_launch_json
from devkit.debug.session import debug_settings, start, stop, wait_for_client
from devkit.debug.target import DebugTarget

__all__ = [
    "DebugTarget", "debug_settings", "start", "stop", "wait_for_client",
    "write_devcontainer_json", "write_launch_json",
]
