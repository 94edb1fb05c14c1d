"""Endpoints, deployments and assets as ``az ml`` prints them (its JSON field names).

Scripts read these with ``--query`` (``scoring_uri``, ``openapi_uri``,
``provisioning_state``, ``traffic``, ``primaryKey``...), so the names and the shapes
follow az's output of ``online-endpoint show``, ``online-deployment show`` and ``model|
environment show``; devkit's own facts go under ``properties``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from devkit.assets import AssetRecord
from devkit.engines.base import DeploymentState, DeploymentStatus, EndpointStatus
from devkit.spec.model import DeploymentSpec, Endpoint, ProbeSettings

SCORE = "/score"


def provisioning_state(status: EndpointStatus | DeploymentStatus | None) -> str:
    """az's ``provisioning_state``: Succeeded when everything is ready (or nothing has to
    be), Updating while something starts, Failed otherwise."""
    if status is None:
        return "Succeeded"
    states = ([d.state for d in status.deployments] if isinstance(status, EndpointStatus)
              else [status.state])
    if all(state is DeploymentState.READY for state in states):
        return "Succeeded"
    if any(s in (DeploymentState.BUILDING, DeploymentState.STARTING) for s in states):
        return "Updating"
    return "Failed"


def endpoint_view(spec: Endpoint, status: EndpointStatus | None) -> dict[str, Any]:
    """``online-endpoint show``; ``status`` None while no deployment runs."""
    uri = status.scoring_uri if status is not None else None
    if status is not None:
        traffic = {d.name: d.traffic for d in status.deployments}
        mirror = {d.name: d.mirror for d in status.deployments if d.mirror}
    else:
        traffic, mirror = dict(spec.spec.traffic), dict(spec.spec.mirror_traffic)
    return {
        "name": spec.name,
        "auth_mode": spec.spec.auth_mode.value,
        "scoring_uri": uri,
        "openapi_uri": uri[: -len(SCORE)] + "/swagger.json" if uri and uri.endswith(SCORE)
        else None,
        "provisioning_state": provisioning_state(status),
        "traffic": traffic,
        "mirror_traffic": mirror,
        "description": spec.spec.description,
        "tags": dict(spec.spec.tags),
        "public_network_access": spec.spec.public_network_access,
        "kind": "K8s" if spec.spec.compute else "Managed",
        "compute": spec.spec.compute,
        "location": "local",
        "id": f"devkit:/onlineEndpoints/{spec.name}",
        "identity": {"type": "none"},
        "properties": {"engine": status.engine if status is not None else None,
                       "deployments": [d.name for d in spec.deployments]},
    }


def deployment_view(spec: DeploymentSpec, status: DeploymentStatus | None) -> dict[str, Any]:
    """``online-deployment show``."""
    code = spec.code_configuration
    view: dict[str, Any] = {
        "name": spec.name,
        "endpoint_name": spec.endpoint_name,
        "type": spec.type.value,
        "instance_type": spec.instance_type,
        "instance_count": spec.instance_count,
        "provisioning_state": provisioning_state(status) if status is not None else "Failed",
        "model": _model(spec),
        "environment": _environment(spec),
        "code_configuration": None if code is None else {
            "code": str(code.code), "scoring_script": code.scoring_script},
        "environment_variables": dict(spec.environment_variables),
        "request_settings": dataclasses.asdict(spec.request_settings),
        "liveness_probe": _probe(spec.liveness_probe),
        "readiness_probe": _probe(spec.readiness_probe),
        "scale_settings": _scale(spec),
        "app_insights_enabled": spec.app_insights_enabled,
        "egress_public_network_access": spec.egress_public_network_access,
        "description": spec.description,
        "tags": dict(spec.tags),
        "properties": {"state": status.state.value if status else "stopped",
                       "replicas": status.replicas if status else 0,
                       "image": status.image if status else None,
                       "error": status.error if status else None,
                       "source": str(spec.source)},
    }
    if spec.resources is not None:
        view["resources"] = {
            "requests": _amounts(spec.resources.requests),
            "limits": _amounts(spec.resources.limits)}
    return view


def _model(spec: DeploymentSpec) -> dict[str, Any] | None:
    model = spec.model
    if model is None:
        return None
    return {"name": model.name, "version": model.version, "path": str(model.path),
            "type": model.type}


def _environment(spec: DeploymentSpec) -> str | dict[str, Any]:
    env = spec.environment
    if env.name and env.version:
        return f"azureml:{env.name}:{env.version}"
    found: dict[str, Any] = {"image": env.image}
    if env.conda_file is not None:
        found["conda_file"] = str(env.conda_file)
    if env.build is not None:
        found["build"] = {"path": str(env.build.path),
                          "dockerfile_path": env.build.dockerfile_path}
    return found


def _probe(probe: ProbeSettings) -> dict[str, Any]:
    return dataclasses.asdict(probe)


def _scale(spec: DeploymentSpec) -> dict[str, Any]:
    settings = spec.scale_settings
    if settings.type == "default":
        return {"type": "default"}
    return dataclasses.asdict(settings)


def _amounts(amounts: Any) -> dict[str, Any]:
    found = {"cpu": amounts.cpu, "memory": amounts.memory, "nvidia.com/gpu": amounts.gpus}
    return {key: value for key, value in found.items() if value is not None}


def asset_view(record: AssetRecord) -> dict[str, Any]:
    """``model show`` / ``environment show``."""
    view: dict[str, Any] = {
        "name": record.name,
        "version": record.version,
        "description": record.description,
        "tags": record.tags,
        "id": f"azureml:{record.name}:{record.version}",
        "creation_context": {"created_at": record.created, "created_by": "devkit"},
        "properties": {"registered_from": record.origin, "content_hash": record.content_hash},
    }
    if record.kind == "model":
        view["path"] = record.data["path"]
        view["type"] = record.data.get("type", "custom_model")
    else:
        view.update(record.data["spec"])
    return view
