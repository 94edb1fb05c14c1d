"""What the renderer needs to know about an endpoint, and nothing else.

:class:`EndpointRelease` holds one endpoint as it runs on a cluster: per deployment a
:class:`Workload` (image, size, replicas or autoscaling, environment, probes, request
settings) and the endpoint's auth mode, traffic and mirror. It is built from the loaded spec
and the release images (:func:`from_spec`), and can as well be built from the promote
machinery's release (which carries the same facts), so rendering never depends on where the
facts came from.

The environment is the runtime's, as the local engines give it
(:func:`devkit.engines.launch.server_env`, the user's ``environment_variables`` last), minus
what only makes sense on a laptop (hot reload, the admin port). A bring-your-own-container
image gets Azure's variables only (:func:`devkit.engines.byoc.container_env`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from devkit.engines import byoc, launch
from devkit.promote.kubernetes.settings import ReleaseImages
from devkit.spec.model import DeploymentSpec, Endpoint, ProbeSettings, Route

# Environment the local engines set that has no meaning in a cluster.
LOCAL_ONLY = ("DEVKIT_ADMIN_PORT", "DEVKIT_WATCH")
SCORE_PATH = "/score"


@dataclass(frozen=True)
class Autoscale:
    min_instances: int
    max_instances: int
    target_utilization: int  # percent of the requested CPU


@dataclass(frozen=True)
class Workload:
    endpoint: str
    name: str
    image: str
    instance_type: str
    replicas: int
    env: Mapping[str, str]
    liveness_route: Route
    readiness_route: Route
    liveness: ProbeSettings
    readiness: ProbeSettings
    scoring_port: int = launch.SERVER_PORT
    scoring_path: str = SCORE_PATH
    request_timeout_ms: int = 5000
    max_concurrent_requests_per_instance: int = 1
    byoc: bool = False
    autoscale: Autoscale | None = None
    source: str = ""  # where it was written, for messages ("blue.yml:1")
    # Per replica, instead of the SKU's size: what ``promote --overcommit`` caps it to.
    cores: float | None = None
    memory_bytes: int | None = None
    egress_disabled: bool = False  # a NetworkPolicy denies its pods all egress

    @property
    def least_replicas(self) -> int:
        return self.autoscale.min_instances if self.autoscale else self.replicas


@dataclass(frozen=True)
class EndpointRelease:
    name: str
    auth_mode: str  # key | aml_token | aad_token
    traffic: Mapping[str, int]
    mirror: Mapping[str, int]
    workloads: tuple[Workload, ...]
    source: str = ""


def from_spec(endpoint: Endpoint, images: ReleaseImages) -> EndpointRelease:
    workloads = tuple(workload(spec, images.image(spec.name)) for spec in endpoint.deployments)
    return EndpointRelease(endpoint.name, endpoint.spec.auth_mode.value,
                           dict(endpoint.spec.traffic), dict(endpoint.spec.mirror_traffic),
                           workloads, str(endpoint.spec.source))


def workload(spec: DeploymentSpec, image: str) -> Workload:
    routes = byoc.routes_of(spec)
    scale = spec.scale_settings
    autoscale = Autoscale(scale.min_instances, scale.max_instances,
                          scale.target_utilization_percentage) \
        if scale.type == "target_utilization" else None
    return Workload(
        endpoint=spec.endpoint_name, name=spec.name, image=image,
        instance_type=spec.instance_type, replicas=spec.instance_count, env=_env(spec),
        liveness_route=routes.liveness_route if routes else Route(launch.SERVER_PORT,
                                                                  "/-/live"),
        readiness_route=routes.readiness_route if routes else Route(launch.SERVER_PORT,
                                                                    "/-/ready"),
        liveness=spec.liveness_probe, readiness=spec.readiness_probe,
        scoring_port=routes.scoring_route.port if routes else launch.SERVER_PORT,
        scoring_path=routes.scoring_route.path if routes else SCORE_PATH,
        request_timeout_ms=spec.request_settings.request_timeout_ms,
        max_concurrent_requests_per_instance=(
            spec.request_settings.max_concurrent_requests_per_instance),
        byoc=routes is not None, autoscale=autoscale, source=str(spec.source),
        egress_disabled=spec.egress_public_network_access == "disabled")


def _env(spec: DeploymentSpec) -> dict[str, str]:
    if byoc.routes_of(spec) is not None:
        return byoc.container_env(spec)
    env = launch.server_env(spec, launch.container_paths(spec), host="0.0.0.0",
                            port=launch.SERVER_PORT, admin_port=launch.ADMIN_PORT)
    return {key: value for key, value in env.items()
            if key not in LOCAL_ONLY or key in spec.environment_variables}
