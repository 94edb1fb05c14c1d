"""The docker engine: each deployment as ``instance_count`` containers on one network per
endpoint, everything labelled so it can be found, compared and removed by label.

``up`` is a reconcile loop in one pass: read what runs, compare spec/env hashes, and
touch only what differs. A replica that dies while starting, or never gets ready, is
removed and reported with its last log lines; one whose ``init()`` fails stays up (so hot
reload can fix it) and is reported unhealthy with the runtime's traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from docker.models.containers import Container

from devkit.engines import launch, routing
from devkit.engines.base import (
    DeploymentState,
    EndpointStatus,
    Engine,
    Progress,
    RunSettings,
    not_found,
)
from devkit.engines.docker import client as dk
from devkit.engines.docker import containers as ct
from devkit.engines.docker import router as rt
from devkit.engines.docker import status as st
from devkit.engines.docker.client import DockerClient, translated
from devkit.engines.readiness import ReadinessWait, WaitOutcome, settle
from devkit.engines.record import (
    EndpointRecord,
    Wanted,
    forget_record,
    make_plan,
    save_record,
)
from devkit.engines.sku import Limits, limits_for, lookup
from devkit.engines.streams import Source, merge
from devkit.errors import DevkitError, EndpointNotFound, EngineError, ReadinessTimeout
from devkit.spec import spec_hash
from devkit.spec.model import DeploymentSpec, Endpoint


class DockerEngine(Engine):
    name = "docker"

    def __init__(self, client: DockerClient | None = None) -> None:
        self.client = client or DockerClient.connect()

    # -- up ---------------------------------------------------------------------------
    def up(self, endpoint: Endpoint, options: RunSettings, progress: Progress) -> EndpointStatus:
        try:
            self._reconcile(endpoint, options, progress)
        except DevkitError:
            # A running router follows what is left running; a failed first `up` creates
            # nothing more. Either way the first error is the news.
            if rt.find(self.client, endpoint.name) is not None:
                with contextlib.suppress(DevkitError):
                    self._route(endpoint, progress)
            raise
        self._route(endpoint, progress)
        save_record(endpoint.name, EndpointRecord.of(endpoint))
        return self.status(endpoint.name)[0]

    def _reconcile(self, endpoint: Endpoint, options: RunSettings, progress: Progress) -> None:
        """Bring the deployments' containers to the spec (the router comes after)."""
        self._check_gpus(endpoint, options)
        limits = {d.name: self._limits(d, options, progress) for d in endpoint.deployments}
        images = {d.name: self._image(d, progress) for d in endpoint.deployments}
        wanted = [Wanted(d, spec_hash(d), images[d.name][1], limits[d.name].gpus > 0)
                  for d in endpoint.deployments]
        current = st.group(map(ct.view, self.client.containers(endpoint=endpoint.name)))
        have = current.get(endpoint.name, {})
        plan = make_plan(wanted, [st.running(reps) for reps in have.values()])
        record = EndpointRecord.of(endpoint)
        for name in plan.keep:
            progress(f"{name}: unchanged, left running")
        for name in plan.remove + plan.restart:
            progress(f"{name}: {'removing' if name in plan.remove else 'restarting'}")
            self._remove_all(c.container for c in have[name])
        to_start = [w for w in wanted if w.spec.name in plan.start + plan.restart]
        if to_start:
            network = self._network(endpoint.name)
            started = {w.spec.name: self._start(w, images[w.spec.name][0], record,
                                                 limits[w.spec.name], network, progress)
                       for w in to_start}
            self._await_ready(started, {w.spec.name: w.spec for w in to_start}, progress)

    def _route(self, endpoint: Endpoint, progress: Progress) -> None:
        """Point the router at the running replicas (by container name on the endpoint
        network) and make sure it runs and serves that config."""
        from devkit.images.router_image import ensure_router_image
        from devkit.router import router_dir

        replicas = st.group(map(ct.view, self.client.containers(endpoint=endpoint.name)))
        have = replicas.get(endpoint.name, {})
        urls = {d.name: [f"http://{r.container.name}:{r.serving_port}"
                         for r in have.get(d.name, []) if r.running]
                for d in endpoint.deployments}
        sync = routing.sync_config(endpoint, urls, progress)
        image = ensure_router_image(self.client.raw, progress=progress)
        network = self._network(endpoint.name)
        container, fresh = rt.ensure(self.client, endpoint.name, image,
                                     str(router_dir(endpoint.name)), network, progress)
        url = rt.host_url(container)
        if url is None:
            raise EngineError(f"The router container {container.name} has no published "
                              f"port; remove it with `devkit down {endpoint.name}` and run "
                              "`devkit up` again.")
        if fresh or sync.changed:
            routing.await_router(url, sync.generation, lambda: self._router_stopped(container))
        state = "started" if fresh else ("updated live" if sync.changed else "unchanged")
        progress(f"router: {state} at {url}/score (config generation {sync.generation})")

    def _router_stopped(self, container: Container) -> str | None:
        if not self.client.reload(container):
            return "its container was removed"
        if container.status in ("exited", "dead"):
            logs = self.client.tail(container, 10) or "(no output)"
            return f"its container exited: {logs}"
        return None

    def _check_gpus(self, endpoint: Endpoint, options: RunSettings) -> None:
        for d in endpoint.deployments:
            sku = lookup(d.instance_type)
            if options.gpu or (sku is not None and sku.gpus):
                self.client.require_gpu(f"deployment '{d.name}' ({d.instance_type})")

    def _limits(self, d: DeploymentSpec, options: RunSettings, progress: Progress) -> Limits:
        cpus, memory = self.client.host_resources()
        limits = limits_for(d.instance_type, cpus, memory, force_gpu=options.gpu)
        for note in limits.notes:
            progress(f"{d.name}: {note}")
        return limits

    def _image(self, d: DeploymentSpec, progress: Progress) -> tuple[str, str]:
        """(tag, environment hash) of the deployment's image, built if missing."""
        from devkit.images.build import ensure_image  # lazily: the build code is large

        built = ensure_image(self.client.raw, d, progress=progress)
        for notice in built.notices:
            progress(f"{d.name}: {notice}")
        return built.tag, built.env_hash

    def _network(self, endpoint: str) -> str:
        name = ct.network_name(endpoint)
        self.client.ensure_network(name, ct.endpoint_labels(endpoint))
        return name

    def _start(self, want: Wanted, image: str, record: EndpointRecord, limits: Limits,
               network: str, progress: Progress) -> list[Container]:
        spec = want.spec
        progress(f"{spec.name}: starting {spec.instance_count} replica(s) of {image}")
        started: list[Container] = []
        try:
            for replica in range(spec.instance_count):
                kwargs = ct.create_kwargs(want, replica, image, record, limits, network)
                kwargs["networking_config"] = ct.networking_config(self.client.raw, network,
                                                                   spec.name)
                name = ct.container_name(spec.endpoint_name, spec.name, replica)
                container = self.client.create_container(image, name, **kwargs)
                started.append(container)
                self.client.start(container)
        except BaseException:
            self._remove_all(started)
            raise
        return started

    def _await_ready(self, started: dict[str, list[Container]],
                     specs: dict[str, DeploymentSpec], progress: Progress) -> None:
        """Wait for every new replica at once. Dead or never-ready replicas take their
        whole deployment down with them; unhealthy ones (init() failed) stay."""
        jobs = [(name, c) for name, cs in started.items() for c in cs]
        failed = settle(jobs, lambda job: self._wait_one(specs[job[0]], job[1]),
                        lambda name, c, outcome: self._failure(name, c, outcome, specs[name]),
                        progress)
        for name in started:
            if name in failed:
                self._remove_all(started[name])
                progress(f"{name}: failed, its containers were removed")
            else:
                progress(f"{name}: up")
        if failed:
            raise next(iter(failed.values()))

    def _wait_one(self, spec: DeploymentSpec, container: Container) -> WaitOutcome:
        view = ct.view(container)
        routes = view.routes
        port = routes.readiness_route.port if routes else launch.SERVER_PORT
        url = view.host_url(port)
        if url is None:
            return WaitOutcome(DeploymentState.STOPPED, f"no published port for {port}")

        def alive() -> str | None:
            if not self.client.reload(container):
                return "the container was removed"
            state = container.attrs.get("State", {})
            if container.status in ("exited", "dead") or state.get("RestartCount", 0) > 0:
                return f"the container exited with code {state.get('ExitCode')}"
            return None

        route = routes.readiness_route.path if routes else None
        return ReadinessWait(spec.readiness_probe, route=route).wait(url, alive)

    def _failure(self, name: str, container: Container, outcome: WaitOutcome,
                 spec: DeploymentSpec) -> DevkitError:
        logs = self.client.tail(container) or "(no output)"
        fix = (f"container {container.name} was removed; fix the cause shown in its last "
               f"log lines and run `devkit up` again:\n{logs}")
        if outcome.state is DeploymentState.STARTING:
            budget = ReadinessWait(spec.readiness_probe).budget
            last = f", {outcome.error}" if outcome.error else ""
            return ReadinessTimeout(
                f"Deployment '{name}' did not become ready within {budget:g} s "
                f"(readiness_probe of {spec.source}{last}); {fix}")
        return EngineError(f"Deployment '{name}' stopped while starting "
                           f"({outcome.error}); {fix}")

    def _remove_all(self, containers: Any) -> None:
        for container in list(containers):
            self.client.remove_container(container)

    # -- read back --------------------------------------------------------------------
    def status(self, name: str | None = None) -> list[EndpointStatus]:
        views = map(ct.view, self.client.containers(endpoint=name))
        routers = {v.endpoint: rt.host_url(v.container)
                   for v in map(ct.view, self.client.containers(endpoint=name, role=rt.ROLE))
                   if v.running}
        grouped = st.group(views)
        return [st.endpoint_status(ep, deps, routers.get(ep))
                for ep, deps in sorted(grouped.items())]

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
        forget_record(name)
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
            if deployment is not None and self.status(name):
                raise EndpointNotFound(f"Endpoint '{name}' has no deployment '{deployment}'; "
                                       "list its deployments with `devkit status`.")
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
