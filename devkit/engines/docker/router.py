"""The endpoint's router as a container on the endpoint's network.

One per endpoint, named ``devkit-<endpoint>-router`` and labelled like everything devkit
makes (``devkit.role=router``). It reaches replicas by container name on the endpoint
network (``http://devkit-<ep>-<dep>-<i>:5001``), reads its config from
``endpoint_state_dir(ep)/router/`` bind-mounted read-write (it writes
``router.applied.json`` there) and is published on 127.0.0.1 only.

A running router whose recipe (image, command, mount, user) is unchanged is left alone,
so its host port and start time stay the same across ``up``s; config changes reach it
through the file, live. A router that must be recreated asks for its previous host port.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import docker.types
from docker.models.containers import Container

from devkit.engines.docker import client as dk
from devkit.engines.docker.client import DockerClient, translated
from devkit.engines.docker.containers import COLLECTS, endpoint_labels, view
from devkit.engines.routing import ROUTER_PORT
from devkit.engines.status import Progress
from devkit.errors import EngineError

ROLE = "router"
RECIPE = "devkit.router-recipe"
CONFIG_MOUNT = "/etc/devkit/router"


def container_name(endpoint: str) -> str:
    return f"devkit-{endpoint}-router"


def command() -> list[str]:
    return ["python", "-m", "devkit_runtime.router", "--config", f"{CONFIG_MOUNT}/router.json",
            "--host", "0.0.0.0", "--port", str(ROUTER_PORT)]


def _user() -> str:
    # The host user, so files the router writes into the bind mount stay removable by
    # whoever runs devkit (and the 0600 token secret stays readable to it alone).
    return f"{os.getuid()}:{os.getgid()}"


def recipe(image: str, config_dir: str, network: str) -> str:
    """A short hash of everything that requires a new container when it changes."""
    parts: list[Any] = [image, command(), config_dir, network, _user()]
    data_dirs = _data_dirs(config_dir)
    if data_dirs:  # only then: routers of endpoints that collect nothing keep their recipe
        parts.append(data_dirs)
    text = json.dumps(parts)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def create_kwargs(endpoint: str, image: str, config_dir: str, network: str,
                  host_port: int | None) -> dict[str, Any]:
    labels = {**endpoint_labels(endpoint), dk.ROLE: ROLE,
              RECIPE: recipe(image, config_dir, network)}
    if _data_dirs(config_dir):
        labels[COLLECTS] = "1"
    return {
        "command": command(),
        "labels": labels,
        "mounts": [docker.types.Mount(CONFIG_MOUNT, config_dir, type="bind",
                                      read_only=False),
                   *(docker.types.Mount(folder, folder, type="bind", read_only=False)
                     for folder in _data_dirs(config_dir))],
        "ports": {f"{ROUTER_PORT}/tcp": ("127.0.0.1", host_port)},
        "network": network,
        "user": _user(),
        # As the replicas': a crash restarts it (with backoff), `docker stop` or
        # `docker kill` from outside leaves it stopped and `status` says so.
        "restart_policy": {"Name": "unless-stopped"},
        "detach": True,
    }


def _data_dirs(config_dir: str) -> list[str]:
    """The folders the router logs request/response payloads to, from its config (written
    before the container is made), so a change of them recreates the container."""
    try:
        raw = json.loads((Path(config_dir) / "router.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return sorted({str(d["data_collection"]["dir"]) for d in raw.get("deployments", ())
                   if d.get("data_collection")})


def find(client: DockerClient, endpoint: str) -> Container | None:
    found = client.containers(endpoint=endpoint, role=ROLE)
    return found[0] if found else None


def host_url(container: Container) -> str | None:
    return view(container).host_url(ROUTER_PORT)


def ensure(client: DockerClient, endpoint: str, image: str, config_dir: str, network: str,
           progress: Progress, starting: Callable[[], None],
           also_on: Sequence[str] = ()) -> tuple[Container, bool]:
    """The endpoint's running router container, and whether this call (re)started it
    (``starting`` is called just before a new one starts). It is published on
    ``network`` and also connected to the networks ``also_on`` names (internal ones,
    where egress-disabled replicas run); those are not part of its recipe: a running
    router is connected to a new one live."""
    current = find(client, endpoint)
    wanted = recipe(image, config_dir, network)
    previous_port: int | None = None
    if current is not None:
        if current.status == "running" and current.labels.get(RECIPE) == wanted:
            connect_networks(client, current, also_on)
            return current, False
        previous_port = _port_of(current)
        progress("router: recreating its container (image or settings changed)")
        client.remove_container(current)
    starting()
    # A fixed host port (the previous one, else a free one now) rather than Docker's
    # random pick at each start: a router restarted by its policy or by a dockerd restart
    # must answer on the scoring URI `up` printed.
    port = previous_port or _free_port()
    return _start(client, endpoint, image, config_dir, network, port, also_on), True


def _start(client: DockerClient, endpoint: str, image: str, config_dir: str, network: str,
           port: int | None, also_on: Sequence[str]) -> Container:
    name = container_name(endpoint)
    try:
        return _create_and_start(client, name, image,
                                 create_kwargs(endpoint, image, config_dir, network, port),
                                 also_on)
    except EngineError:
        if port is None:
            raise
    # The previous host port is taken by now: any free one will do.
    return _create_and_start(client, name, image,
                             create_kwargs(endpoint, image, config_dir, network, None),
                             also_on)


def _create_and_start(client: DockerClient, name: str, image: str,
                      kwargs: dict[str, Any], also_on: Sequence[str]) -> Container:
    container = client.create_container(image, name, **kwargs)
    try:
        # Before it starts: its first request may already go to a replica there.
        connect_networks(client, container, also_on)
        client.start(container)
    except BaseException:
        client.remove_container(container)
        raise
    return container


def connect_networks(client: DockerClient, container: Container,
                     networks: Sequence[str]) -> None:
    """Connect ``container`` to each of ``networks`` it is not on yet."""
    joined = set(container.attrs.get("NetworkSettings", {}).get("Networks") or {})
    for name in networks:
        if name not in joined:
            with translated(f"connect {container.name} to network {name}"):
                client.raw.networks.get(name).connect(container)
    if any(name not in joined for name in networks):
        client.reload(container)


def stopped_reason(container: Container) -> str:
    """Why a router container that exists does not run, and the fix."""
    state = container.attrs.get("State") or {}
    if container.status == "restarting":
        return (f"the router exited with code {state.get('ExitCode')} and is being restarted "
                "by Docker")
    finished = str(state.get("FinishedAt") or "")[:19]
    when = f"{finished}Z" if finished else "an unknown time"
    return (f"the router was stopped from outside (docker stop) at {when} with exit code "
            f"{state.get('ExitCode')}; run `devkit up` to restart it")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_of(container: Container) -> int | None:
    """Its host port: where it is published now, else (stopped: Docker lists no
    bindings then) the port it asked for."""
    url = host_url(container)
    if url:
        return int(url.rsplit(":", 1)[1])
    asked = (container.attrs.get("HostConfig") or {}).get("PortBindings") or {}
    for binding in asked.get(f"{ROUTER_PORT}/tcp") or []:
        if str(binding.get("HostPort") or "").isdigit():
            return int(binding["HostPort"])
    return None
