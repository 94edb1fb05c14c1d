"""Promote targets as the TUI sees them: their endpoints in the tree (named
``ENDPOINT@TARGET`` so they never collide with a local endpoint of the same name), live
traffic edits on them, and the plan/apply steps of the promote screen. Called only from
worker threads, like :class:`~devkit.tui.backend.Backend`, which delegates here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from devkit.actions import targets as ops
from devkit.actions.promote import PromoteOptions, PromoteResult, promote
from devkit.engines.base import Progress
from devkit.errors import DevkitError, TargetUnavailable
from devkit.promote.targets import Target, load_targets
from devkit.tui.views import EndpointView, from_status

SEPARATOR = "@"


def qualified(endpoint: str, target: str) -> str:
    return f"{endpoint}{SEPARATOR}{target}"


def split(name: str) -> tuple[str, str] | None:
    """(endpoint, target) of a qualified name, None for a local endpoint."""
    if SEPARATOR not in name:
        return None
    endpoint, _, target = name.rpartition(SEPARATOR)
    return endpoint, target


def views(errors: list[str]) -> list[EndpointView]:
    """Every endpoint every target runs (a target that does not answer is an error line)."""
    try:
        targets = list(load_targets().values())
    except DevkitError as exc:
        errors.append(str(exc))
        return []
    found = []
    for target in targets:
        try:
            statuses = ops.status(target.name)
        except DevkitError as exc:
            errors.append(str(exc))
            continue
        for status in statuses:
            view = from_status(status, None)
            found.append(EndpointView(qualified(view.name, target.name), view.engine,
                                      view.scoring_uri, view.auth_mode, view.deployments))
    return found


def set_traffic(name: str, traffic: Mapping[str, int], mirror: Mapping[str, int]) -> bool:
    where = split(name)
    assert where is not None
    ops.traffic(where[1], where[0], traffic, mirror)
    return True


def target_for(spec_dir: Path | None, compute: str | None) -> Target:
    """The endpoint's ``compute: azureml:NAME`` target, else the only target there is."""
    targets = load_targets()
    if compute and compute.startswith("azureml:") and compute[8:] in targets:
        return targets[compute[8:]]
    if len(targets) == 1:
        return next(iter(targets.values()))
    names = ", ".join(sorted(targets)) or "none"
    raise TargetUnavailable(f"Cannot tell which target to promote {spec_dir} to (targets: "
                            f"{names}); set `compute: azureml:NAME` in its endpoint file or "
                            f"keep one target (`devkit targets add`).")


def plan(spec_dir: Path, target: str, progress: Progress) -> PromoteResult:
    """Build the release and ask the target for its plan (overcommit as on a laptop)."""
    return promote(str(spec_dir), PromoteOptions(target, plan_only=True, overcommit=True),
                   progress, lambda plan: False)


def apply(spec_dir: Path, target: str, progress: Progress) -> PromoteResult:
    return promote(str(spec_dir), PromoteOptions(target, overcommit=True), progress,
                   lambda plan: True)
