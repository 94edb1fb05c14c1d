"""The Docker Swarm target: a release applied as services, read back by label.

``apply`` converges in an order that never loses what serves: network and secrets, then
the deployments' services (new ones next to the old, waited on until healthy), then the
router (created once; its config rewritten live), and only after the router serves the
new config are the services it no longer names removed. A failure at any step leaves the
previous release serving; Ctrl-C leaves objects a rerun finds by name and label and
reuses, so running ``promote`` again converges.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from devkit.engines.base import DeploymentState, DeploymentStatus, EndpointStatus, Progress
from devkit.engines.docker.client import DockerClient
from devkit.errors import EndpointNotFound, TargetError
from devkit.promote.plan import Live, Plan, capacity_of, capped, make_plan
from devkit.promote.release import Release
from devkit.promote.swarm import client as sc
from devkit.promote.swarm import router as rt
from devkit.promote.swarm import specs
from devkit.promote.swarm.objects import Objects
from devkit.promote.targets import Target


class SwarmTarget:
    """Promote, status, traffic, logs, keys and down for one swarm target."""

    kind = "swarm"
    runs_devkit_router = True  # its router's counters answer at the scoring URI's origin

    def __init__(self, target: Target, client: DockerClient | None = None) -> None:
        self.target = target
        self.client = client or sc.connect(target)

    def close(self) -> None:
        self.client.close()

    def _objects(self, endpoint: str) -> Objects:
        return Objects(self.client, self.target, endpoint)

    # -- plan ---------------------------------------------------------------------------
    def current(self, endpoint: str) -> Release | None:
        """The release last applied, from the target's stored releases."""
        stored = self._objects(endpoint).releases()
        return stored[0][1] if stored else None

    def live(self, endpoint: str) -> Live:
        objects = self._objects(endpoint)
        keys = bool(objects.secrets("keys") or objects.secrets("token"))
        if objects.router() is None:
            return Live(None, {}, keys)
        config = rt.read_config(self.client, self.target, endpoint)
        if config is None:
            return Live(None, {}, keys)
        deployments = config.get("deployments") or []
        return Live({d["name"]: d["weight"] for d in deployments},
                    {d["name"]: d["mirror"] for d in deployments if d.get("mirror")}, keys)

    def plan(self, wanted: Release, overcommit: bool = False) -> Plan:
        return make_plan(wanted, self.current(wanted.endpoint), self.live(wanted.endpoint),
                         sc.nodes(self.client, self.target), self.target.name, overcommit)

    # -- apply --------------------------------------------------------------------------
    def apply(self, release: Release, progress: Progress, overcommit: bool = False) -> None:
        """Bring the target to ``release`` (images already pushed, by digest)."""
        objects = self._objects(release.endpoint)
        network = objects.ensure_network()
        internal = (objects.ensure_network(internal=True)
                    if any(d.egress_disabled for d in release.deployments) else None)
        secret = objects.ensure_auth_secret(release.auth_mode)
        limits, reserve = self._limits(release, overcommit)
        names: dict[str, str] = {}
        created: list[str] = []
        try:
            for d in release.deployments:
                on = internal if d.egress_disabled and internal else network
                name, fresh = objects.ensure_deployment(d, on, limits[d.name], reserve,
                                                        progress)
                names[d.name] = name
                if fresh:
                    created.append(name)
            objects.wait_healthy(names, release, progress)
        except BaseException:
            self._remove_named(objects, created, progress)
            raise
        self._route(objects, release, names, (network, internal), secret, progress)
        for service in objects.services("deployment"):
            if service.name not in names.values():
                progress(f"removing service {service.name} (no longer routed to)")
                objects.remove_service(service)
        objects.save_release(release)

    def rollback(self, endpoint: str, progress: Progress) -> Release:
        """Apply the release before the current one again."""
        stored = self._objects(endpoint).releases()
        if len(stored) < 2:
            raise TargetError(f"Target '{self.target.name}' has no earlier release of "
                              f"'{endpoint}' to roll back to; promote a fixed spec instead.")
        previous = stored[1][1]
        progress(f"rolling back '{endpoint}' to release {stored[1][0]}")
        self.apply(previous, progress, overcommit=True)
        return previous

    def _limits(self, release: Release, overcommit: bool
                ) -> tuple[dict[str, tuple[float | None, int | None]], bool]:
        capacity = capacity_of(release, sc.nodes(self.client, self.target))
        if capacity.fits or not overcommit:
            return {d.name: (d.cores, d.memory) for d in release.deployments}, True
        return {d.name: capped(d, capacity) for d in release.deployments}, False

    def _remove_named(self, objects: Objects, names: list[str], progress: Progress) -> None:
        for name in names:
            service = objects.service(name)
            if service is not None:
                progress(f"removing service {name} (it did not become healthy)")
                objects.remove_service(service)

    def _route(self, objects: Objects, release: Release, names: dict[str, str],
               networks: tuple[str, str | None], secret: Any, progress: Progress) -> None:
        port = objects.router_port() or objects.free_port()
        wanted = specs.router_service(release, networks[0], port, [secret] if secret else [],
                                      internal=networks[1])
        router = objects.router()
        if router is None:
            progress(f"router: creating service {wanted['name']} on port {port}")
            with sc.translated(self.target, f"create service {wanted['name']}"):
                self.client.raw.services.create(**wanted)
        elif _router_differs(router.attrs, release, secret) or _joins(router.attrs, wanted):
            progress(f"router: updating service {router.name} (image, secrets or networks "
                     "changed; stop-first, a short gap)")
            with sc.translated(self.target, f"update service {router.name}"):
                router.update(**{k: v for k, v in wanted.items() if k != "name"})
        current = rt.read_config(self.client, self.target, release.endpoint) or {}
        keys = self._keys(release) if release.auth_mode == "key" else None
        config = rt.build_config(release, names, keys, int(current.get("generation", 0)) + 1)
        if _same(current, config):
            progress("router: unchanged")
            return
        rt.write_config(self.client, self.target, release.endpoint, config,
                        rt.live_url(self.target, port))
        progress(f"router: serving generation {config['generation']} at "
                 f"{rt.live_url(self.target, port)}/score")

    def _keys(self, release: Release) -> dict[str, str]:
        raw = rt.read_secret(self.client, self.target, release.endpoint, rt.KEYS_FILE)
        keys: dict[str, str] = json.loads(raw)
        return keys

    # -- operate ------------------------------------------------------------------------
    def status(self, endpoint: str | None = None) -> list[EndpointStatus]:
        from devkit.promote.swarm.status import endpoint_names, endpoint_status

        names = [endpoint] if endpoint else endpoint_names(self.client, self.target)
        found = [endpoint_status(self, name) for name in names]
        return [s for s in found if s is not None]

    def set_traffic(self, endpoint: str, traffic: Mapping[str, int],
                    mirror: Mapping[str, int] | None) -> dict[str, Any]:
        from devkit.promote.swarm.status import set_traffic

        return set_traffic(self, endpoint, traffic, mirror)

    def logs(self, endpoint: str, deployment: str | None = None, follow: bool = False,
             tail: int | None = 100) -> Iterator[str]:
        from devkit.promote.swarm.status import logs

        return logs(self, endpoint, deployment, follow, tail)

    def keys(self, endpoint: str) -> dict[str, str]:
        self._require(endpoint)
        return json.loads(rt.read_secret(self.client, self.target, endpoint, rt.KEYS_FILE))

    def token_secret(self, endpoint: str) -> bytes:
        self._require(endpoint)
        return rt.read_secret(self.client, self.target, endpoint, rt.TOKEN_FILE).strip()

    def down(self, endpoint: str, progress: Progress) -> None:
        from devkit.promote.swarm.status import down

        down(self, endpoint, progress)

    def _require(self, endpoint: str) -> None:
        if self._objects(endpoint).router() is None:
            raise EndpointNotFound(
                f"Target '{self.target.name}' runs no endpoint '{endpoint}'; promote it "
                f"with `devkit promote PATH --target {self.target.name}`.")


def _router_differs(attrs: Mapping[str, Any], release: Release, secret: Any) -> bool:
    spec = attrs.get("Spec", {}).get("TaskTemplate", {}).get("ContainerSpec", {})
    image = str(spec.get("Image", ""))
    have = {s.get("SecretID") for s in spec.get("Secrets") or []}
    want = {secret["SecretID"]} if secret else set()
    return image.split("@")[0] != release.router_image.split("@")[0] or have != want


def _joins(attrs: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Whether the router must join a network it is not on (an internal one, the first
    time a deployment of the endpoint disables egress); one it no longer needs is left
    attached: leaving it would restart the router for nothing."""
    template = attrs.get("Spec", {}).get("TaskTemplate", {})
    have = {n.get("Target") for n in template.get("Networks") or []}
    return len(wanted["networks"]) > len(have)


def _same(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    strip = ("generation",)
    return ({k: v for k, v in current.items() if k not in strip} ==
            {k: v for k, v in wanted.items() if k not in strip})


def state_of(running: int, replicas: int) -> DeploymentState:
    if replicas and running >= replicas:
        return DeploymentState.READY
    return DeploymentState.STARTING


__all__ = ["DeploymentStatus", "SwarmTarget", "state_of"]
