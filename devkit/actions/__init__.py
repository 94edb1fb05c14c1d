"""Every use case of devkit, written once: the CLI and the TUI are thin shells over this.

Each action takes typed inputs and returns a typed result, or raises a
:class:`~devkit.errors.DevkitError` whose sentence both front ends show as it is:

    lifecycle  up, down, down_all, restart        -> UpResult / names
    status     status, running                    -> EndpointReport (status + rebuilds)
    traffic    show_traffic, set_traffic          -> TrafficChange
    access     keys, token, credentials, authorization
    invoke     route_of, invoke                   -> Answer (status, body, who answered)
    reload     reload, last_reload                -> ReloadReport / ReplicaReload
    debug      debug_on, debug_off, wait_for_debugger -> DebugSession
    logs       logs                               -> lines
    compare    shadow_report                      -> ShadowReport (the router's shadow diff)
    replay     load_requests, replay              -> ReplayReport (recorded requests, compared)
    rollout    rollout                            -> RolloutOutcome (step-wise shift, checked)
    promote    promote, rollback                  -> PromoteResult (a spec taken to a target)
    targets    check_targets, status, traffic, logs, keys, token, down  (on a target)

(compare, replay, rollout, promote and targets are imported by module: ``from
devkit.actions.rollout import rollout``; they reach an endpoint through
:class:`~devkit.actions.router_view.RouterView`.)

Places: where an endpoint runs
------------------------------
Actions never ask which engine or cluster they talk to. They act on a
:class:`~devkit.actions.place.Place` (a ``typing.Protocol``, so an implementation need
not import it), chosen by a :class:`~devkit.actions.place.Scope`:

* ``Scope()`` (``LOCAL``): the local engines that answer (docker, process); an
  endpoint is found by name on whichever runs it. ``Scope.of(engines=["process"])``
  narrows that (the TUI's ``--engine``).
* ``Scope(target=place)``: one remote place, for ``--target``. Every action then goes
  to that place alone.

A place implements::

    name: str                                         # shown as status' ENGINE
    up(endpoint, options: RunSettings, progress) -> EndpointStatus   # apply the spec
    status(name=None) -> list[EndpointStatus]         # read back from the place
    names() -> list[str]                              # cheap: no replica probed
    down(name) -> None;  down_all() -> list[str]
    logs(name, deployment=None, follow=False, tail=100) -> Iterator[str]
    traffic(name) -> TrafficChange
    set_traffic(name, traffic, mirror=None) -> TrafficChange   # validated, applied live
    auth_mode(name) -> str
    keys(name, regenerate=None) -> EndpointKeys;  token(name, lifetime_s) -> IssuedToken

The local engines satisfy it as they are: :class:`~devkit.engines.base.Engine` gets
traffic and credentials from :class:`~devkit.engines.access.RouterAccess` (the router's
config folder). A remote target implements the same methods against its cluster and
raises DevkitErrors naming the target. Reload and debug need a local engine (they talk
to a replica's admin port or restart it under debugpy) and say so for other places.

Adding an action (promote, compare, rollout): a module here with one function per use
case taking ``scope: Scope = LOCAL``, exported below; the CLI command parses flags, calls
it once and renders the result; the TUI backend does the same from a worker thread.
"""

from devkit.actions.access import authorization, credentials, keys, token
from devkit.actions.debug import DebugSession, debug_off, debug_on, wait_for_debugger
from devkit.actions.invoke import Answer, Route, invoke, route_of
from devkit.actions.lifecycle import UpResult, down, down_all, restart, up
from devkit.actions.logs import logs
from devkit.actions.place import LOCAL, Access, Place, Scope
from devkit.actions.reload import ReloadReport, last_reload, reload
from devkit.actions.status import EndpointReport, running, status
from devkit.actions.traffic import set_traffic, show_traffic

__all__ = [
    "LOCAL", "Access", "Answer", "DebugSession", "EndpointReport", "Place", "ReloadReport",
    "Route", "Scope", "UpResult", "authorization", "credentials", "debug_off", "debug_on",
    "down", "down_all", "invoke", "keys", "last_reload", "logs", "reload", "restart",
    "route_of", "running", "set_traffic", "show_traffic", "status", "token", "up",
    "wait_for_debugger",
]
