"""Endpoint folders for the Kubernetes tests, written as real YAML and loaded by the loader
(imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from devkit.promote.kubernetes.settings import ReleaseImages
from devkit.spec.loader import load
from devkit.spec.model import Endpoint

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "regression"


def deployment_yaml(name: str, endpoint: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "endpoint_name": endpoint,
            "model": {"name": "diabetes-regression", "version": 1,
                      "path": str(SAMPLE / "model-1" / "model")},
            "code_configuration": {"code": str(SAMPLE), "scoring_script": "score.py"},
            "environment": {"image": "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04",
                            "conda_file": str(SAMPLE / "environment" / "conda.yml")},
            "instance_type": "Standard_DS3_v2", "instance_count": 1, **extra}


def write_endpoint(folder: Path, name: str, traffic: Mapping[str, int],
                   mirror: Mapping[str, int] | None = None,
                   deployments: Mapping[str, Mapping[str, Any]] | None = None,
                   **endpoint_extra: Any) -> Endpoint:
    """An endpoint folder with one YAML per deployment (default: one per traffic entry)."""
    folder.mkdir(parents=True, exist_ok=True)
    spec: dict[str, Any] = {"name": name, "auth_mode": "key", "traffic": dict(traffic),
                            **endpoint_extra}
    if mirror:
        spec["mirror_traffic"] = dict(mirror)
    (folder / "endpoint.yml").write_text(yaml.safe_dump(spec))
    for deployment, extra in (deployments or {key: {} for key in traffic}).items():
        (folder / f"{deployment}.yml").write_text(
            yaml.safe_dump(deployment_yaml(deployment, name, **extra)))
    return load([folder])


def images(endpoint: Endpoint, tag: str = "a") -> ReleaseImages:
    digest = (tag * 64)[:64]
    return ReleaseImages({d.name: f"127.0.0.1:5000/devkit/{endpoint.name}-{d.name}"
                                  f"@sha256:{digest}" for d in endpoint.deployments})


def scaled_endpoint(tmp_path: Path) -> Endpoint:
    """Everything the regression sample does not use: autoscaling, a GPU SKU, several
    instances, concurrency, a bring-your-own-container image, tokens, a mirror."""
    deployments: dict[str, dict[str, Any]] = {
        "cpu": {"instance_count": 3, "request_settings": {
            "request_timeout_ms": 20000, "max_concurrent_requests_per_instance": 4},
            "environment_variables": {"WORKER_COUNT": "1", "MODEL_FLAVOUR": "ridge"}},
        "gpu": {"instance_type": "Standard_NC6s_v3", "scale_settings": {
            "type": "target_utilization", "min_instances": 2, "max_instances": 5,
            "target_utilization_percentage": 60},
            "liveness_probe": {"initial_delay": 30, "period": 5, "failure_threshold": 6}},
        "byoc": {"environment": {
            "image": "127.0.0.1:5000/team/own-server:1",
            "inference_config": {"liveness_route": {"port": 8080, "path": "/health"},
                                 "readiness_route": {"port": 8080, "path": "/ready"},
                                 "scoring_route": {"port": 8080, "path": "/predict"}}}},
    }
    return write_endpoint(tmp_path / "scaled", "scaled", {"cpu": 80, "gpu": 20, "byoc": 0},
                          {"byoc": 10}, deployments, auth_mode="aml_token")
