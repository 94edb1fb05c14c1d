"""The router's config file, built from an :class:`~devkit.spec.model.Endpoint`.

Engines call :func:`write_router_config` when they bring an endpoint up (and again when
replicas change); ``devkit traffic`` and ``devkit keys`` rewrite the same file through
:mod:`devkit.router.control`. The one location is
``endpoint_state_dir(NAME)/router/router.json``: the folder is bind-mounted into the
router's container, so every write is atomic (temp file + rename in that folder), and each
write bumps ``generation`` so the host can tell when the router has applied it.

The JSON format is defined and validated by ``devkit_runtime.router.config``; this module
checks what it writes with the same parser, so a bad config never reaches the router.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from devkit_runtime.router.config import (
    CONFIG_VERSION,
    READY_PATH,
    ConfigError,
    RouterConfig,
    load_config,
    parse_config,
)

from devkit import collection
from devkit.errors import EndpointNotFound, RouterError
from devkit.router import keys, tokens
from devkit.router.files import read_json, router_config_path, write_json
from devkit.router.shadow_settings import shadow_section
from devkit.spec.model import AuthMode, DeploymentSpec, Endpoint


def write_router_config(endpoint: Endpoint, replica_urls: Mapping[str, Sequence[str]],
                        state_dir: Path | None = None, *,
                        traffic: Mapping[str, int] | None = None,
                        mirror: Mapping[str, int] | None = None) -> Path:
    """Write the router config for ``endpoint`` and return its path.

    ``replica_urls`` maps deployment name to the base URLs the router can reach its
    replicas at (a deployment without any answers 503). ``state_dir`` is the endpoint's
    state folder (default ``endpoint_state_dir(name)``). Weights come from the spec unless
    ``traffic``/``mirror`` are given; with no weights at all and a single deployment, that
    deployment takes all traffic, as ``up`` promises for a one-deployment endpoint.
    """
    path = router_config_path(endpoint.name, state_dir)
    payload = build_router_config(endpoint, replica_urls, state_dir,
                                  traffic=traffic, mirror=mirror)
    payload["generation"] = next_generation(path)
    save(path, payload)
    return path


def build_router_config(endpoint: Endpoint, replica_urls: Mapping[str, Sequence[str]],
                        state_dir: Path | None = None, *,
                        traffic: Mapping[str, int] | None = None,
                        mirror: Mapping[str, int] | None = None) -> dict[str, Any]:
    weights = dict(endpoint.spec.traffic if traffic is None else traffic)
    if not weights and len(endpoint.deployments) == 1:
        weights = {endpoint.deployments[0].name: 100}
    mirrors = dict(endpoint.spec.mirror_traffic if mirror is None else mirror)
    collection.remember(endpoint.name, endpoint.deployments)
    payload = {
        "version": CONFIG_VERSION,
        "generation": 0,
        "endpoint": endpoint.name,
        "auth": _auth_section(endpoint, state_dir),
        "deployments": [_deployment(d, replica_urls.get(d.name, ()), weights, mirrors)
                        for d in endpoint.deployments],
    }
    shadow = shadow_section(endpoint.spec)
    if shadow:  # only then: other endpoints' configs stay byte for byte what they were
        payload["shadow"] = shadow
    return payload


def _deployment(spec: DeploymentSpec, urls: Sequence[str], weights: Mapping[str, int],
                mirrors: Mapping[str, int]) -> dict[str, Any]:
    settings = spec.request_settings
    entry: dict[str, Any] = {
        "name": spec.name,
        "replicas": list(urls),
        "weight": weights.get(spec.name, 0),
        "mirror": mirrors.get(spec.name, 0),
        "request_timeout_ms": settings.request_timeout_ms,
        "max_concurrent_requests_per_instance": settings.max_concurrent_requests_per_instance,
        # Autoscaled: the replicas that run now (the 429 threshold follows them).
        "instance_count": max(1, len(urls)) if spec.scale_settings.scaled
        else spec.instance_count,
        "readiness": _readiness(spec),
    }
    collecting = collection.router_entry(spec)
    if collecting is not None:  # request/response payload logging (only then: see below)
        entry["data_collection"] = collecting
    byoc = spec.environment.inference_config
    if byoc is not None:
        # A bring-your-own-container image takes scoring calls on its own route. Only such
        # entries carry the key (the router's default is /score), so other endpoints'
        # configs stay byte for byte what they were and an unchanged `up` touches nothing.
        entry["scoring_path"] = byoc.scoring_route.path
    return entry


def _readiness(spec: DeploymentSpec) -> dict[str, Any]:
    """How the router health-checks the replicas: the deployment's ``readiness_probe``
    on the runtime's readiness route, or a BYOC image's own route and port."""
    probe = spec.readiness_probe
    entry: dict[str, Any] = {"path": READY_PATH, "port": None, "period_s": probe.period,
                             "timeout_s": probe.timeout,
                             "failure_threshold": probe.failure_threshold,
                             "success_threshold": probe.success_threshold}
    byoc = spec.environment.inference_config
    if byoc is not None:
        ready = byoc.readiness_route
        entry["path"] = ready.path
        if ready.port != byoc.scoring_route.port:
            entry["port"] = ready.port
    return entry


def _auth_section(endpoint: Endpoint, state_dir: Path | None) -> dict[str, Any]:
    mode = endpoint.spec.auth_mode
    if mode is AuthMode.KEY:
        found = keys.load_or_create_keys(endpoint.name, state_dir)
        return {"mode": "key", "key_sha256": keys.key_hashes(found)}
    if mode is AuthMode.AML_TOKEN:
        tokens.load_or_create_secret(endpoint.name, state_dir)
        return {"mode": "aml_token", "token_secret_file": tokens.SECRET_FILE}
    raise RouterError(f"Endpoint '{endpoint.name}' ({endpoint.spec.source}) uses auth_mode "
                      f"aad_token, which needs Microsoft Entra ID and is not available "
                      f"locally; use auth_mode key or aml_token for local runs.")


def read_router_config(endpoint: str, state: Path | None = None) -> dict[str, Any]:
    """The config as last written; EndpointNotFound when the endpoint never had a router."""
    path = router_config_path(endpoint, state)
    try:
        raw: dict[str, Any] = read_json(path)
    except FileNotFoundError as exc:
        raise EndpointNotFound(f"Endpoint '{endpoint}' has no router config at {path}; start "
                               f"it with `devkit up PATH` or check the name with "
                               f"`devkit status`.") from exc
    except (OSError, ValueError) as exc:
        raise RouterError(f"The router config {path} is unreadable ({exc}); run `devkit up` "
                          f"again to rewrite it.") from exc
    return raw


def load_router_config(endpoint: str, state: Path | None = None) -> RouterConfig:
    """The config as last written, parsed by the router's own parser (the one place the
    file's meaning is read): EndpointNotFound when the endpoint never had a router."""
    path = router_config_path(endpoint, state)
    if not path.exists():
        read_router_config(endpoint, state)  # raises the EndpointNotFound sentence
    try:
        return load_config(path)
    except ConfigError as exc:
        raise RouterError(f"{exc}; run `devkit up` again to rewrite it.") from exc


def next_generation(path: Path) -> int:
    try:
        return int(read_json(path).get("generation", 0)) + 1
    except (OSError, ValueError, AttributeError):
        return 1


def save(path: Path, payload: dict[str, Any]) -> None:
    """Validate with the router's own parser, then write atomically."""
    try:
        parse_config(payload, base=path.parent)
    except (KeyError, TypeError, ValueError, OSError) as exc:
        raise RouterError(f"Refusing to write an invalid router config to {path}: {exc}; "
                          f"this is a devkit bug, please report it.") from exc
    write_json(path, payload)
