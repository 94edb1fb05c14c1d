"""Swarm objects for a release: names, labels, service definitions, the stack file.

Every object carries ``devkit.managed=1`` and ``devkit.endpoint=<name>``, plus a role
(``deployment``, ``router``, ``keys``, ``release``), so ``down`` finds all of it by label.

Decisions forced by kernels without IPVS (and kept because they also work with it):

- services use ``--endpoint-mode dnsrr``: the service name resolves on the endpoint's
  overlay network to its tasks' addresses; swarm's default VIP mode needs IPVS;
- the router publishes its port in ``host`` mode on a manager (the ingress routing mesh
  needs IPVS too), so the scoring URI is that manager's address;
- deployment services roll out ``start-first`` (no published port, so nothing to clash
  on); the router updates ``stop-first`` (``start-first`` with a host-mode port hangs: the
  new task cannot bind the port the old one holds), and a traffic change never updates
  it: the router re-reads its config file, written into its volume (see
  :mod:`devkit.promote.swarm.router`).

A deployment's service is named with its release fingerprint
(``devkit-<endpoint>-<deployment>-<fp8>``): a changed deployment gets a new service next
to the old one, the router switches over once it is healthy, then the old one is removed.
Only a replica count change scales a service in place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import docker.types
import yaml

from devkit.promote.release import DeploymentRelease, Release

MANAGED = "devkit.managed"
ENDPOINT = "devkit.endpoint"
DEPLOYMENT = "devkit.deployment"
ROLE = "devkit.role"
FINGERPRINT = "devkit.fingerprint"
EGRESS = "devkit.egress"  # "disabled" on services of egress-disabled deployments
ROUTER_PORT = 5001
CONFIG_DIR = "/etc/devkit/router"
SECONDS = 1_000_000_000


def labels(endpoint: str, role: str, **extra: str) -> dict[str, str]:
    return {MANAGED: "1", ENDPOINT: endpoint, ROLE: role, **extra}


def label_filter(endpoint: str | None, role: str | None = None) -> list[str]:
    found = [f"{MANAGED}=1"]
    if endpoint is not None:
        found.append(f"{ENDPOINT}={endpoint}")
    if role is not None:
        found.append(f"{ROLE}={role}")
    return found


def network_name(endpoint: str) -> str:
    return f"devkit-{endpoint}"


def internal_network_name(endpoint: str) -> str:
    """The internal overlay network of the endpoint's egress-disabled deployments (no
    gateway bridge is attached for it, so their tasks have no route out); the router
    joins it too."""
    return f"devkit-{endpoint}-internal"


def router_name(endpoint: str) -> str:
    return f"devkit-{endpoint}-router"


def volume_name(endpoint: str) -> str:
    return f"devkit-{endpoint}-router-config"


def service_name(endpoint: str, deployment: DeploymentRelease) -> str:
    return f"devkit-{endpoint}-{deployment.name}-{deployment.fingerprint[:8]}"


def deployment_service(endpoint: str, d: DeploymentRelease, network: str,
                       limits: tuple[float | None, int | None],
                       reserve: bool) -> dict[str, Any]:
    """Keyword arguments of ``services.create`` for one deployment."""
    cores, memory = limits
    nano = int(cores * SECONDS) if cores else None
    resources = docker.types.Resources(
        cpu_limit=nano, mem_limit=memory,
        cpu_reservation=nano if reserve else None, mem_reservation=memory if reserve else None)
    own = labels(endpoint, "deployment", **{DEPLOYMENT: d.name, FINGERPRINT: d.fingerprint},
                 **({EGRESS: "disabled"} if d.egress_disabled else {}))
    return {
        "image": d.image,
        "name": service_name(endpoint, d),
        "env": [f"{k}={v}" for k, v in d.env.items()],
        "labels": own,
        "container_labels": own,
        "resources": resources,
        "healthcheck": None if d.byoc else healthcheck(d),
        "mode": docker.types.ServiceMode("replicated", replicas=d.replicas),
        "networks": [docker.types.NetworkAttachmentConfig(network, aliases=[d.name])],
        "endpoint_spec": docker.types.EndpointSpec(mode="dnsrr"),
        "update_config": docker.types.UpdateConfig(parallelism=1, order="start-first",
                                                   failure_action="rollback",
                                                   monitor=5 * SECONDS),
        "restart_policy": docker.types.RestartPolicy(condition="any", delay=2 * SECONDS),
        "stop_grace_period": 10 * SECONDS,
    }


def healthcheck(d: DeploymentRelease) -> docker.types.Healthcheck:
    """The runtime's readiness route with the spec's probe settings (the image's own
    Python, so no curl is needed in the image)."""
    probe = d.probe
    url = f"http://127.0.0.1:{d.port}{d.readiness_path}"
    check = (f"import urllib.request; urllib.request.urlopen({url!r}, "
             f"timeout={probe.timeout})")
    return docker.types.Healthcheck(
        test=["CMD", "python", "-c", check], interval=probe.period * SECONDS,
        timeout=(probe.timeout + 1) * SECONDS, retries=probe.failure_threshold,
        start_period=probe.initial_delay * SECONDS)


def router_service(release: Release, network: str, port: int,
                   secrets: list[docker.types.SecretReference],
                   internal: str | None = None) -> dict[str, Any]:
    endpoint = release.endpoint
    own = labels(endpoint, "router")
    volume = docker.types.Mount(CONFIG_DIR, volume_name(endpoint), type="volume",
                                labels=labels(endpoint, "router-config"))
    return {
        "image": release.router_image,
        "name": router_name(endpoint),
        "labels": own,
        "container_labels": own,
        "mounts": [volume],
        "secrets": secrets,
        "networks": [docker.types.NetworkAttachmentConfig(network),
                     *([docker.types.NetworkAttachmentConfig(internal)] if internal else [])],
        "endpoint_spec": docker.types.EndpointSpec(
            mode="dnsrr", ports={port: (ROUTER_PORT, "tcp", "host")}),
        "constraints": ["node.role==manager"],
        "update_config": docker.types.UpdateConfig(parallelism=1, order="stop-first"),
        "restart_policy": docker.types.RestartPolicy(condition="any", delay=1 * SECONDS),
        "mode": docker.types.ServiceMode("replicated", replicas=1),
    }


def stack(release: Release, port: int, limits: dict[str, tuple[float | None, int | None]],
          reserve: bool) -> dict[str, Any]:
    """The release as a compose v3.8 stack file (``--dry-run``), for reading or for
    ``docker stack deploy``; the router's config and keys are written by devkit at
    apply time, so they appear here as an external volume and external secrets."""
    endpoint = release.endpoint
    network = network_name(endpoint)
    internal = internal_network_name(endpoint)
    sealed = any(d.egress_disabled for d in release.deployments)
    services: dict[str, Any] = {}
    for d in release.deployments:
        cores, memory = limits[d.name]
        resources: dict[str, Any] = {"limits": _compose_resources(cores, memory)}
        if reserve:
            resources["reservations"] = _compose_resources(cores, memory)
        service: dict[str, Any] = {
            "image": d.image, "environment": dict(d.env),
            "networks": {internal if d.egress_disabled else network: {"aliases": [d.name]}},
            "deploy": {"mode": "replicated", "replicas": d.replicas,
                       "endpoint_mode": "dnsrr", "resources": resources,
                       "labels": labels(endpoint, "deployment", **{DEPLOYMENT: d.name}),
                       "update_config": {"parallelism": 1, "order": "start-first",
                                         "failure_action": "rollback"}},
        }
        if not d.byoc:
            check = healthcheck(d)
            service["healthcheck"] = {
                "test": check["Test"], "interval": f"{d.probe.period}s",
                "timeout": f"{d.probe.timeout + 1}s", "retries": d.probe.failure_threshold,
                "start_period": f"{d.probe.initial_delay}s"}
        services[service_name(endpoint, d)] = service
    services[router_name(endpoint)] = {
        "image": release.router_image,
        "ports": [{"target": ROUTER_PORT, "published": port, "protocol": "tcp",
                   "mode": "host"}],
        "volumes": [{"type": "volume", "source": volume_name(endpoint), "target": CONFIG_DIR}],
        "networks": [network, *([internal] if sealed else [])],
        "deploy": {"replicas": 1, "endpoint_mode": "dnsrr",
                   "placement": {"constraints": ["node.role==manager"]},
                   "update_config": {"order": "stop-first"},
                   "labels": labels(endpoint, "router")},
    }
    networks: dict[str, Any] = {network: {"driver": "overlay",
                                          "labels": labels(endpoint, "network")}}
    if sealed:
        networks[internal] = {"driver": "overlay", "internal": True,
                              "labels": labels(endpoint, "internal-network")}
    return {"version": "3.8", "services": services, "networks": networks,
            "volumes": {volume_name(endpoint): {"labels": labels(endpoint, "router-config")}}}


def write_stack(release: Release, folder: Path, port: int) -> Path:
    """``--dry-run``: ``FOLDER/<endpoint>.stack.yml`` with the SKUs' full sizes."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{release.endpoint}.stack.yml"
    limits = {d.name: (d.cores, d.memory) for d in release.deployments}
    path.write_text(yaml.safe_dump(stack(release, port, limits, True), sort_keys=False),
                    encoding="utf-8")
    return path


def _compose_resources(cores: float | None, memory: int | None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if cores:
        found["cpus"] = f"{cores:g}"
    if memory:
        found["memory"] = f"{memory // (1024 * 1024)}M"
    return found
