"""Turning a deployment into a debuggable one and back, through the engine's own ``up``.

A debug session is the deployment's spec with a few changes — one replica, debugpy on a
port (``DEVKIT_DEBUG_PORT``; for Docker also published on a loopback host port), request
timeouts lifted so a paused breakpoint is not answered 408/500 (``request_timeout_ms``,
which feeds the router and ``SCORING_TIMEOUT_MS``) — brought up with
:meth:`Engine.up`. The engine sees a changed spec hash and restarts that deployment only;
``--off`` brings the recorded spec back the same way. No engine needs a debug mode.
"""

from __future__ import annotations

import dataclasses
import socket
import time

import httpx

from devkit.debug.target import CONTAINER_DEBUG_PORT, DebugTarget
from devkit.engines import launch
from devkit.engines.base import EndpointStatus, Engine, Progress, RunSettings
from devkit.errors import DebugError, EndpointNotFound
from devkit.spec.model import DeploymentSpec, Endpoint

DEBUG_TIMEOUT_MS = 24 * 3600 * 1000  # a day: "lifted", while still a valid setting


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def debug_spec(endpoint: Endpoint, deployment: str, engine: str, port: int) -> Endpoint:
    """``endpoint`` with ``deployment`` set up for a debugger on host port ``port``."""
    spec = _deployment(endpoint, deployment)
    if spec.environment.inference_config is not None:
        raise DebugError(f"Deployment '{deployment}' ({spec.source}) brings its own container "
                         "server, so devkit cannot start debugpy in it; make the image's server "
                         "call debugpy.listen() itself, or debug its score.py with devkit's "
                         "server by giving the deployment a code_configuration and an image "
                         "without inference_config.")
    inside = port if engine == "process" else CONTAINER_DEBUG_PORT
    env = {**spec.environment_variables, "DEVKIT_DEBUG_PORT": str(inside),
           "SCORING_TIMEOUT_MS": str(DEBUG_TIMEOUT_MS)}
    if engine != "process":
        env["DEVKIT_DEBUG_HOST_PORT"] = str(port)
    changed = dataclasses.replace(
        spec, instance_count=1, environment_variables=env,
        request_settings=dataclasses.replace(spec.request_settings,
                                             request_timeout_ms=DEBUG_TIMEOUT_MS))
    return _with(endpoint, changed)


def start(engine: Engine, endpoint: Endpoint, deployment: str, progress: Progress,
          port: int | None = None) -> DebugTarget:
    """Restart ``deployment`` under debugpy and return where to attach."""
    port = port or free_port()
    progress(f"{deployment}: restarting with debugpy on 127.0.0.1:{port}")
    status = engine.up(debug_spec(endpoint, deployment, engine.name, port), RunSettings(),
                       progress)
    return target_of(endpoint, deployment, status, port)


def stop(engine: Engine, endpoint: Endpoint, deployment: str, progress: Progress) -> None:
    """Bring the deployment back to its spec (debugger off, replicas and timeouts back)."""
    _deployment(endpoint, deployment)
    progress(f"{deployment}: restarting without the debugger")
    engine.up(endpoint, RunSettings(), progress)


def target_of(endpoint: Endpoint, deployment: str, status: EndpointStatus,
              port: int) -> DebugTarget:
    spec = _deployment(endpoint, deployment)
    running = status.deployment(deployment)
    if running is None or not running.urls:
        raise DebugError(f"Deployment '{deployment}' did not come back after the restart "
                         f"under debugpy; see `devkit logs {endpoint.name} -d {deployment}`.")
    code = spec.code_configuration
    if code is None:
        raise DebugError(f"Deployment '{deployment}' ({spec.source}) has no "
                         "code_configuration, so there is no score.py to debug.")
    local = str(code.code)
    in_container = str(launch.container_code_dir(spec))
    remote = local if status.engine == "process" else in_container
    image = running.image if status.engine == "docker" else _image_of(spec)
    return DebugTarget(endpoint.name, deployment, status.engine, port, local, remote,
                       image=image, container_root=in_container, replica_url=running.urls[0],
                       mounts=_mounts(spec), env=_env(spec))


def wait_for_client(target: DebugTarget, timeout_s: float | None = None,
                    interval_s: float = 0.2) -> None:
    """Block until a debugger is attached (the replica's ``/-/ready`` says so)."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while deadline is None or time.monotonic() < deadline:
        try:
            body = httpx.get(f"{target.replica_url}/-/ready", timeout=5).json()
            if (body.get("debugger") or {}).get("attached"):
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(interval_s)
    raise DebugError(f"No debugger attached to {target.host}:{target.port} within "
                     f"{timeout_s:g} s; attach from VS Code or a DAP client and try again.")


def _deployment(endpoint: Endpoint, name: str) -> DeploymentSpec:
    try:
        return endpoint.deployment(name)
    except KeyError:
        names = ", ".join(d.name for d in endpoint.deployments)
        raise EndpointNotFound(f"Endpoint '{endpoint.name}' has no deployment '{name}' "
                               f"(deployments: {names}); pick one of those.") from None


def _with(endpoint: Endpoint, changed: DeploymentSpec) -> Endpoint:
    return dataclasses.replace(endpoint, deployments=tuple(
        changed if d.name == changed.name else d for d in endpoint.deployments))


def _mounts(spec: DeploymentSpec) -> tuple[str, ...]:
    """The model mount for the dev container (the code is its workspace)."""
    target = launch.container_model_target(spec)
    if spec.model is None or target is None:
        return ()
    return (f"source={spec.model.path},target={target},type=bind,readonly",)


def _image_of(spec: DeploymentSpec) -> str:
    """The image the docker engine runs this deployment as (built by `devkit up
    --engine docker`); a BYOC image as named."""
    if spec.environment.is_byoc and spec.environment.image:
        return spec.environment.image
    from devkit.images.build import ENV_REPOSITORY
    from devkit.images.envhash import environment_hash

    return f"{ENV_REPOSITORY}:{environment_hash(spec)[:16]}"


def _env(spec: DeploymentSpec) -> dict[str, str]:
    """The server's environment inside the dev container, debugger on."""
    env = launch.server_env(spec, launch.container_paths(spec), host="0.0.0.0",
                            port=launch.SERVER_PORT, admin_port=launch.ADMIN_PORT)
    env["DEVKIT_DEBUG_PORT"] = str(CONTAINER_DEBUG_PORT)
    env["SCORING_TIMEOUT_MS"] = str(DEBUG_TIMEOUT_MS)
    return env
