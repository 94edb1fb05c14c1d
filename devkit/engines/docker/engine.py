"""The docker engine: each deployment as ``instance_count`` containers on one network per
endpoint, everything labelled so it can be found, compared and removed by label.

The reconcile itself is :meth:`Engine.up`; this class fills in its hooks with
containers. A replica that dies while starting, or never gets ready, is removed and
reported with its last log lines; one whose ``init()`` fails stays up (so hot reload can
fix it) and is reported unhealthy with the runtime's traceback.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import repeat
from typing import Any

import docker.errors
from docker.models.containers import Container

from devkit.engines import launch, routing
from devkit.engines.base import (
    DeploymentStatus,
    EndpointStatus,
    Engine,
    PostMortem,
    Prepared,
    Progress,
    ReplicaStatus,
    RouterHandle,
    RunSettings,
    ScaledReplica,
    no_deployment,
    not_found,
)
from devkit.engines.docker import client as dk
from devkit.engines.docker import containers as ct
from devkit.engines.docker import egress as eg
from devkit.engines.docker import probe as pb
from devkit.engines.docker import reload as rl
from devkit.engines.docker import router as rt
from devkit.engines.docker import scaling
from devkit.engines.docker import status as st
from devkit.engines.docker.client import DockerClient, translated
from devkit.engines.readiness import READY_PATH, ReadinessWait, WaitOutcome
from devkit.engines.record import Running, Wanted
from devkit.engines.settings import ReplicaRun
from devkit.engines.sku import lookup
from devkit.engines.streams import Source, merge
from devkit.errors import EndpointNotFound, EngineError
from devkit.spec.model import DeploymentSpec, Endpoint


class DockerEngine(Engine):
    name = "docker"
    cleaned_note = "its containers were removed"
    # A Linux host reaches a replica's address on the endpoint network, unpublished or not.
    replica_secret = True
    concurrent_starts = True

    def __init__(self, client: DockerClient | None = None) -> None:
        self.client = client or DockerClient.connect()
        # Deployments start at once (concurrent_starts): see _start_indexes.
        self._prepare_lock = threading.Lock()

    # -- hooks of up ------------------------------------------------------------------------
    def _refuse(self, endpoint: Endpoint, options: RunSettings) -> None:
        for d in endpoint.deployments:
            sku = lookup(d.instance_type)
            if options.gpu or (sku is not None and sku.gpus) or (
                    d.resources is not None and d.resources.gpus):
                self.client.require_gpu(f"deployment '{d.name}' ({d.instance_type})")

    def _prepare(self, spec: DeploymentSpec, options: RunSettings,
                 progress: Progress) -> Prepared:
        from devkit.engines.sku import limits_for
        from devkit.images.build import ensure_image  # lazily: the build code is large

        cpus, memory = self.client.host_resources()
        limits = limits_for(spec.instance_type, cpus, memory, force_gpu=options.gpu,
                            resources=spec.resources)
        for note in limits.notes:
            progress(f"{spec.name}: {note}")
        built = ensure_image(self.client.raw, spec, progress=progress)
        for notice in built.notices:
            progress(f"{spec.name}: {notice}")
        return Prepared(built.tag, built.env_hash, limits.gpus > 0)

    def _replica_views(self, endpoint: str) -> dict[str, list[ct.ReplicaView]]:
        grouped = st.group(map(ct.view, self.client.containers(endpoint=endpoint)))
        return grouped.get(endpoint, {})

    def _running(self, name: str) -> list[Running]:
        return [st.running(replicas) for replicas in self._replica_views(name).values()]

    def _remove(self, endpoint: str, deployment: str) -> None:
        self._remove_all(self.client.containers(endpoint=endpoint, deployment=deployment))

    def _start(self, want: Wanted, prepared: Prepared, run: ReplicaRun,
               progress: Progress) -> list[Any]:
        spec = want.spec
        progress(f"{spec.name}: starting {spec.instance_count} replica(s) of "
                 f"{prepared.artifact}")
        return self._start_indexes(want, prepared.artifact, range(spec.instance_count), run,
                                   progress)

    def _start_indexes(self, want: Wanted, image: str, indexes: Iterable[int],
                       run: ReplicaRun, progress: Progress) -> list[Container]:
        """Create and start the replicas numbered ``indexes`` (``up``: all of them;
        autoscaling: one more); all are removed if one fails to start."""
        from devkit.engines.sku import limits_for

        spec = want.spec
        # What the endpoint's replicas share (its network, the replica secret file that is
        # bind-mounted into each) is made under the lock; only create + start overlap.
        with self._prepare_lock:
            network = (eg.ensure_network(self.client, spec.endpoint_name) if eg.disabled(spec)
                       else self._network(spec.endpoint_name))
            cpus, memory = self.client.host_resources()
            limits = limits_for(spec.instance_type, cpus, memory, force_gpu=want.gpu,
                                resources=spec.resources)
            creates = {replica: ct.create_kwargs(want, replica, image, limits, network, run)
                       for replica in indexes}
        started: list[Container] = []
        try:
            for replica, kwargs in creates.items():
                kwargs["networking_config"] = ct.networking_config(self.client.raw, network,
                                                                   spec.name)
                name = ct.container_name(spec.endpoint_name, spec.name, replica)
                container = self.client.create_container(image, name, **kwargs)
                started.append(container)
                self.client.start(container)
            if eg.disabled(spec):
                from devkit.images.base import ensure_base_image

                eg.drop_default_routes(self.client, started,
                                       ensure_base_image(self.client.raw), progress)
        except BaseException:
            self._remove_all(started)
            raise
        return started

    def _wait_ready(self, spec: DeploymentSpec, replica: Any) -> WaitOutcome:
        """Polled inside the container (its ports are not published: see
        :mod:`devkit.engines.docker.probe`)."""
        container: Container = replica
        view = ct.view(container)
        routes = view.routes
        port = routes.readiness_route.port if routes else launch.SERVER_PORT

        def alive() -> str | None:
            if not self.client.reload(container):
                return "the container was removed"
            state = container.attrs.get("State", {})
            if container.status in ("exited", "dead") or state.get("RestartCount", 0) > 0:
                return f"the container exited with code {state.get('ExitCode')}"
            return None

        route = routes.readiness_route.path if routes else None
        wait = ReadinessWait(spec.readiness_probe, route=route)
        return pb.wait_ready(container, port, route or READY_PATH, routes is not None, wait,
                             alive)

    def _discard(self, endpoint: str, deployment: str, replicas: list[Any]) -> None:
        self._remove_all(replicas)

    def _post_mortem(self, replica: Any) -> PostMortem:
        container: Container = replica
        return PostMortem(f"container {container.name} was removed", "its last log lines",
                          self.client.tail(container))

    def _replica_urls(self, endpoint: Endpoint) -> dict[str, list[str]]:
        """By container name on the endpoint network."""
        have = self._replica_views(endpoint.name)
        return {d.name: [f"http://{r.container.name}:{r.serving_port}"
                         for r in have.get(d.name, []) if r.running]
                for d in endpoint.deployments}

    def _ensure_router(self, endpoint: Endpoint, sync: routing.ConfigSync,
                       progress: Progress) -> RouterHandle:
        from devkit.images.router_image import ensure_router_image

        image = ensure_router_image(self.client.raw, progress=progress)
        network = self._network(endpoint.name)
        container, fresh = rt.ensure(self.client, endpoint.name, image, str(sync.path.parent),
                                     network, progress,
                                     starting=lambda: routing.router_starting(endpoint.name),
                                     also_on=eg.existing_networks(self.client, endpoint.name))
        url = rt.host_url(container)
        if url is None:
            raise EngineError(f"The router container {container.name} has no published "
                              f"port; remove it with `devkit down {endpoint.name}` and run "
                              "`devkit up` again.")
        return RouterHandle(url, fresh, lambda: self._router_stopped(container))

    def _router_alive(self, name: str) -> bool:
        router = rt.find(self.client, name)
        return router is not None and router.status == "running"

    def _router_stopped(self, container: Container) -> str | None:
        if not self.client.reload(container):
            return "its container was removed"
        if container.status in ("exited", "dead"):
            logs = self.client.tail(container, 10) or "(no output)"
            return f"its container exited: {logs}"
        return None

    def _network(self, endpoint: str) -> str:
        name = ct.network_name(endpoint)
        self.client.ensure_network(name, ct.endpoint_labels(endpoint))
        return name

    def _remove_all(self, containers: Any) -> None:
        containers = list(containers)
        collecting = [c for c in containers if c.labels.get(ct.COLLECTS) == "1"]
        if collecting:
            # SIGTERM first, all at once: their writers flush what was collected.
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(_stop_quietly, collecting))
        for container in containers:
            self.client.remove_container(container)

    # -- what reload and debug need -------------------------------------------------------
    def env_hash(self, spec: DeploymentSpec) -> str:
        from devkit.images.envhash import environment_hash

        return environment_hash(spec)

    def reload_replica(self, replica: ReplicaStatus) -> dict[str, Any]:
        return rl.reload_in_container(self.client, replica.ident)

    def readiness_answer(self, replica: ReplicaStatus, timeout_s: float = 5.0) -> bytes:
        """Asked inside the container: its port is not published (see :mod:`probe`)."""
        import httpx

        with translated(f"inspect container {replica.ident[:12]}"):
            container = self.client.raw.containers.get(replica.ident)
        answer = pb.exec_probe(container, launch.SERVER_PORT, READY_PATH, timeout_s=timeout_s)
        if answer is None or answer[0] == 0:
            raise httpx.ConnectError(f"replica {replica.index} does not answer "
                                     f"({answer[1] if answer else 'not running'})")
        return answer[1].encode()

    def code_root(self, spec: DeploymentSpec) -> str | None:
        code_dir = launch.container_code_dir(spec)
        return None if code_dir is None else str(code_dir)

    def debug_image(self, spec: DeploymentSpec, running: DeploymentStatus) -> str:
        return running.image

    # -- what local autoscaling needs (devkit.engines.docker.scaling) ---------------------
    def router_url(self, name: str) -> str | None:
        return scaling.router_url(self, name)

    def scaled_replicas(self, name: str, deployment: str) -> list[ScaledReplica]:
        return scaling.scaled_replicas(self, name, deployment)

    def add_replica(self, spec: DeploymentSpec, run: ReplicaRun,
                    progress: Progress) -> ScaledReplica:
        return scaling.add_replica(self, spec, run, progress)

    def remove_replica(self, endpoint: str, deployment: str, index: int) -> None:
        scaling.remove_replica(self, endpoint, deployment, index)

    def host_resources(self) -> tuple[int, int]:
        return self.client.host_resources()

    # -- read back --------------------------------------------------------------------
    def status(self, name: str | None = None) -> list[EndpointStatus]:
        views = map(ct.view, self.client.containers(endpoint=name))
        router_views = list(map(ct.view, self.client.containers(endpoint=name, role=rt.ROLE)))
        routers = {v.endpoint: rt.host_url(v.container) for v in router_views if v.running}
        router_down = {v.endpoint: rt.stopped_reason(v.container) for v in router_views
                       if not v.running}
        found = []
        for endpoint, deployments in sorted(st.group(views).items()):
            live = routing.live_view(endpoint)
            # Each replica is probed by an exec in its container: all deployments at once.
            names = sorted(deployments)
            with ThreadPoolExecutor(max_workers=8) as pool:
                statuses = list(pool.map(st.deployment_status, names,
                                         [deployments[n] for n in names], repeat(live)))
            found.append(dataclasses.replace(
                self._endpoint_status(endpoint, statuses, routers.get(endpoint)),
                router_reason=router_down.get(endpoint)))
        return found

    def names(self) -> list[str]:
        return sorted({ct.view(c).endpoint for c in self.client.containers()})

    # -- down ---------------------------------------------------------------------------
    def down(self, name: str) -> None:
        containers = self.client.containers(endpoint=name)
        networks = self.client.networks(endpoint=name)
        if not containers and not networks:
            raise EndpointNotFound(not_found(name, self.name, self.names()))
        self._remove_all(containers)
        for network in networks:
            self.client.remove_network(network)
        for volume in self.client.volumes(endpoint=name):
            with translated(f"remove volume {volume.name}"):
                volume.remove(force=True)
        routing.forget_router_state(name)

    def down_all(self) -> list[str]:
        names = sorted(set(self.names()) | {
            n.attrs.get("Labels", {}).get(dk.ENDPOINT, "") for n in self.client.networks()})
        for name in names:
            if name:
                self.down(name)
        return [n for n in names if n]

    # -- logs -----------------------------------------------------------------------------
    def logs(self, name: str, deployment: str | None = None, follow: bool = False,
             tail: int | None = 100) -> Iterator[str]:
        views = sorted((ct.view(c) for c in self.client.containers(endpoint=name,
                                                                  deployment=deployment)),
                       key=lambda v: (_source_name(v) == "router", v.deployment, v.replica))
        if not views:
            if deployment is not None and name in self.names():
                raise no_deployment(name, deployment, sorted(self._replica_views(name)))
            raise EndpointNotFound(not_found(name, self.name, self.names()))
        sources: list[Source] = [(_source_name(v), self._log_source(v, follow, tail))
                                 for v in views]
        return merge(sources, follow)

    def _log_source(self, view: ct.ReplicaView, follow: bool, tail: int | None) -> Any:
        def open_stream() -> Any:
            with translated(f"read the logs of {view.container.name}"):
                return view.container.logs(stream=True, follow=follow,
                                           tail="all" if tail is None else tail)
        return open_stream


def _source_name(view: ct.ReplicaView) -> str:
    """``blue-0`` for a replica, ``router`` for the endpoint's router."""
    if view.labels.get(dk.ROLE) == rt.ROLE:
        return "router"
    return f"{view.deployment}-{view.replica}"


def _stop_quietly(container: Container) -> None:
    """Stop with SIGTERM and a grace period; a container already gone is fine."""
    with contextlib.suppress(docker.errors.DockerException):
        container.stop(timeout=10)
