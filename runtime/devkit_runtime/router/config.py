"""The router's config file: what the host writes and the router applies.

The host side (``devkit.router.config``) writes ``router.json`` atomically into a folder that
is bind-mounted into the router's container (or read directly by a host process). This
module parses and validates that JSON into immutable objects; it never writes. A config
that fails validation is rejected as a whole, so a bad write can never half-apply.

Format (``version`` 1)::

    {"version": 1, "generation": 3, "endpoint": "my-endpoint",
     "auth": {"mode": "key", "key_sha256": ["<hex>", "<hex>"]}
           | {"mode": "aml_token", "token_secret_file": "token.secret"}
           | {"mode": "none"},
     "mirror_max_in_flight": 64,
     "deployments": [{"name": "blue", "replicas": ["http://127.0.0.1:5001"],
                      "weight": 90, "mirror": 0, "request_timeout_ms": 5000,
                      "max_concurrent_requests_per_instance": 1, "instance_count": 1,
                      "scoring_path": "/score"}]}

``draining`` (optional, default ``[]``) lists replica URLs, each also in ``replicas``, that
get no new requests while their requests in flight finish (local autoscaling drains a
replica this way before it is removed, so scaling in loses no request).

``scoring_path`` (optional, default ``/score``) is where the replica takes scoring calls: a
bring-your-own-container image serves its own route (``inference_config.scoring_route``),
so the endpoint's ``/score`` is forwarded there, query string kept.

``shadow`` (optional) tunes the shadow diff of mirrored requests
(:mod:`devkit_runtime.router.shadow`): ``{"compare": true, "atol": 1e-9, "rtol": 1e-6,
"ignore": ["$.generated_at"], "log_dir": "shadow"}``. Numbers agree when
``|live - shadow| <= atol + rtol * |live|``; ``ignore`` lists JSON paths that never count
(array indices may be written ``[*]``); ``log_dir`` (relative to the config's folder, or
absolute) receives each disagreement as a JSON line; ``compare: false`` mirrors without
comparing. The host fills it from the endpoint's ``devkit.shadow.*`` tags.

``readiness`` (optional) is how the router's health checks probe each replica
(:mod:`devkit_runtime.router.health`), from the deployment's ``readiness_probe``:
``{"path": "/-/ready", "port": null, "period_s": 10, "timeout_s": 2,
"failure_threshold": 30, "success_threshold": 1}``; ``port`` null means the replica's
scoring port (a bring-your-own-container image may answer readiness on another one).

``token_secret_file`` is relative to the config's folder so the same file works on the
host and inside a container that mounts the folder elsewhere. So is ``replica_secret_file``
(optional; the process engine sets it): its content goes to every replica in the
``x-devkit-replica-secret`` header (:mod:`devkit_runtime.replica_secret`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from devkit_runtime.collection.settings import CollectionSettings
from devkit_runtime.errors import ConfigError  # the file is missing or invalid
from devkit_runtime.router.diff import Tolerance

CONFIG_VERSION = 1
SCORE_PATH = "/score"
AUTH_MODES = ("key", "aml_token", "none")


@dataclass(frozen=True)
class Replica:
    """One upstream server: a base URL split into what the HTTP client needs."""

    url: str
    host: str
    port: int

    @classmethod
    def parse(cls, url: str) -> Replica:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"replica URL {url!r} must look like http://HOST:PORT")
        return cls(url=url.rstrip("/"), host=parts.hostname, port=parts.port or 80)


READY_PATH = "/-/ready"


@dataclass(frozen=True)
class ReadinessSettings:
    """How the router probes a deployment's replicas (Azure's ``readiness_probe``)."""

    path: str = READY_PATH
    port: int | None = None  # None: the replica's scoring port
    period_s: float = 10.0
    timeout_s: float = 2.0
    failure_threshold: int = 30
    success_threshold: int = 1


@dataclass(frozen=True)
class DeploymentRoute:
    """Everything the router needs to know about one deployment."""

    name: str
    replicas: tuple[Replica, ...]
    weight: int = 0
    mirror: int = 0
    request_timeout_ms: int = 5000
    max_concurrent_requests_per_instance: int = 1
    instance_count: int = 1
    scoring_path: str = SCORE_PATH
    # request/response payload logging (devkit_runtime.collection); None: off
    data_collection: CollectionSettings | None = None
    readiness: ReadinessSettings = ReadinessSettings()
    draining: frozenset[str] = frozenset()  # replica URLs that get no new requests

    @property
    def active(self) -> tuple[Replica, ...]:
        """The replicas new requests may go to (all but the draining ones)."""
        return tuple(r for r in self.replicas if r.url not in self.draining)

    @property
    def max_in_flight(self) -> int:
        """The managed front end's 429 threshold (docs/contract.md §3)."""
        return 2 * self.max_concurrent_requests_per_instance * self.instance_count


