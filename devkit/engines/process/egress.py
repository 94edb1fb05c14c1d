"""What the process engine does with ``egress_public_network_access: disabled``: nothing it
could do would hold. A replica is a host process sharing the host's network; blocking its
egress needs a network namespace (root, or the docker engine). So ``up`` says so once,
plainly, and runs it anyway; ``devkit up --strict`` refuses instead, before anything starts.
"""

from __future__ import annotations

from devkit.engines.status import Progress
from devkit.errors import EngineError
from devkit.spec.model import Endpoint


def unenforced(endpoint: Endpoint) -> list[str]:
    """The deployments whose spec disables egress."""
    return [d.name for d in endpoint.deployments
            if d.egress_public_network_access == "disabled"]


def check(endpoint: Endpoint, strict: bool, progress: Progress) -> None:
    """Warn once (or, when ``strict``, raise) for deployments that disable egress."""
    names = unenforced(endpoint)
    if not names:
        return
    which = ", ".join(f"'{n}'" for n in names)
    what = (f"egress_public_network_access: disabled (deployment {which}) cannot be enforced "
            "by the process engine: its replicas are host processes on the host's network")
    if strict:
        raise EngineError(f"{what}; run it on the docker engine (`--engine docker`), or drop "
                          "`--strict` to run it with egress enabled.")
    progress(f"warning: {what}; they can reach the network (use `--engine docker` to "
             "isolate them, `--strict` to refuse).")
