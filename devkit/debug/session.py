"""Turning a deployment into a debuggable one and back, through the engine's own ``up``.

A debug session is :class:`~devkit.engines.settings.RunSettings` with a
:class:`~devkit.engines.settings.DebugSettings`: the engine runs that deployment with one
replica, debugpy on a loopback port and request timeouts lifted (so a paused breakpoint
is not answered 408/500), and, because the settings are part of the hash it compares,
restarts that deployment only. ``--off`` brings the recorded settings back the same way.
"""

from __future__ import annotations

import dataclasses
import time

import httpx

from devkit.debug.target import DebugTarget
from devkit.engines import launch
from devkit.engines.base import EndpointStatus, Engine, Progress
from devkit.engines.settings import DEBUG_TIMEOUT_MS, DebugSettings, RunSettings
from devkit.errors import DebugError, EndpointNotFound
from devkit.ports import free_port
from devkit.spec.model import DeploymentSpec, Endpoint


def debug_settings(endpoint: Endpoint, deployment: str, port: int,
                   base: RunSettings | None = None) -> RunSettings:
    """``base`` (default: plain) with ``deployment`` under debugpy on host port ``port``;
    DebugError for a deployment that brings its own server."""
    spec = _deployment(endpoint, deployment)
    if spec.environment.inference_config is not None:
        raise DebugError(f"Deployment '{deployment}' ({spec.source}) brings its own container "
                         "server, so devkit cannot start debugpy in it; make the image's server "
                         "call debugpy.listen() itself, or debug its score.py with devkit's "
                         "server by giving the deployment a code_configuration and an image "
                         "without inference_config.")
    return dataclasses.replace(base or RunSettings(), debug=DebugSettings(deployment, port))


def start(engine: Engine, endpoint: Endpoint, deployment: str, progress: Progress,
          port: int | None = None, base: RunSettings | None = None) -> DebugTarget:
    """Restart ``deployment`` under debugpy and return where to attach."""
    port = port or free_port()
    settings = debug_settings(endpoint, deployment, port, base)
    progress(f"{deployment}: restarting with debugpy on 127.0.0.1:{port}")
    status = engine.up(endpoint, settings, progress)
    return target_of(engine, endpoint, deployment, status, port)


def stop(engine: Engine, endpoint: Endpoint, deployment: str, progress: Progress,
         base: RunSettings | None = None) -> None:
    """Bring the deployment back to its spec (debugger off, replicas and timeouts back)."""
    _deployment(endpoint, deployment)
    progress(f"{deployment}: restarting without the debugger")
    engine.up(endpoint, base or RunSettings(), progress)


def target_of(engine: Engine, endpoint: Endpoint, deployment: str, status: EndpointStatus,
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
    return DebugTarget(endpoint.name, deployment, status.engine, port, local,
                       engine.code_root(spec) or local, image=engine.debug_image(spec, running),
                       container_root=str(launch.container_code_dir(spec)),
                       replica_url=running.urls[0], mounts=_mounts(spec), env=_env(spec))


def wait_for_client(target: DebugTarget, timeout_s: float | None = None,
                    interval_s: float = 0.2) -> None:
    """Block until a debugger is attached (the replica's ``/-/ready`` says so)."""
    from devkit_runtime.wire import READY_PATH, Readiness  # see engines.readiness

    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while deadline is None or time.monotonic() < deadline:
        try:
            ready = Readiness.parse(httpx.get(target.replica_url + READY_PATH, timeout=5).content)
            if ready.debugger is not None and ready.debugger.attached:
                return
        except httpx.HTTPError:
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


def _mounts(spec: DeploymentSpec) -> tuple[str, ...]:
    """The model mount for the dev container (the code is its workspace)."""
    target = launch.container_model_target(spec)
    if spec.model is None or target is None:
        return ()
    return (f"source={spec.model.path},target={target},type=bind,readonly",)


def _env(spec: DeploymentSpec) -> dict[str, str]:
    """The server's environment inside the dev container, debugger on."""
    env = launch.server_env(spec, launch.container_paths(spec), host="0.0.0.0",
                            port=launch.SERVER_PORT, admin_port=launch.ADMIN_PORT,
                            debug_port=launch.DEBUG_PORT)
    env["SCORING_TIMEOUT_MS"] = str(DEBUG_TIMEOUT_MS)
    return env