@dataclass(frozen=True)
class AuthConfig:
    mode: str = "none"
    key_sha256: tuple[str, ...] = ()
    token_secret: bytes = b""


@dataclass(frozen=True)
class ShadowSettings:
    """The config's ``shadow`` section: tolerance, whether to compare, where to log."""

    tolerance: Tolerance = Tolerance()
    compare: bool = True
    log_dir: Path | None = None


@dataclass(frozen=True)
class RouterConfig:
    endpoint: str
    generation: int
    auth: AuthConfig
    deployments: tuple[DeploymentRoute, ...]
    mirror_max_in_flight: int = 64
    shadow: ShadowSettings = ShadowSettings()
    replica_secret: bytes | None = None  # sent to replicas; never described or logged

    def deployment(self, name: str) -> DeploymentRoute | None:
        for deployment in self.deployments:
            if deployment.name == name:
                return deployment
        return None

    @property
    def names(self) -> list[str]:
        return [deployment.name for deployment in self.deployments]

    def describe(self) -> dict[str, Any]:
        """The config as ``GET /-/config`` shows it: everything but secrets."""
        return {
            "endpoint": self.endpoint,
            "generation": self.generation,
            "auth_mode": self.auth.mode,
            "deployments": [
                {"name": d.name, "replicas": [r.url for r in d.replicas], "weight": d.weight,
                 "mirror": d.mirror, "request_timeout_ms": d.request_timeout_ms,
                 "max_in_flight": d.max_in_flight, "scoring_path": d.scoring_path,
                 "draining": sorted(d.draining)}
                for d in self.deployments
            ],
        }


