"""Typed, validated endpoint and deployment specs (Azure ML CLI v2 YAML, docs/contract.md §4).

These objects are pure data: immutable, built once by :mod:`devkit.spec.loader` at the
boundary and passed down to engines, the router and the UI. Paths are absolute, already
resolved relative to the YAML file that named them. Every object remembers where it came
from (``source``) so later layers can still point the user at the right file and line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import Any

from devkit.spec.recipe import Recipe


def _empty() -> Mapping[str, Any]:
    # A read-only mapping as default; dataclasses refuse an unhashable default value, so it
    # comes from a factory.
    return MappingProxyType({})



@dataclass(frozen=True)
class Source:
    """Where a spec object was written: a YAML file and the line of its first key."""

    file: Path
    line: int = 1
    # How messages name a spec that no file holds (an endpoint made with ``-n NAME``);
    # ``file`` is then the folder it was made in.
    label: str | None = None

    def __str__(self) -> str:
        return self.label if self.label is not None else f"{self.file}:{self.line}"


class AuthMode(str, Enum):
    KEY = "key"
    AML_TOKEN = "aml_token"
    AAD_TOKEN = "aad_token"


@dataclass(frozen=True)
class EndpointSpec:
    name: str
    source: Source
    auth_mode: AuthMode = AuthMode.KEY
    # Live weights, integers summing to 0 or 100, naming existing deployments only.
    traffic: Mapping[str, int] = field(default_factory=_empty)
    # At most one deployment, <= 50, whose own live weight is 0.
    mirror_traffic: Mapping[str, int] = field(default_factory=_empty)
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=_empty)
    public_network_access: str = "enabled"
    # A Kubernetes endpoint's compute (``azureml:NAME``), kept for promote; unused locally.
    compute: str | None = None


@dataclass(frozen=True)
class ModelSpec:
    """A local model folder (or file). ``name``/``version`` shape the in-container path."""

    path: Path
    name: str = "model"
    version: str = "1"
    # custom_model | mlflow_model | triton_model: an mlflow_model needs no score.py.
    type: str = "custom_model"


@dataclass(frozen=True)
class CodeSpec:
    code: Path  # the code root (AML_APP_ROOT)
    scoring_script: str  # relative to ``code`` (AZUREML_ENTRY_SCRIPT)

    @property
    def script_path(self) -> Path:
        return self.code / self.scoring_script


@dataclass(frozen=True)
class BuildSpec:
    path: Path  # the Docker build context
    dockerfile_path: str = "Dockerfile"  # relative to ``path``


@dataclass(frozen=True)
class Route:
    port: int
    path: str


@dataclass(frozen=True)
class InferenceConfig:
    """Routes of a bring-your-own-container image that serves its own HTTP API."""

    liveness_route: Route
    readiness_route: Route
    scoring_route: Route


@dataclass(frozen=True)
class EnvironmentSpec:
    """One of: ``image`` (+ optional ``conda_file``), ``build``, or a BYOC ``image`` with
    ``inference_config``."""

    image: str | None = None
    conda_file: Path | None = None
    build: BuildSpec | None = None
    inference_config: InferenceConfig | None = None
    name: str | None = None
    version: str | None = None

    @property
    def is_byoc(self) -> bool:
        return self.inference_config is not None


@dataclass(frozen=True)
class RequestSettings:
    request_timeout_ms: int = 5000
    max_concurrent_requests_per_instance: int = 1
    max_queue_wait_ms: int = 500


@dataclass(frozen=True)
class ProbeSettings:
    """Seconds, as in the Azure ML schema."""

    initial_delay: int = 10
    period: int = 10
    timeout: int = 2
    success_threshold: int = 1
    failure_threshold: int = 30


@dataclass(frozen=True)
class ScaleSettings:
    type: str = "default"  # "default" | "target_utilization"
    min_instances: int = 1
    max_instances: int = 1
    target_utilization_percentage: int = 70
    polling_interval: int = 1

    @property
    def scaled(self) -> bool:
        """Whether the replica count is the autoscaler's (``devkit.autoscale``)."""
        return self.type == "target_utilization"

    @property
    def floor(self) -> int:
        """The fewest replicas run locally: ``min_instances``, but never 0 (a local
        endpoint with no replica answers 503; devkit does not scale to zero)."""
        return max(1, self.min_instances)

    def starting_count(self, instance_count: int) -> int:
        """How many replicas ``up`` starts: ``instance_count`` kept within min..max."""
        return min(max(instance_count, self.floor), max(self.max_instances, self.floor))


@dataclass(frozen=True)
class ResourceAmounts:
    """CPU (cores), memory (bytes) and NVIDIA GPUs of a Kubernetes requests/limits block;
    None where the spec names no amount."""

    cpu: float | None = None
    memory: int | None = None
    gpus: int | None = None


@dataclass(frozen=True)
class Resources:
    """``resources`` of a Kubernetes deployment. Locally a replica gets ``limits`` (or,
    where a limit is not given, the request) as its CPU/memory limits."""

    requests: ResourceAmounts = field(default_factory=ResourceAmounts)
    limits: ResourceAmounts = field(default_factory=ResourceAmounts)

    @property
    def cpu_limit(self) -> float | None:
        return self.limits.cpu if self.limits.cpu is not None else self.requests.cpu

    @property
    def memory_limit(self) -> int | None:
        return self.limits.memory if self.limits.memory is not None else self.requests.memory

    @property
    def gpus(self) -> int:
        return self.limits.gpus or self.requests.gpus or 0


class DeploymentType(str, Enum):
    MANAGED = "managed"
    KUBERNETES = "kubernetes"


# What a Kubernetes deployment without ``instance_type`` runs as: Azure creates this
# instance type on every attached cluster (limits 2 CPU, 2 GiB; requests 100m, 2 GiB).
DEFAULT_INSTANCE_TYPE = "defaultinstancetype"
DEFAULT_INSTANCE_RESOURCES = Resources(requests=ResourceAmounts(0.1, 2 * 1024**3),
                                       limits=ResourceAmounts(2.0, 2 * 1024**3))


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    endpoint_name: str
    source: Source
    environment: EnvironmentSpec
    instance_type: str
    model: ModelSpec | None = None
    code_configuration: CodeSpec | None = None
    instance_count: int = 1
    environment_variables: Mapping[str, str] = field(default_factory=_empty)
    request_settings: RequestSettings = field(default_factory=RequestSettings)
    liveness_probe: ProbeSettings = field(default_factory=ProbeSettings)
    readiness_probe: ProbeSettings = field(default_factory=ProbeSettings)
    scale_settings: ScaleSettings = field(default_factory=ScaleSettings)
    data_collector: Mapping[str, object] | None = None
    egress_public_network_access: str = "enabled"
    app_insights_enabled: bool = False
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=_empty)
    # Where the model appears in the container, when the spec overrides Azure's default
    # (/var/azureml-app/azureml-models/<name>/<version>).
    model_mount_path: str | None = None
    type: DeploymentType = DeploymentType.MANAGED
    # Kubernetes only: the replica's resources, which win over the instance type's size.
    resources: Resources | None = None


@dataclass(frozen=True)
class Endpoint:
    """One endpoint and its deployments: what a folder of YAML files describes."""

    spec: EndpointSpec
    deployments: tuple[DeploymentSpec, ...]
    # How it was assembled (files, overrides, -e name), so it can be rebuilt later.
    recipe: Recipe | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def deployment(self, name: str) -> DeploymentSpec:
        for deployment in self.deployments:
            if deployment.name == name:
                return deployment
        raise KeyError(name)
