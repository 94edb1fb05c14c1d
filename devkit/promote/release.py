"""A release: everything a target needs to run an endpoint, with images by digest.

:func:`build_release` turns a loaded :class:`~devkit.spec.model.Endpoint` into a
:class:`Release` for one target: each deployment's release image (its environment image
plus a model layer and a code layer, :mod:`devkit.images.release_image`) tagged in the
target's registry, the router image, and the settings a target turns into its own objects
(replicas, SKU size, probes, environment, request settings, traffic, mirror). Nothing in it
is secret: keys and token secrets are the target's business.

:func:`push_release` pushes every image and returns the release with ``repo:tag@digest``
references and how many bytes went over the wire; :func:`resolve_release` asks the
registry for digests of tags it already has (what ``--plan`` shows without pushing).

A release is plain data (``to_json``/``from_json``), so a target can store the one it
applied and roll back to the previous one without the spec files.

Usage by a target (Swarm, Kubernetes)::

    release = build_release(docker_client, endpoint, target, progress)
    release, report = push_release(docker_client, release, progress)
    for deployment in release.deployments:
        deployment.image      # "127.0.0.1:5000/devkit/regression-blue:1a2b...@sha256:..."
        deployment.replicas, deployment.cores, deployment.memory, deployment.probe
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from devkit.engines import launch
from devkit.engines.base import Progress
from devkit.engines.docker.client import DockerClient
from devkit.engines.sku import GIB, lookup
from devkit.promote.targets import Target
from devkit.spec import spec_hash
from devkit.spec.model import DeploymentSpec, Endpoint

MANIFEST_VERSION = 1


@dataclass(frozen=True)
class Probe:
    """A probe's settings in seconds, as the spec has them."""

    initial_delay: int = 10
    period: int = 10
    timeout: int = 2
    failure_threshold: int = 30
    success_threshold: int = 1


@dataclass(frozen=True)
class DeploymentRelease:
    """One deployment as a target runs it."""

    name: str
    image: str  # repo:tag, or repo:tag@sha256:... once pushed
    replicas: int
    instance_type: str
    cores: float | None  # per replica, the SKU's (None: unknown SKU, no limit)
    memory: int | None  # bytes per replica
    env: Mapping[str, str]
    port: int = launch.SERVER_PORT
    readiness_path: str = "/-/ready"
    liveness_path: str = "/-/live"
    probe: Probe = field(default_factory=Probe)
    liveness: Probe = field(default_factory=Probe)
    scoring_path: str = "/score"
    request_timeout_ms: int = 5000
    max_concurrent_requests_per_instance: int = 1
    byoc: bool = False
    spec_hash: str = ""  # of the spec fields, instance_count left out
    # scale_settings type target_utilization: {"min_instances", "max_instances",
    # "target_utilization"}; None keeps `replicas` fixed. Kubernetes renders it as an HPA.
    autoscale: Mapping[str, int] | None = None
    # egress_public_network_access: disabled (Swarm: an internal overlay network;
    # Kubernetes: a NetworkPolicy denying egress)
    egress_disabled: bool = False

    @property
    def tag(self) -> str:
        """The image without its digest (the content-hash tag names the content)."""
        return self.image.split("@", 1)[0]

    @property
    def digest(self) -> str | None:
        return self.image.split("@", 1)[1] if "@" in self.image else None

    @property
    def fingerprint(self) -> str:
        """12 hex of everything that needs new replicas when it changes: all but the
        replica count (which scales in place) and the digest (the tag names the content)."""
        payload = dataclasses.asdict(self)
        payload.pop("replicas")
        if not self.egress_disabled:  # so releases made before the field keep their names
            payload.pop("egress_disabled")
        payload["image"] = self.tag
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Release:
    endpoint: str
    auth_mode: str
    traffic: Mapping[str, int]
    mirror: Mapping[str, int]
    deployments: tuple[DeploymentRelease, ...]
    router_image: str

    def deployment(self, name: str) -> DeploymentRelease | None:
        return next((d for d in self.deployments if d.name == name), None)

    def images(self) -> list[str]:
        return [*(d.image for d in self.deployments), self.router_image]

    def to_json(self) -> dict[str, Any]:
        return {"version": MANIFEST_VERSION, **dataclasses.asdict(self)}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Release:
        deployments = tuple(
            DeploymentRelease(**{**d, "probe": Probe(**d["probe"]),
                                 "liveness": Probe(**d["liveness"])})
            for d in raw["deployments"])
        return cls(endpoint=raw["endpoint"], auth_mode=raw["auth_mode"],
                   traffic=dict(raw["traffic"]), mirror=dict(raw["mirror"]),
                   deployments=deployments, router_image=raw["router_image"])


@dataclass
class PushReport:
    """Bytes and layers uploaded by one :func:`push_release`."""

    bytes_pushed: int = 0
    layers_pushed: int = 0
    layers_present: int = 0


def repository(target: Target, endpoint: str, deployment: str) -> str:
    return f"{target.registry}/devkit/{endpoint}-{deployment}"


