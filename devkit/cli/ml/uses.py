"""What the ``devkit ml`` verbs do to endpoints, through the same functions as ``devkit up``,
``status``, ``down``, ``invoke``, ``logs`` and ``keys``.

Every verb that changes an endpoint builds its new :class:`~devkit.spec.Recipe` in the
spec layer (:mod:`devkit.spec.compose`) and then *applies* it: load, bring up, record.
``up`` restarts only what changed, so a traffic change or a new deployment leaves the
other deployments running. An endpoint with no deployment yet (``online-endpoint create
-n E``) exists as a recorded spec only, as the engines run deployments: it is started by
its first ``online-deployment create``. The engine is the one the endpoint runs on, else
``DEVKIT_ENGINE`` (docker or process), else docker when an engine answers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import click

from devkit import actions
from devkit.actions import Place, Scope
from devkit.engines import EndpointStatus
from devkit.errors import EndpointNotFound
from devkit.paths import state_dir
from devkit.reload import forget_spec, recall_spec, remember_spec
from devkit.spec import Recipe, load_recipe
from devkit.spec.model import Endpoint

ENGINE_VARIABLE = "DEVKIT_ENGINE"


def say(message: str) -> None:
    """Progress goes to stderr, as az's does, so stdout stays the result."""
    click.echo(message, err=True)


@dataclass(frozen=True)
class Known:
    """An endpoint devkit knows: its spec, and its status when an engine runs it."""

    spec: Endpoint
    status: EndpointStatus | None
    engine: Place | None


def _engine_name() -> str | None:
    return os.environ.get(ENGINE_VARIABLE) or None


def _scope() -> Scope:
    named = _engine_name()
    return Scope.of([named] if named else None)


def running(name: str) -> tuple[Place, EndpointStatus] | None:
    """The engine running ``name`` (only ``DEVKIT_ENGINE``'s when it is set)."""
    try:
        return _scope().locate(name)
    except EndpointNotFound:
        return None


def known(name: str) -> Known:
    """Endpoint ``name`` as recorded (EndpointNotFound, in az's words, otherwise)."""
    spec = recall_spec(name)
    found = running(name)
    if spec is None:
        raise EndpointNotFound(f"Endpoint '{name}' does not exist (known: "
                               f"{', '.join(names()) or 'none'}); create it with `devkit ml "
                               f"online-endpoint create -n {name}`.")
    return Known(spec, found[1] if found else None, found[0] if found else None)


def known_or_none(name: str) -> Known | None:
    try:
        return known(name)
    except EndpointNotFound:
        return None


def names() -> list[str]:
    """Every endpoint devkit has a recorded spec for (running or not yet started)."""
    folder = state_dir() / "endpoints"
    if not folder.is_dir():
        return []
    return sorted(p.parent.name for p in folder.glob("*/spec-files.json"))


def apply(recipe: Recipe, engine: Place | None = None) -> Known:
    """Bring the endpoint to ``recipe`` (SpecError before anything moves) and record it,
    through :func:`devkit.actions.up` (where it runs, else ``DEVKIT_ENGINE``'s engine)."""
    endpoint = load_recipe(recipe)
    found = running(endpoint.name)
    if found is not None:
        engine = found[0]
    if not endpoint.deployments:
        if found is not None:  # its last deployment went: nothing left to run
            found[0].down(endpoint.name)
        remember_spec(endpoint)
        return Known(endpoint, None, None)
    scope = Scope(target=engine) if engine is not None else _scope()
    result = actions.up(endpoint, scope=scope, progress=say)
    return Known(endpoint, result.status, result.place)


def delete(name: str) -> None:
    """Everything of endpoint ``name`` goes: what runs, its spec record, its keys."""
    found = running(name)
    if found is not None:
        found[0].down(name)
    forget_spec(name)


def logs(name: str, deployment: str, tail: int | None) -> Iterator[str]:
    found = running(name)
    if found is None:
        return iter(())
    return actions.logs(name, deployment=deployment, tail=tail, scope=Scope(target=found[0]))
