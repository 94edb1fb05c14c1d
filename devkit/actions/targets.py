"""Use cases on promote targets: list and check them, and operate an endpoint running on
one (status, traffic, logs, keys, token, down) through the same :class:`Place` verbs a
local engine has. Shared by the CLI (``--target T``) and the TUI; nothing here prints.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from devkit.engines.base import EndpointStatus, Progress
from devkit.errors import DevkitError, RouterError
from devkit.promote.places import Place, open_place
from devkit.promote.targets import Target, get_target, load_targets


@dataclass(frozen=True)
class TargetCheck:
    """A target and whether it answered (with the sentence why not)."""

    target: Target
    reachable: bool
    detail: str
    endpoints: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"name": self.target.name, **self.target.to_yaml(), "source": self.target.source,
                "reachable": self.reachable, "detail": self.detail,
                "endpoints": list(self.endpoints)}


def check_targets() -> list[TargetCheck]:
    """Every target of the targets files, each connected to once."""
    return [check_target(t) for t in sorted(load_targets().values(), key=lambda t: t.name)]


def check_target(target: Target) -> TargetCheck:
    try:
        with place_for(target) as place:
            names = tuple(s.name for s in place.status())
    except DevkitError as exc:
        return TargetCheck(target, False, str(exc))
    return TargetCheck(target, True, f"{target.kind} answers", names)


@contextlib.contextmanager
def place_for(target: Target | str) -> Iterator[Place]:
    place = open_place(get_target(target) if isinstance(target, str) else target)
    try:
        yield place
    finally:
        place.close()


def status(target: str, endpoint: str | None = None) -> list[EndpointStatus]:
    with place_for(target) as place:
        found = place.status(endpoint)
    if endpoint is not None and not found:
        from devkit.errors import EndpointNotFound

        raise EndpointNotFound(f"Target '{target}' runs no endpoint '{endpoint}'; promote it "
                               f"with `devkit promote PATH --target {target}`.")
    return found


def traffic(target: str, endpoint: str, weights: Mapping[str, int] | None,
            mirror: Mapping[str, int] | None) -> dict[str, Any]:
    """Show (no weights, no mirror) or set the live traffic on the target."""
    with place_for(target) as place:
        found = place.status(endpoint)
        if not found:
            raise RouterError(f"Target '{target}' runs no endpoint '{endpoint}'; promote it "
                              f"first.")
        current = {d.name: d.traffic for d in found[0].deployments}
        if weights is None and mirror is None:
            return {"endpoint": endpoint, "target": target, "traffic": current,
                    "mirror": {d.name: d.mirror for d in found[0].deployments if d.mirror},
                    "applied": True}
        started = time.monotonic()
        change = place.set_traffic(endpoint, weights if weights is not None else current,
                                   mirror)
        change["seconds"] = round(time.monotonic() - started, 3)
        return change


def logs(target: str, endpoint: str, deployment: str | None, follow: bool,
         tail: int | None) -> Iterator[str]:
    with place_for(target) as place:
        yield from place.logs(endpoint, deployment, follow, tail)


def keys(target: str, endpoint: str) -> dict[str, str]:
    with place_for(target) as place:
        return place.keys(endpoint)


def token(target: str, endpoint: str, lifetime_s: int) -> dict[str, str]:
    from datetime import datetime, timezone

    from devkit_runtime.router.auth import sign_token

    with place_for(target) as place:
        secret = place.token_secret(endpoint)
    expires = int(time.time()) + lifetime_s
    when = datetime.fromtimestamp(expires, tz=timezone.utc).isoformat().replace("+00:00", "Z")
    return {"token": sign_token(secret, endpoint, expires), "expires_at": when}


def down(target: str, endpoint: str, progress: Progress) -> None:
    with place_for(target) as place:
        place.down(endpoint, progress)
