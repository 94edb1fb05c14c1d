"""A deployment replica as a container: how it is created and how it is read back.

Creation follows docs/contract.md §5 (code and model bind-mounted read-only at Azure's paths)
plus what Azure's local endpoints ignore:
``instance_type`` limits, GPUs, and labels carrying every fact ``status`` needs. A
bring-your-own-container image keeps its own command and serves on its own route ports
(:mod:`devkit.engines.byoc`).

Only the router is reachable from the host: a replica's scoring and admin ports stay on
the endpoint network, published on host loopback only under ``devkit debug`` or
``devkit up --expose`` (``ReplicaRun.expose``). The CLI reaches an unpublished replica
from inside its container (:mod:`devkit.engines.docker.probe`, ``docker exec``). A Linux
host still reaches a container's address on that network, so a replica running devkit's
runtime also takes scoring and admin calls only with the endpoint's replica secret
(:mod:`devkit.engines.replica_secret`), as on the process engine; a BYOC image serves
its own routes and cannot check it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import docker.types
from docker.models.containers import Container

from devkit import collection
from devkit.engines import byoc, launch, replica_secret
from devkit.engines.docker import client as dk
from devkit.engines.docker import probe
from devkit.engines.record import Wanted
from devkit.engines.settings import ReplicaRun
from devkit.engines.sku import Limits
from devkit.secrets import delivery
from devkit.spec.model import DeploymentSpec, InferenceConfig

SPEC_HASH = "devkit.spec-hash"
ENV_HASH = "devkit.env-hash"
GPU = "devkit.gpu"
INSTANCES = "devkit.instance-count"
IMAGE = "devkit.image"
REPLICA_ROLE = "deployment"
COLLECTS = "devkit.collects"  # writes collected data: stopped with SIGTERM before removal
EGRESS = "devkit.egress"  # "disabled": on the endpoint's internal network (engines/docker/egress)
REPLICA_SECRET_ENV = "DEVKIT_REPLICA_SECRET_FILE"  # devkit_runtime.replica_secret.ENV
REPLICA_SECRET_PATH = "/run/devkit/replica.secret"


def network_name(endpoint: str) -> str:
    return f"devkit-{endpoint}"


def container_name(endpoint: str, deployment: str, replica: int) -> str:
    return f"devkit-{endpoint}-{deployment}-{replica}"


def endpoint_labels(endpoint: str) -> dict[str, str]:
    return {dk.MANAGED: "1", dk.ENDPOINT: endpoint}


def replica_labels(want: Wanted, replica: int, image: str) -> dict[str, str]:
    """What ``status`` and ``up`` read back; traffic and auth are not among them: the
    router config is their one live record."""
    spec = want.spec
    return {
        **endpoint_labels(spec.endpoint_name),
        dk.DEPLOYMENT: spec.name,
        dk.REPLICA: str(replica),
        dk.ROLE: REPLICA_ROLE,
        SPEC_HASH: want.spec_hash,
        ENV_HASH: want.env_hash,
        GPU: "1" if want.gpu else "0",
        INSTANCES: str(spec.instance_count),
        IMAGE: image,
        **({EGRESS: "disabled"} if spec.egress_public_network_access == "disabled" else {}),
    }


def mounts(spec: DeploymentSpec) -> list[docker.types.Mount]:
    """Code and model, read-only, where Azure puts them."""
    result: list[docker.types.Mount] = []
    code_dir = launch.container_code_dir(spec)
    if spec.code_configuration is not None and code_dir is not None:
        result.append(docker.types.Mount(str(code_dir), str(spec.code_configuration.code),
                                         type="bind", read_only=True))
    target = launch.container_model_target(spec)
    if spec.model is not None and target is not None:
        result.append(docker.types.Mount(str(target), str(spec.model.path), type="bind",
                                         read_only=True))
    # Collected data, writable, at its host path (the settings name host paths).
    result += [docker.types.Mount(folder, folder, type="bind", read_only=False)
               for folder in collection.mount_dirs([spec])]
    return result


def create_kwargs(want: Wanted, replica: int, image: str, limits: Limits, network: str,
                  run: ReplicaRun) -> dict[str, Any]:
    """Everything ``containers.create`` needs for one replica."""
    spec = want.spec
    kwargs: dict[str, Any] = {
        "labels": replica_labels(want, replica, image),
        "mounts": mounts(spec),
        "network": network,
        "hostname": f"{spec.name}-{replica}",
        "restart_policy": {"Name": "unless-stopped"},
        "detach": True,
    }
    routes = byoc.routes_of(spec)
    if routes is not None:
        # The image's own command and ports; no runtime settings.
        kwargs["environment"] = byoc.container_env(spec)
        if run.expose:
            kwargs["ports"] = {f"{port}/tcp": ("127.0.0.1", None)
                               for port in byoc.ports(routes)}
        kwargs["labels"][byoc.ROUTES_LABEL] = byoc.to_label(routes)
    else:
        kwargs.update(_runtime_kwargs(spec, run))
    if collection.mount_dirs([spec]):
        kwargs["labels"][COLLECTS] = "1"  # `down` stops it gracefully: its data is flushed
    _add_limits(kwargs, limits)
    return kwargs


def _runtime_kwargs(spec: DeploymentSpec, run: ReplicaRun) -> dict[str, Any]:
    """Command, environment and ports of a container running devkit's runtime; under
    `devkit debug`, debugpy listens on its fixed container port, published on the
    loopback host port the session asked for."""
    debug_port = launch.DEBUG_PORT if run.debug_port is not None else None
    env = launch.server_env(spec, launch.container_paths(spec), host="0.0.0.0",
                            port=launch.SERVER_PORT, admin_port=launch.ADMIN_PORT,
                            watch=run.watch, debug_port=debug_port)
    # where the supervisor records its workers' restarts, read back by `status`
    env[probe.EVENTS_ENV] = probe.EVENTS_PATH
    ports: dict[str, Any] = {}
    if run.expose:
        ports = {f"{launch.SERVER_PORT}/tcp": ("127.0.0.1", None),
                 f"{launch.ADMIN_PORT}/tcp": ("127.0.0.1", None)}
    if run.debug_port is not None:
        ports[f"{launch.DEBUG_PORT}/tcp"] = ("127.0.0.1", run.debug_port)
    # The endpoint's replica secret (engines/replica_secret.py): its bridge IP is reachable
    # from a Linux host, so only callers holding it (the router, the CLI) may score or
    # reload. The file is bind-mounted read-only; the environment names its path only.
    env[REPLICA_SECRET_ENV] = REPLICA_SECRET_PATH
    extra = [docker.types.Mount(REPLICA_SECRET_PATH, str(replica_secret.ensure(spec.endpoint_name)),
                                type="bind", read_only=True)]
    if run.secrets_file is not None:  # the values: a read-only file, never Config.Env
        env[delivery.ENV] = delivery.CONTAINER_PATH
        extra.append(docker.types.Mount(delivery.CONTAINER_PATH, run.secrets_file, type="bind",
                                        read_only=True))
    return {"command": launch.server_command(), "environment": env, "ports": ports,
            "mounts": mounts(spec) + extra}


def _add_limits(kwargs: dict[str, Any], limits: Limits) -> None:
    if limits.nano_cpus is not None:
        kwargs["nano_cpus"] = limits.nano_cpus
    if limits.memory_bytes is not None:
        kwargs["mem_limit"] = limits.memory_bytes
        # No swap on top (Azure's instances have none): past the limit is an OOM kill,
        # not a slow crawl through swap on a host that has some.
        kwargs["memswap_limit"] = limits.memory_bytes
    if limits.gpus:
        kwargs["device_requests"] = [docker.types.DeviceRequest(count=limits.gpus,
                                                                capabilities=[["gpu"]])]


def networking_config(raw: Any, network: str, deployment: str) -> dict[str, Any]:
    """Aliases on the endpoint network: the deployment name reaches any replica (for the
    router), so routers never need to know container names."""
    return {network: raw.api.create_endpoint_config(aliases=[deployment])}


@dataclass(frozen=True)
class ReplicaView:
    """What a container's labels and inspect data say about one replica."""

    endpoint: str
    deployment: str
    replica: int
    container: Container

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.container.labels)

    @property
    def running(self) -> bool:
        return self.container.status == "running"

    def host_url(self, port: int = launch.SERVER_PORT) -> str | None:
        ports = self.container.attrs.get("NetworkSettings", {}).get("Ports") or {}
        bindings = ports.get(f"{port}/tcp") or []
        for binding in bindings:
            if binding.get("HostPort"):
                return f"http://127.0.0.1:{binding['HostPort']}"
        return self._internal_url(port)

    def _internal_url(self, port: int) -> str | None:
        """An egress-disabled replica has no published port (an internal network has none):
        the host reaches it at its address on that network, through the bridge's host side
        (Linux engines; Docker Desktop's VM does not route there)."""
        if self.labels.get(EGRESS) != "disabled":
            return None
        networks = self.container.attrs.get("NetworkSettings", {}).get("Networks") or {}
        address = next((n.get("IPAddress") for n in networks.values() if n.get("IPAddress")),
                       None)
        return f"http://{address}:{port}" if address else None

    def network_url(self, port: int | None = None) -> str:
        """Where the router reaches it: by container name on the endpoint network."""
        return f"http://{self.container.name}:{port or self.serving_port}"

    @property
    def routes(self) -> InferenceConfig | None:
        """The BYOC routes it was started with; None when it runs devkit's runtime."""
        return byoc.from_label(self.labels.get(byoc.ROUTES_LABEL))

    @property
    def serving_port(self) -> int:
        """The container port scoring calls go to."""
        routes = self.routes
        return routes.scoring_route.port if routes is not None else launch.SERVER_PORT


def view(container: Container) -> ReplicaView:
    labels = container.labels
    return ReplicaView(labels.get(dk.ENDPOINT, ""), labels.get(dk.DEPLOYMENT, ""),
                       int(labels.get(dk.REPLICA, "0")), container)