def load_config(path: Path) -> RouterConfig:
    """Read and validate ``path``; raise :class:`ConfigError` naming what is wrong."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"router config {path} does not exist") from exc
    except (OSError, ValueError) as exc:
        raise ConfigError(f"router config {path} cannot be read as JSON: {exc}") from exc
    try:
        return parse_config(raw, base=path.parent)
    except (KeyError, TypeError, ValueError, OSError) as exc:
        raise ConfigError(f"router config {path} is invalid: {_reason(exc)}") from exc


def parse_config(raw: dict[str, Any], base: Path) -> RouterConfig:
    if raw.get("version") != CONFIG_VERSION:
        raise ValueError(f"'version' must be {CONFIG_VERSION}, got {raw.get('version')!r}")
    deployments = tuple(_parse_deployment(item) for item in raw["deployments"])
    names = [d.name for d in deployments]
    if len(set(names)) != len(names):
        raise ValueError(f"deployment names repeat: {names}")
    total = sum(d.weight for d in deployments)
    if total not in (0, 100):
        raise ValueError(f"weights must sum to 0 or 100, got {total}")
    mirrors = [d for d in deployments if d.mirror]
    if len(mirrors) > 1 or any(d.mirror > 50 or d.weight for d in mirrors):
        raise ValueError("mirror traffic goes to at most one deployment, <= 50, weight 0")
    return RouterConfig(
        endpoint=str(raw["endpoint"]),
        generation=int(raw["generation"]),
        auth=_parse_auth(raw.get("auth", {"mode": "none"}), base),
        deployments=deployments,
        mirror_max_in_flight=int(raw.get("mirror_max_in_flight", 64)),
        shadow=_parse_shadow(raw.get("shadow", {}), base),
        replica_secret=_replica_secret(raw.get("replica_secret_file"), base),
    )


def _replica_secret(name: Any, base: Path) -> bytes | None:
    if not name:
        return None
    secret = (base / str(name)).read_bytes().strip()
    if not secret:
        raise ValueError("the replica secret file is empty")
    return secret


def _parse_shadow(raw: dict[str, Any], base: Path) -> ShadowSettings:
    unknown = set(raw) - {"compare", "atol", "rtol", "ignore", "log_dir"}
    if unknown:
        raise ValueError(f"'shadow' has unknown fields {sorted(unknown)}")
    tolerance = Tolerance(atol=float(raw.get("atol", Tolerance.atol)),
                          rtol=float(raw.get("rtol", Tolerance.rtol)),
                          ignore=tuple(str(p) for p in raw.get("ignore", ())))
    if tolerance.atol < 0 or tolerance.rtol < 0:
        raise ValueError("'shadow' atol and rtol must be >= 0")
    log_dir = raw.get("log_dir")
    return ShadowSettings(tolerance=tolerance, compare=bool(raw.get("compare", True)),
                          log_dir=base / str(log_dir) if log_dir else None)


def _parse_deployment(item: dict[str, Any]) -> DeploymentRoute:
    route = DeploymentRoute(
        name=str(item["name"]),
        replicas=tuple(Replica.parse(url) for url in item["replicas"]),
        weight=int(item.get("weight", 0)),
        mirror=int(item.get("mirror", 0)),
        request_timeout_ms=int(item.get("request_timeout_ms", 5000)),
        max_concurrent_requests_per_instance=int(
            item.get("max_concurrent_requests_per_instance", 1)),
        instance_count=int(item.get("instance_count", 1)),
        scoring_path=str(item.get("scoring_path", SCORE_PATH)),
        data_collection=(CollectionSettings.parse(item["data_collection"])
                         if item.get("data_collection") else None),
        readiness=_parse_readiness(item.get("readiness") or {}),
        draining=frozenset(str(url).rstrip("/") for url in item.get("draining", ())),
    )
    stray = route.draining - {r.url for r in route.replicas}
    if stray:
        raise ValueError(f"deployment {route.name!r}: draining replicas {sorted(stray)} are "
                         "not among its replicas")
    if route.weight < 0 or route.mirror < 0 or route.request_timeout_ms <= 0:
        raise ValueError(f"deployment {route.name!r}: weight, mirror >= 0 and timeout > 0")
    path = route.scoring_path
    if not path.startswith("/") or any(c in path for c in "?# \r\n"):
        raise ValueError(f"deployment {route.name!r}: scoring_path {path!r} must be a path "
                         "starting with '/', without query or whitespace")
    return route


def _parse_readiness(raw: dict[str, Any]) -> ReadinessSettings:
    port = raw.get("port")
    settings = ReadinessSettings(
        path=str(raw.get("path", READY_PATH)),
        port=None if port is None else int(port),
        period_s=float(raw.get("period_s", 10.0)),
        timeout_s=float(raw.get("timeout_s", 2.0)),
        failure_threshold=int(raw.get("failure_threshold", 30)),
        success_threshold=int(raw.get("success_threshold", 1)),
    )
    if settings.period_s <= 0 or settings.timeout_s <= 0 or \
            settings.failure_threshold < 1 or settings.success_threshold < 1:
        raise ValueError(f"'readiness' {raw}: period and timeout must be > 0, thresholds >= 1")
    if not settings.path.startswith("/"):
        raise ValueError(f"'readiness' path {settings.path!r} must start with '/'")
    return settings


def _parse_auth(raw: dict[str, Any], base: Path) -> AuthConfig:
    mode = raw.get("mode", "none")
    if mode not in AUTH_MODES:
        raise ValueError(f"auth mode {mode!r} is not one of {AUTH_MODES}")
    if mode == "key":
        hashes = tuple(str(h).lower() for h in raw["key_sha256"])
        if not hashes:
            raise ValueError("auth mode 'key' needs at least one entry in 'key_sha256'")
        return AuthConfig(mode=mode, key_sha256=hashes)
    if mode == "aml_token":
        secret = (base / raw["token_secret_file"]).read_bytes().strip()
        if not secret:
            raise ValueError("the token secret file is empty")
        return AuthConfig(mode=mode, token_secret=secret)
    return AuthConfig()


def _reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return str(exc)
