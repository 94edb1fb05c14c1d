"""``egress_public_network_access: disabled`` on the docker engine: replicas with no way out.

Such a deployment's replicas join ``devkit-<endpoint>-internal``, a Docker network created
with ``internal: true``: Docker's own iptables isolation rules drop everything that would
leave it, from the container's first packet. That is the enforcement. The endpoint's
router is connected to it as well as to the endpoint network (where its port is
published: publishing does not work on an internal network), so it still reaches the
replicas by name and the endpoint keeps answering. The host reaches the replicas at their
address on that network (no published ports there either; see
:meth:`~devkit.engines.docker.containers.ReplicaView.host_url`).

Belt and braces: an internal network still hands its containers a default route through
the bridge gateway, so a program inside would see a route out that merely drops packets.
Right after a replica starts, a short-lived helper container sharing its network
namespace (``network_mode=container:<replica>``) and holding ``NET_ADMIN`` — which the
replica itself never gets — deletes that default route over raw netlink with the base
image's Python (no iproute2 needed). A replica that Docker restarts later (its restart
policy, a daemon restart) gets a fresh namespace with the route back until its next
start by ``devkit up``; the isolation rules stay in force throughout.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from docker.models.containers import Container

from devkit.engines.docker import client as dk
from devkit.engines.docker import router as rt
from devkit.engines.docker.client import DockerClient, translated
from devkit.engines.docker.containers import EGRESS
from devkit.engines.status import Progress
from devkit.errors import EngineError
from devkit.spec.model import DeploymentSpec

NETWORK_ROLE = "internal-network"
HELPER_ROLE = "egress-helper"
HELPER_TIMEOUT_S = 30

# Deletes every IPv4 and IPv6 default route of the main table (RTM_DELROUTE with a
# zero-length destination) and exits 0 once none is left (ESRCH / ENOENT); any other
# netlink error exits non-zero with it.
ROUTE_SCRIPT = """\
import errno, socket, struct, sys
def delete(family):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    try:
        body = struct.pack("BBBBBBBBI", family, 0, 0, 0, 254, 0, 255, 0, 0)
        s.send(struct.pack("IHHII", 16 + len(body), 25, 1 | 4, 1, 0) + body)
        reply = s.recv(4096)
        kind = struct.unpack("IHHII", reply[:16])[1]
        return -struct.unpack("i", reply[16:20])[0] if kind == 2 else 0
    finally:
        s.close()
for family in (socket.AF_INET, socket.AF_INET6):
    for _ in range(16):
        err = delete(family)
        if err in (errno.ESRCH, errno.ENOENT, errno.EAFNOSUPPORT):
            break
        if err:
            sys.exit("deleting the default route failed: " + errno.errorcode.get(err, str(err)))
"""


def disabled(spec: DeploymentSpec) -> bool:
    return spec.egress_public_network_access == "disabled"


def network_name(endpoint: str) -> str:
    return f"devkit-{endpoint}-internal"


def network_labels(endpoint: str) -> dict[str, str]:
    return {dk.MANAGED: "1", dk.ENDPOINT: endpoint, dk.ROLE: NETWORK_ROLE}


def ensure_network(client: DockerClient, endpoint: str) -> str:
    """The endpoint's internal network (created once, removed by ``down`` with the
    others), with the endpoint's router connected to it when one runs already, so it
    can reach replicas started there before its config names them."""
    name = network_name(endpoint)
    client.ensure_network(name, network_labels(endpoint), internal=True)
    router = next(iter(client.containers(endpoint=endpoint, role=rt.ROLE)), None)
    if router is not None:
        rt.connect_networks(client, router, [name])
    return name


def existing_networks(client: DockerClient, endpoint: str) -> list[str]:
    """The endpoint's internal networks (zero or one), for a router being created."""
    return [n.name for n in client.networks(endpoint=endpoint, role=NETWORK_ROLE)
            if n.name]


def of_labels(labels: dict[str, str]) -> str:
    """"disabled" or "enabled", as a replica's labels record it."""
    return "disabled" if labels.get(EGRESS) == "disabled" else "enabled"


def drop_default_routes(client: DockerClient, replicas: Sequence[Container], image: str,
                        progress: Progress) -> None:
    """Delete the default route inside each started replica's network namespace, all at
    once. A replica that already stopped is skipped: its readiness wait reports why."""
    if not replicas:
        return
    with ThreadPoolExecutor(max_workers=min(len(replicas), 8)) as pool:
        dropped = list(pool.map(lambda c: _drop_one(client, c, image), replicas))
    if any(dropped):
        progress(f"{replicas[0].labels.get(dk.DEPLOYMENT, '?')}: egress disabled "
                 f"(internal network, no default route)")


def _drop_one(client: DockerClient, replica: Container, image: str) -> bool:
    kwargs: dict[str, Any] = {
        "command": ["python3", "-c", ROUTE_SCRIPT],
        "network_mode": f"container:{replica.id}",
        "cap_add": ["NET_ADMIN"],
        "labels": {dk.MANAGED: "1", dk.ENDPOINT: replica.labels.get(dk.ENDPOINT, ""),
                   dk.ROLE: HELPER_ROLE},
        "detach": True,
    }
    try:
        helper = client.create_container(image, f"{replica.name}-egress", **kwargs)
    except EngineError:  # "cannot join network of a non running container"
        if _stopped(client, replica):
            return False
        raise
    try:
        try:
            client.start(helper)
        except EngineError:
            if _stopped(client, replica):
                return False
            raise
        with translated(f"wait for {helper.name}"):
            code = int(helper.wait(timeout=HELPER_TIMEOUT_S).get("StatusCode", 1))
        if code != 0:
            raise EngineError(
                f"Could not remove the default route of {replica.name} "
                f"(egress_public_network_access: disabled): {client.tail(helper, 5)}; its "
                "internal network still blocks egress. Run `devkit up` again, or report it "
                "with this line.")
        return True
    finally:
        client.remove_container(helper)


def _stopped(client: DockerClient, replica: Container) -> bool:
    return not client.reload(replica) or replica.status != "running"
