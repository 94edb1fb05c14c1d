"""An explicit reload of a replica's scoring code inside its container.

The runtime's admin listener answers only inside the container (it is published, but a
BYOC-free loopback port is not guaranteed to every caller), so devkit asks with
``docker exec <container> python -m devkit_runtime.reload``, which prints the outcome as
one JSON line.
"""

from __future__ import annotations

import json
from typing import Any

from devkit.engines.docker.client import DockerClient
from devkit.errors import DevkitError


def reload_in_container(client: DockerClient, ident: str) -> dict[str, Any]:
    """The runtime's reload outcome (``ok``, ``ms``, ``generation``, ``error``, ...), or
    ``ok: None`` with why no outcome came back."""
    try:
        code, output = client.exec(ident, ["python", "-m", "devkit_runtime.reload"])
    except DevkitError as exc:
        return {"ok": None, "error": f"docker exec failed ({exc})"}
    try:
        answer: dict[str, Any] = json.loads(output.decode().strip().splitlines()[-1])
        return answer
    except (ValueError, IndexError):
        return {"ok": None, "error": f"unexpected answer (exit {code}): {output[-300:]!r}"}
