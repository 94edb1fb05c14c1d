"""Live changes to a running router: traffic weights, mirror, rotated keys.

Each change rewrites ``router.json`` with the next generation, then waits until the
router reports that generation in ``router.applied.json`` (which it writes next to the
config after every reload). Watching a file rather than calling the router's HTTP API
means the host does not need the router's address, which differs between the process
engine and a container. When no router has ever applied the config (the endpoint is not
up), the change is saved and takes effect when the router starts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devkit_runtime.router.state import APPLIED_FILE

from devkit.errors import RouterError
from devkit.router.config import load_router_config, read_router_config, save
from devkit.router.files import config_lock, read_json, router_config_path
from devkit.spec import validate_traffic

APPLY_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class TrafficChange:
    """The weights now in the config, and whether a running router has applied them."""

    endpoint: str
    traffic: dict[str, int]
    mirror: dict[str, int] = field(default_factory=dict)
    generation: int = 0
    applied: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "traffic": self.traffic, "mirror": self.mirror,
                "generation": self.generation, "applied": self.applied}


def current_traffic(endpoint: str, state: Path | None = None) -> TrafficChange:
    config = load_router_config(endpoint, state)
    applied = _applied_generation(router_config_path(endpoint, state).parent)
    return TrafficChange(
        endpoint=endpoint, traffic={d.name: d.weight for d in config.deployments},
        mirror={d.name: d.mirror for d in config.deployments if d.mirror},
        generation=config.generation,
        applied=applied is not None and applied >= config.generation)


def set_traffic(endpoint: str, traffic: Mapping[str, int],
                mirror: Mapping[str, int] | None = None, *, state: Path | None = None,
                timeout_s: float = APPLY_TIMEOUT_S) -> TrafficChange:
    """Apply new live weights (every deployment not named gets 0) and, when ``mirror`` is
    given, a new mirror (``{}`` or a 0 percentage removes it); ``None`` keeps the current
    mirror. Validated by the spec's traffic rules before anything is written."""
    with config_lock(endpoint, state):  # an autoscaling step may be changing replicas
        return _set_traffic(endpoint, traffic, mirror, state, timeout_s)


def _set_traffic(endpoint: str, traffic: Mapping[str, int], mirror: Mapping[str, int] | None,
                 state: Path | None, timeout_s: float) -> TrafficChange:
    raw = read_router_config(endpoint, state)
    names = [d["name"] for d in raw["deployments"]]
    current_mirror = {d["name"]: d["mirror"] for d in raw["deployments"] if d["mirror"]}
    new_mirror = current_mirror if mirror is None else {n: p for n, p in mirror.items() if p}
    validate_traffic(names, dict(traffic), new_mirror)
    for deployment in raw["deployments"]:
        deployment["weight"] = traffic.get(deployment["name"], 0)
        deployment["mirror"] = new_mirror.get(deployment["name"], 0)
    applied = rewrite(endpoint, raw, state, timeout_s, what="traffic change")
    return _change(endpoint, raw, applied)


def refresh_key_hashes(endpoint: str, hashes: list[str], *, state: Path | None = None,
                       timeout_s: float = APPLY_TIMEOUT_S) -> bool:
    """Put new key hashes in the router config (after a key rotation); True once live."""
    with config_lock(endpoint, state):
        raw = read_router_config(endpoint, state)
        if raw.get("auth", {}).get("mode") != "key":
            return False
        raw["auth"]["key_sha256"] = hashes
        return rewrite(endpoint, raw, state, timeout_s, what="key rotation")


def rewrite(endpoint: str, raw: dict[str, Any], state: Path | None, timeout_s: float,
            what: str) -> bool:
    """Write ``raw`` as the next generation; wait for a running router to apply it."""
    path = router_config_path(endpoint, state)
    was_running = _applied_generation(path.parent) is not None
    raw["generation"] = int(raw.get("generation", 0)) + 1
    save(path, raw)
    if not was_running:
        return False
    return wait_applied(endpoint, path.parent, raw["generation"], timeout_s, what)


def wait_applied(endpoint: str, folder: Path, generation: int, timeout_s: float,
                 what: str) -> bool:
    why = wait_for_generation(folder, generation, timeout_s)
    if why is None:
        return True
    raise RouterError(f"The router of endpoint '{endpoint}' did not apply the {what} "
                      f"(generation {generation}): {why}; the change is saved in {folder} "
                      f"and applies when the router runs. Check it with "
                      f"`devkit status {endpoint}`.")


def wait_for_generation(folder: Path, generation: int, timeout_s: float,
                        stopped: Callable[[], str | None] | None = None) -> str | None:
    """Wait until the router reading ``folder`` reports ``generation`` (or newer)
    applied in its ``router.applied.json``; None then, else why not (what the router
    said, that it stopped, or the time out). The one way every change is waited for:
    it needs no address, which differs between a host process and a container."""
    deadline = time.monotonic() + timeout_s
    while True:
        applied = _applied_generation(folder)
        if applied is not None and applied >= generation:
            return None
        why = stopped() if stopped is not None else None
        if why is not None:
            return why
        if time.monotonic() >= deadline:
            said = _applied_record(folder).get("error")
            served = f"it serves generation {applied}" if applied is not None else \
                "it reported nothing"
            return f"{said or served} after {timeout_s:g} s"
        time.sleep(0.02)


def forget_applied(folder: Path) -> None:
    """Remove the applied marker (a router about to start writes its own)."""
    (folder / APPLIED_FILE).unlink(missing_ok=True)


def _applied_record(folder: Path) -> dict[str, Any]:
    try:
        record = read_json(folder / APPLIED_FILE)
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _applied_generation(folder: Path) -> int | None:
    generation = _applied_record(folder).get("generation")
    return generation if isinstance(generation, int) else None


def _change(endpoint: str, raw: dict[str, Any], applied: bool) -> TrafficChange:
    deployments = raw["deployments"]
    return TrafficChange(
        endpoint=endpoint,
        traffic={d["name"]: d["weight"] for d in deployments},
        mirror={d["name"]: d["mirror"] for d in deployments if d["mirror"]},
        generation=int(raw["generation"]), applied=applied)