def build_release(client: DockerClient, endpoint: Endpoint, target: Target,
                  progress: Progress) -> Release:
    """Build (or find) every image of the release locally; nothing is pushed yet."""
    from devkit.images.build import ensure_image
    from devkit.images.release_image import ensure_release_image
    from devkit.images.router_image import ensure_router_image

    deployments = []
    for spec in endpoint.deployments:
        env = ensure_image(client.raw, spec, progress=progress)
        tag = ensure_release_image(client.raw, env.tag,
                                   repository(target, endpoint.name, spec.name),
                                   _layers(spec), _labels(endpoint.name, spec.name), progress,
                                   base_hash=None if spec.environment.is_byoc else env.env_hash)
        deployments.append(deployment_release(spec, tag))
    router = ensure_router_image(client.raw, progress=progress)
    router_tag = f"{target.registry}/devkit/router:{router.split(':', 1)[1]}"
    client.raw.images.get(router).tag(router_tag)
    traffic = dict(endpoint.spec.traffic)
    if not traffic and len(endpoint.deployments) == 1:
        traffic = {endpoint.deployments[0].name: 100}
    return Release(endpoint.name, endpoint.spec.auth_mode.value, traffic,
                   dict(endpoint.spec.mirror_traffic), tuple(deployments), router_tag)


def push_release(client: DockerClient, release: Release,
                 progress: Progress) -> tuple[Release, PushReport]:
    """Push every image; the release with each image as ``repo:tag@digest``."""
    from devkit.images.release_image import push_image

    report = PushReport()
    pushed: dict[str, str] = {}
    for image in dict.fromkeys(i.split("@", 1)[0] for i in release.images()):
        result = push_image(client.raw, image, progress)
        pushed[image] = result.reference
        report.bytes_pushed += result.bytes_pushed
        report.layers_pushed += result.layers_pushed
        report.layers_present += result.layers_present
    return _with_images(release, pushed), report


def resolve_release(client: DockerClient, release: Release) -> Release:
    """The release with digests for the tags the registry already holds."""
    from devkit.images.release_image import registry_digest

    found = {}
    for image in dict.fromkeys(i.split("@", 1)[0] for i in release.images()):
        digest = registry_digest(client.raw, image)
        if digest:
            found[image] = f"{image}@{digest}"
    return _with_images(release, found)


def deployment_release(spec: DeploymentSpec, image: str) -> DeploymentRelease:
    sku = lookup(spec.instance_type)
    routes = spec.environment.inference_config
    env = {**launch.server_env(spec, launch.container_paths(spec), host="0.0.0.0",
                               port=launch.SERVER_PORT, admin_port=launch.ADMIN_PORT),
           "DEVKIT_WATCH": "0"}  # no hot reload in a cluster: the code is in the image
    if routes is not None:
        env = launch.azure_env(spec, launch.container_paths(spec))
    return DeploymentRelease(
        name=spec.name, image=image, replicas=spec.instance_count,
        instance_type=spec.instance_type,
        cores=float(sku.cores) if sku else None,
        memory=int(sku.memory_gib * GIB) if sku else None,
        env=env,
        port=routes.readiness_route.port if routes else launch.SERVER_PORT,
        readiness_path=routes.readiness_route.path if routes else "/-/ready",
        liveness_path=routes.liveness_route.path if routes else "/-/live",
        probe=Probe(**dataclasses.asdict(spec.readiness_probe)),
        liveness=Probe(**dataclasses.asdict(spec.liveness_probe)),
        scoring_path=routes.scoring_route.path if routes else "/score",
        request_timeout_ms=spec.request_settings.request_timeout_ms,
        max_concurrent_requests_per_instance=(
            spec.request_settings.max_concurrent_requests_per_instance),
        byoc=routes is not None,
        spec_hash=spec_hash(dataclasses.replace(spec, instance_count=1))[:16],
        autoscale=_autoscale(spec),
        egress_disabled=spec.egress_public_network_access == "disabled",
    )


def _autoscale(spec: DeploymentSpec) -> dict[str, int] | None:
    scale = spec.scale_settings
    if scale.type != "target_utilization":
        return None
    return {"min_instances": scale.min_instances, "max_instances": scale.max_instances,
            "target_utilization": scale.target_utilization_percentage}


def _layers(spec: DeploymentSpec) -> list[Any]:
    """Model first, code last: the code changes most often, so it is the top layer."""
    from devkit.images.release_image import Layer

    layers = []
    model_target = launch.container_model_target(spec)
    if spec.model is not None and model_target is not None:
        where = model_target if spec.model.path.is_dir() else model_target.parent
        layers.append(Layer(spec.model.path, where))
    code_dir = launch.container_code_dir(spec)
    if spec.code_configuration is not None and code_dir is not None:
        layers.append(Layer(spec.code_configuration.code, code_dir))
    return layers


def _labels(endpoint: str, deployment: str) -> dict[str, str]:
    return {"devkit.managed": "1", "devkit.endpoint": endpoint,
            "devkit.deployment": deployment, "devkit.role": "release-image"}


def _with_images(release: Release, images: Mapping[str, str]) -> Release:
    deployments = tuple(dataclasses.replace(d, image=images.get(d.tag, d.image))
                        for d in release.deployments)
    router = release.router_image.split("@", 1)[0]
    return dataclasses.replace(release, deployments=deployments,
                               router_image=images.get(router, release.router_image))
