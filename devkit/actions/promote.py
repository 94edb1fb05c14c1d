"""The promote action: a local endpoint's spec taken to a target, plan first.

One function per use case, shared by the CLI and the TUI: :func:`promote` builds the
release images, asks the target for a plan, lets the caller confirm it, pushes, applies
and waits until every deployment is healthy; :func:`rollback` goes back to the previous
release. ``progress`` receives one line per step; ``confirm`` sees the plan and decides.
Nothing here prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from devkit.engines.base import EndpointStatus, Progress
from devkit.errors import SpecError
from devkit.promote.places import Place, open_place
from devkit.promote.plan import Plan
from devkit.promote.release import PushReport, Release
from devkit.promote.targets import Target, target_for
from devkit.spec.model import Endpoint

Confirm = Callable[[Plan], bool]


@dataclass(frozen=True)
class PromoteOptions:
    target: str | None = None
    plan_only: bool = False
    dry_run: Path | None = None
    overcommit: bool = False


@dataclass
class PromoteResult:
    """What happened: the plan, whether it was applied, bytes pushed, the status."""

    target: Target
    plan: Plan | None = None
    applied: bool = False
    declined: bool = False
    stack_file: Path | None = None
    pushed: PushReport | None = None
    status: EndpointStatus | None = None
    seconds: float = 0.0


def load_endpoint(where: str) -> Endpoint:
    """A folder or YAML file, else the name of a local endpoint ``up`` remembers."""
    from devkit.reload import recall_spec
    from devkit.spec import load

    path = Path(where)
    if path.exists():
        return load([path])
    found = recall_spec(where)
    if found is None:
        raise SpecError(f"'{where}' is neither a spec folder nor a local endpoint devkit "
                        f"knows; pass the endpoint's folder, e.g. `devkit promote "
                        f"samples/regression --target T`.")
    return found


def promote(where: str, options: PromoteOptions, progress: Progress,
            confirm: Confirm) -> PromoteResult:
    """Build, plan, confirm, push, apply, wait. ``confirm`` is not asked for a plan with
    nothing to do, for ``--plan`` or for ``--dry-run``."""
    from devkit.engines.docker.client import DockerClient
    from devkit.promote.release import build_release, push_release, resolve_release

    started = time.monotonic()
    endpoint = load_endpoint(where)
    target = target_for(endpoint.spec.compute, options.target, endpoint.name)
    result = PromoteResult(target)
    builder = DockerClient.connect()
    try:
        release = build_release(builder, endpoint, target, progress)
        if options.dry_run is not None:  # rendered without touching the target
            result.stack_file = _render(target, release, options)
            return result
        place = open_place(target)
        try:
            release = resolve_release(builder, release)
            result.plan = plan = place.plan(release, options.overcommit)
            if options.plan_only:
                return result  # the caller shows it, then plan.require_fit() refuses
            plan.require_fit()
            if plan.nothing_to_do:
                return result
            if not confirm(plan):
                result.declined = True
                return result
            release, result.pushed = push_release(builder, release, progress)
            place.apply(release, progress, options.overcommit)
            result.applied = True
            result.status = _status(place, endpoint.name)
        finally:
            place.close()
    finally:
        builder.close()
        result.seconds = time.monotonic() - started
    return result


def rollback(endpoint: str, target_name: str, progress: Progress) -> EndpointStatus | None:
    from devkit.promote.targets import get_target

    place = open_place(get_target(target_name))
    try:
        place.rollback(endpoint, progress)
        return _status(place, endpoint)
    finally:
        place.close()


def _render(target: Target, release: Release, options: PromoteOptions) -> Path:
    assert options.dry_run is not None
    if target.kind == "swarm":
        from devkit.promote.swarm.specs import write_stack

        return write_stack(release, options.dry_run, target.published_port)
    if target.kind == "kubernetes":
        from devkit.promote.kubernetes.target import write_manifests

        return write_manifests(target, release, options.dry_run)
    raise SpecError(f"--dry-run for target kind '{target.kind}' is not available yet.")


def _status(place: Place, endpoint: str) -> EndpointStatus | None:
    found = place.status(endpoint)
    return found[0] if found else None
