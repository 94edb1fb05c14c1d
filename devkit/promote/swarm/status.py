"""Reading an endpoint back from a swarm and operating on it: status, live traffic,
logs, key rotation and ``down``. The truth comes from the target (service labels and
tasks, the router's own config), never from a local file.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from devkit.engines.base import DeploymentStatus, EndpointStatus, Progress
from devkit.engines.docker.client import DockerClient
from devkit.engines.streams import Source, merge
from devkit.errors import EndpointNotFound, TargetError
from devkit.promote.swarm import router as rt
from devkit.promote.swarm import specs
from devkit.promote.swarm.client import translated
from devkit.promote.swarm.objects import Objects
from devkit.promote.targets import Target
from devkit.spec import validate_traffic

if TYPE_CHECKING:
    from devkit.promote.swarm.target import SwarmTarget


def endpoint_names(client: DockerClient, target: Target) -> list[str]:
    with translated(target, "list its services"):
        found = client.raw.services.list(filters={"label": specs.label_filter(None, "router")})
    return sorted({s.attrs["Spec"]["Labels"][specs.ENDPOINT] for s in found})


def endpoint_status(place: SwarmTarget, endpoint: str) -> EndpointStatus | None:
    objects = Objects(place.client, place.target, endpoint)
    port = objects.router_port()
    if port is None:
        return None
    config = rt.read_config(place.client, place.target, endpoint) or {"deployments": []}
    services = {s.name: s for s in objects.services("deployment")}
    deployments = []
    for entry in config["deployments"]:
        name = entry["replicas"][0].split("//", 1)[1].rsplit(":", 1)[0]
        service = services.get(name)
        deployments.append(_deployment_status(entry, service, objects, name))
    auth = str(config.get("auth", {}).get("mode", "none"))
    return EndpointStatus(endpoint, f"{rt.live_url(place.target, port)}/score", auth,
                          f"swarm:{place.target.name}", tuple(deployments))


def _deployment_status(entry: Mapping[str, Any], service: Any, objects: Objects,
                       name: str) -> DeploymentStatus:
    from devkit.promote.swarm.target import state_of

    if service is None:
        return DeploymentStatus(entry["name"], state_of(0, 1), 0, entry["weight"],
                                entry.get("mirror", 0), "", error=f"service {name} is gone")
    replicas = int(service.attrs["Spec"]["Mode"].get("Replicated", {}).get("Replicas", 0))
    running, _ = objects._task_counts(name)
    image = service.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
    egress = service.attrs["Spec"].get("Labels", {}).get(specs.EGRESS, "enabled")
    return DeploymentStatus(entry["name"], state_of(running, replicas), replicas,
                            entry["weight"], entry.get("mirror", 0), image,
                            tuple(entry["replicas"]), egress=egress)


def set_traffic(place: SwarmTarget, endpoint: str, traffic: Mapping[str, int],
                mirror: Mapping[str, int] | None) -> dict[str, Any]:
    """New live weights (and mirror, unless None) written into the router's config."""
    objects = Objects(place.client, place.target, endpoint)
    port = _port(objects, place.target, endpoint)
    config = rt.read_config(place.client, place.target, endpoint)
    if config is None:
        raise TargetError(f"Target '{place.target.name}': the router of '{endpoint}' has no "
                          f"config; promote the endpoint again.")
    entries = config["deployments"]
    current_mirror = {d["name"]: d["mirror"] for d in entries if d.get("mirror")}
    new_mirror = current_mirror if mirror is None else {n: p for n, p in mirror.items() if p}
    validate_traffic([d["name"] for d in entries], dict(traffic), new_mirror)
    for entry in entries:
        entry["weight"] = traffic.get(entry["name"], 0)
        entry["mirror"] = new_mirror.get(entry["name"], 0)
    config["generation"] = int(config["generation"]) + 1
    rt.write_config(place.client, place.target, endpoint, config,
                    rt.live_url(place.target, port))
    return {"endpoint": endpoint, "target": place.target.name,
            "traffic": {d["name"]: d["weight"] for d in entries},
            "mirror": {d["name"]: d["mirror"] for d in entries if d["mirror"]},
            "generation": config["generation"], "applied": True}


def logs(place: SwarmTarget, endpoint: str, deployment: str | None, follow: bool,
         tail: int | None) -> Iterator[str]:
    objects = Objects(place.client, place.target, endpoint)
    services = objects.services("deployment")
    chosen = [s for s in services
              if deployment is None or s.attrs["Spec"]["Labels"].get(specs.DEPLOYMENT)
              == deployment]
    if deployment is not None and not chosen:
        raise EndpointNotFound(f"Target '{place.target.name}': endpoint '{endpoint}' has no "
                               f"deployment '{deployment}'; see `devkit status --target "
                               f"{place.target.name}`.")
    router = objects.router()
    if router is None and not chosen:
        raise EndpointNotFound(f"Target '{place.target.name}' runs no endpoint '{endpoint}'; "
                               f"promote it first.")
    if deployment is None and router is not None:
        chosen.append(router)
    sources: list[Source] = []
    for service in chosen:
        label = service.attrs["Spec"]["Labels"].get(specs.DEPLOYMENT) or "router"
        sources.append((label, _opener(service, follow, tail)))
    return merge(sources, follow)


def _opener(service: Any, follow: bool, tail: int | None) -> Any:
    def open_stream() -> Iterable[bytes]:
        return service.logs(stdout=True, stderr=True, follow=follow,  # type: ignore[no-any-return]
                            tail="all" if tail is None else tail)
    return open_stream


def down(place: SwarmTarget, endpoint: str, progress: Progress) -> None:
    """Remove every service, secret, config, network and volume labelled for the
    endpoint; EndpointNotFound when there is none."""
    objects = Objects(place.client, place.target, endpoint)
    raw = place.client.raw
    label = {"label": specs.label_filter(endpoint)}
    with translated(place.target, f"list the objects of '{endpoint}'"):
        services = raw.services.list(filters=label)
        networks = raw.networks.list(filters=label)
        configs = raw.configs.list(filters=label)
        secret_list = raw.secrets.list(filters=label)
    if not (services or networks or configs or secret_list):
        raise EndpointNotFound(f"Target '{place.target.name}' has nothing of endpoint "
                               f"'{endpoint}'; check the name with `devkit status --target "
                               f"{place.target.name}`.")
    for service in services:
        progress(f"removing service {service.name}")
        objects.remove_service(service)
    objects.wait_containers_gone()
    with translated(place.target, f"remove the objects of '{endpoint}'"):
        for item in [*secret_list, *configs, *networks]:
            progress(f"removing {type(item).__name__.lower()} {item.name}")
            item.remove()
        _remove_volumes(raw, label, progress)


def _remove_volumes(raw: Any, label: dict[str, Any], progress: Progress) -> None:
    # A volume is released a moment after its container goes; retry briefly.
    for volume in raw.volumes.list(filters=label):
        for attempt in range(20):
            try:
                volume.remove(force=True)
                progress(f"removing volume {volume.name}")
                break
            except Exception:  # docker.errors.APIError 409 "in use": the task is going
                if attempt == 19:
                    raise
                time.sleep(0.5)


def _port(objects: Objects, target: Target, endpoint: str) -> int:
    port = objects.router_port()
    if port is None:
        raise EndpointNotFound(f"Target '{target.name}' runs no endpoint '{endpoint}'; "
                               f"promote it with `devkit promote PATH --target "
                               f"{target.name}`.")
    return port
