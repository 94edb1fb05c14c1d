"""Where a debug session listens and how local files map to the server's."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEBUG_HOST = "127.0.0.1"
CONTAINER_DEBUG_PORT = 5678  # = devkit.engines.launch.DEBUG_PORT (kept import-free)


@dataclass(frozen=True)
class DebugTarget:
    """One deployment listening for debugpy on ``host:port`` (always loopback)."""

    endpoint: str
    deployment: str
    engine: str
    port: int
    local_root: str
    remote_root: str
    host: str = DEBUG_HOST
    image: str = ""  # the deployment's image, for the dev container
    container_root: str = ""  # the code folder inside that image
    replica_url: str = ""
    mounts: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)

    @property
    def configuration_name(self) -> str:
        return f"devkit: attach {self.endpoint}/{self.deployment}"

    def to_json(self) -> dict[str, Any]:
        """What ``devkit debug --json`` prints for tools."""
        return {"host": self.host, "port": self.port, "local_root": self.local_root,
                "remote_root": self.remote_root, "endpoint": self.endpoint,
                "deployment": self.deployment, "engine": self.engine}

    def template_values(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "deployment": self.deployment, "host": self.host,
                "port": self.port, "local_root": self.local_root,
                "remote_root": self.remote_root, "image": self.image,
                "container_root": self.container_root,
                "mounts": list(self.mounts), "env": self.env, "server_port": 5001,
                "debug_port": CONTAINER_DEBUG_PORT}

    def instructions(self, launch_json: Path, devcontainer_json: Path) -> str:
        """How to attach: VS Code, any DAP client, or the dev container."""
        return "\n".join([
            f"{self.endpoint}/{self.deployment} is listening for a debugger on "
            f"{self.host}:{self.port} (one replica, request timeouts lifted).",
            f"  VS Code: Run and Debug -> \"{self.configuration_name}\" ({launch_json}).",
            f"  Any DAP client: connect to {self.host}:{self.port} and send an `attach` "
            f"request with pathMappings {self.local_root} -> {self.remote_root}.",
            f"  Dev container: \"Reopen in Container\" uses {devcontainer_json}.",
            "Set a breakpoint in run() and send a request (`devkit invoke "
            f"{self.endpoint} --deployment {self.deployment} ...`). "
            f"`devkit debug {self.endpoint} -d {self.deployment} --off` restores it.",
        ])
