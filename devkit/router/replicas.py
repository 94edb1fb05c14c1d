"""Changing one deployment's replica list in the live router config: local autoscaling
joins a ready replica, drains one (the router's ``draining`` flag: no new requests, the
ones in flight finish) and forgets it once it is idle.

Every change is read-modify-write of ``router.json`` under :func:`config_lock`, which
``devkit traffic`` and key rotation take too, so a weight change and a scaling step at
the same moment cannot undo each other; each waits until the router applied it
(:func:`devkit.router.control.rewrite`). ``instance_count`` follows the active replicas,
so the 429 threshold (2 x max_concurrent x instance_count) is the one Azure would apply.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from devkit.errors import RouterError
from devkit.router.control import APPLY_TIMEOUT_S, rewrite
from devkit.router.files import config_lock


def join(endpoint: str, deployment: str, url: str, *, state: Path | None = None,
         timeout_s: float = APPLY_TIMEOUT_S) -> None:
    """Add a ready replica: it gets requests once the router applied the change."""
    def change(entry: dict[str, Any]) -> None:
        if url not in entry["replicas"]:
            entry["replicas"].append(url)
    _change(endpoint, deployment, change, state, timeout_s, f"joining {url}")


def drain(endpoint: str, deployment: str, urls: list[str], *, state: Path | None = None,
          timeout_s: float = APPLY_TIMEOUT_S) -> None:
    """Flag replicas as draining: once this returns the router sends them nothing new."""
    def change(entry: dict[str, Any]) -> None:
        entry["draining"] = sorted(set(entry.get("draining", [])) |
                                   {u for u in urls if u in entry["replicas"]})
    _change(endpoint, deployment, change, state, timeout_s, "draining " + ", ".join(urls))


def forget(endpoint: str, deployment: str, urls: list[str], *, state: Path | None = None,
           timeout_s: float = APPLY_TIMEOUT_S) -> None:
    """Take replicas out of the config (drained ones, before they are removed)."""
    def change(entry: dict[str, Any]) -> None:
        entry["replicas"] = [u for u in entry["replicas"] if u not in urls]
        entry["draining"] = [u for u in entry.get("draining", []) if u not in urls]
        if not entry["draining"]:
            del entry["draining"]
    _change(endpoint, deployment, change, state, timeout_s, "removing " + ", ".join(urls))


def _change(endpoint: str, deployment: str, change: Callable[[dict[str, Any]], None],
            state: Path | None,
            timeout_s: float, what: str) -> None:
    from devkit.router.config import read_router_config

    with config_lock(endpoint, state):
        raw = read_router_config(endpoint, state)
        entry = next((d for d in raw["deployments"] if d["name"] == deployment), None)
        if entry is None:
            raise RouterError(f"The router config of endpoint '{endpoint}' has no deployment "
                              f"'{deployment}'; run `devkit up` to rewrite it.")
        change(entry)
        draining = set(entry.get("draining", []))
        entry["instance_count"] = max(1, sum(1 for u in entry["replicas"] if u not in draining))
        rewrite(endpoint, raw, state, timeout_s, what=what)
