"""The endpoint's router as both engines manage it: its config, written only when it
changes, and the wait until a (new or running) router serves it.

Every ``up`` ends here. The config is built from the spec (weights, mirror, request
settings, auth) and the replica URLs the router can reach, with
:func:`devkit.router.config.build_router_config`, the same builder ``devkit traffic``'s
files come from. The host-side ``devkit.router`` package is a config library with no
engine knowledge, which is why engines may use it.

Which weights win on ``up``: the spec's. ``devkit traffic`` changes weights live, but the
endpoint file is what a user edits and expects applied when they run ``up`` (as with
``kubectl apply`` or ``az ml online-endpoint update -f``), so ``up`` writes the spec's
weights and says so whenever that replaces different live ones. A config equal to the
one the router already has (all but its generation) is not rewritten: ``up`` with
nothing changed touches nothing, the router included.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devkit.engines.status import Progress
from devkit.errors import DevkitError, RouterError
from devkit.paths import endpoint_state_dir
from devkit.spec.model import Endpoint
from devkit.spec.traffic import format_weights

ROUTER_PORT = 5001  # inside the router's container
START_TIMEOUT_S = 30.0

# Returns None while the router's container/process runs, else why it stopped.
Liveness = Callable[[], "str | None"]


@dataclass(frozen=True)
class ConfigSync:
    """The router config after ``up``: where it is, its generation, whether it changed."""

    path: Path
    generation: int
    changed: bool


def sync_config(endpoint: Endpoint, replica_urls: Mapping[str, Sequence[str]],
                progress: Progress, replica_secret: bool = False) -> ConfigSync:
    """Write the router config for ``endpoint`` unless the current one already says the
    same; report when the spec's weights replace different live ones. With
    ``replica_secret`` the router sends the endpoint's replica secret upstream."""
    from devkit.engines import replica_secret as secret_file
    from devkit.router.config import build_router_config, next_generation, save
    from devkit.router.files import read_json, router_config_path

    path = router_config_path(endpoint.name)
    wanted = build_router_config(endpoint, replica_urls)
    if replica_secret:
        secret_file.ensure(endpoint.name)
        wanted["replica_secret_file"] = secret_file.FILE
    try:
        current: dict[str, Any] | None = read_json(path)
    except (OSError, ValueError):
        current = None
    if current is not None and _without_generation(current) == _without_generation(wanted):
        return ConfigSync(path, int(current.get("generation", 0)), False)
    if current is not None:
        _say_reset(current, wanted, progress)
    wanted["generation"] = next_generation(path)
    save(path, wanted)
    return ConfigSync(path, int(wanted["generation"]), True)


def _without_generation(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if k != "generation"}


def _weights(raw: Mapping[str, Any]) -> tuple[dict[str, int], dict[str, int]]:
    deployments = raw.get("deployments") or []
    return ({d["name"]: int(d.get("weight", 0)) for d in deployments},
            {d["name"]: int(d["mirror"]) for d in deployments if d.get("mirror")})


def _say_reset(current: Mapping[str, Any], wanted: Mapping[str, Any],
               progress: Progress) -> None:
    (old, old_mirror), (new, new_mirror) = _weights(current), _weights(wanted)
    kept = set(new)
    old = {n: w for n, w in old.items() if n in kept}
    old_mirror = {n: p for n, p in old_mirror.items() if n in kept}
    if (old, old_mirror) != (new, new_mirror):
        progress(f"router: traffic set to the spec's {format_weights(new, new_mirror)} (replacing "
                 f"the live {format_weights(old, old_mirror)}; `devkit traffic` changes it live)")


def await_router(name: str, generation: int, stopped: Liveness,
                 timeout_s: float = START_TIMEOUT_S) -> None:
    """Wait until the endpoint's router reports ``generation`` (or newer) applied, the
    one way every change is waited for (:func:`devkit.router.control.wait_for_generation`);
    RouterError naming what it last said otherwise."""
    from devkit.router.control import wait_for_generation
    from devkit.router.files import router_dir

    why = wait_for_generation(router_dir(name), generation, timeout_s, stopped)
    if why is not None:
        raise RouterError(f"The router of endpoint '{name}' did not apply config generation "
                          f"{generation} ({why}); see its log with `devkit logs {name}`, fix "
                          f"the cause and run `devkit up` again.")


def router_starting(name: str) -> None:
    """Forget what a previous router said it applied, before a new one starts: only the
    new one's word counts."""
    from devkit.router.control import forget_applied
    from devkit.router.files import router_dir

    forget_applied(router_dir(name))


@dataclass(frozen=True)
class LiveView:
    """What the router config says now: auth mode, live weights and mirror."""

    auth_mode: str
    traffic: dict[str, int]
    mirror: dict[str, int]


def live_view(name: str) -> LiveView:
    """The endpoint's auth mode and weights from its router config, the one live record
    (``up`` writes the spec's, ``devkit traffic`` changes them); nothing when the
    endpoint never had a router (a failed first ``up``) or its config is unreadable."""
    from devkit.router.config import load_router_config

    try:
        config = load_router_config(name)
    except DevkitError:
        return LiveView("key", {}, {})
    return LiveView(config.auth.mode, {d.name: d.weight for d in config.deployments},
                    {d.name: d.mirror for d in config.deployments if d.mirror})


def forget_router_state(name: str) -> None:
    """Remove the router's folder, the endpoint's keys and its secrets files (``down``)."""
    from devkit.router.files import router_dir
    from devkit.router.keys import keys_path
    from devkit.secrets import delivery

    delivery.forget(name)
    shutil.rmtree(router_dir(name), ignore_errors=True)
    keys_path(name).unlink(missing_ok=True)
    # The command lock's file too: a waiter on it notices and locks a new one (lock.py).
    from devkit.engines.lock import lock_path

    lock_path(name).unlink(missing_ok=True)
    folder = endpoint_state_dir(name)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
