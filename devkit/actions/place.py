"""Where an endpoint runs: the :class:`Place` seam, and :class:`Scope`, which places an
action looks at.

A place is anything that can bring an endpoint to a spec and answer for it afterwards.
The two local engines are places (:class:`~devkit.engines.base.Engine` satisfies the
protocol as it is); a remote target (a Docker Swarm or a Kubernetes cluster) is one more
class with the same methods. Actions never ask which kind they hold.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from devkit.engines import available_engines, get_engine
from devkit.engines.base import EndpointStatus, Engine, Progress, RunSettings, not_found
from devkit.errors import DevkitError, EndpointNotFound, EngineError
from devkit.router.control import TrafficChange
from devkit.router.keys import EndpointKeys
from devkit.router.tokens import IssuedToken
from devkit.spec.model import Endpoint


@runtime_checkable
class Access(Protocol):
    """What a client of an endpoint needs from where it runs: live traffic and
    credentials. Cheap: none of it probes a replica."""

    def traffic(self, name: str) -> TrafficChange:
        """The live weights and mirror of endpoint ``name``."""
        ...

    def set_traffic(self, name: str, traffic: Mapping[str, int],
                    mirror: Mapping[str, int] | None = None) -> TrafficChange:
        """Apply weights (deployments not named get 0) and, unless None, a new mirror,
        validated by the spec's traffic rules; return them once applied."""
        ...

    def auth_mode(self, name: str) -> str:
        """``key`` or ``aml_token``."""
        ...

    def keys(self, name: str, regenerate: str | None = None) -> EndpointKeys:
        """The primary and secondary keys (``regenerate`` replaces one, live)."""
        ...

    def token(self, name: str, lifetime_s: int = 3600) -> IssuedToken:
        """A fresh token for an ``aml_token`` endpoint."""
        ...


@runtime_checkable
class Place(Access, Protocol):
    """Somewhere endpoints run. ``name`` is what ``devkit status`` shows in its ENGINE
    column (``docker``, ``process``, later a target's name)."""

    name: str

    def up(self, endpoint: Endpoint, options: RunSettings,
           progress: Progress) -> EndpointStatus:
        """Bring ``endpoint`` to its spec, changing only what differs, wait until it
        serves behind its router, and return its status; a DevkitError otherwise."""
        ...

    def status(self, name: str | None = None) -> list[EndpointStatus]:
        """Every endpoint here (or just ``name``, [] when it is not here), read back from
        the place itself so it is true from any shell."""
        ...

    def names(self) -> list[str]:
        """Names of the endpoints here, without probing any replica."""
        ...

    def down(self, name: str) -> None:
        """Remove everything made for the endpoint; EndpointNotFound if nothing is."""
        ...

    def down_all(self) -> list[str]:
        """Remove every endpoint here; return their names."""
        ...

    def logs(self, name: str, deployment: str | None = None, follow: bool = False,
             tail: int | None = 100) -> Iterator[str]:
        """Log lines prefixed by replica (``blue-0``) and ``router``."""
        ...


@dataclass(frozen=True)
class Scope:
    """The places an action looks at: one ``target`` (a remote place), or the local
    engines named in ``engines`` (default: every engine that answers here). The engines
    are connected once per scope (a docker client per poll would cost a connection and a
    ping each time) and kept for its life."""

    engines: tuple[str, ...] | None = None
    target: Place | None = None
    _connected: list[Place] = field(default_factory=list, compare=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @classmethod
    def of(cls, engines: Sequence[str] | None = None, target: Place | None = None) -> Scope:
        return cls(tuple(engines) if engines is not None else None, target)

    def places(self) -> list[Place]:
        if self.target is not None:
            return [self.target]
        with self._lock:
            if not self._connected:
                names = self.engines
                found = [get_engine(n) for n in names] if names is not None else \
                    available_engines()
                self._connected.extend(found)
            return list(self._connected)

    def locate(self, name: str) -> tuple[Place, EndpointStatus]:
        """The place running endpoint ``name`` and its status; EndpointNotFound naming
        what runs instead. A place that cannot answer (Docker failing mid-call) does not
        hide the endpoint on another; its error is raised only when none has it."""
        places = self.places()
        running: list[str] = []
        failure: DevkitError | None = None
        for place in places:
            try:
                found = place.status(name)
                if found:
                    return place, found[0]
                running += place.names()
            except DevkitError as exc:
                failure = failure or exc
        if failure is not None:
            raise failure
        where = " or ".join(p.name for p in places)
        raise EndpointNotFound(not_found(name, where, running))

    def owner(self, name: str) -> Place:
        """The place running ``name``, found by name alone (no replica is probed)."""
        for place in self.places():
            try:
                if name in place.names():
                    return place
            except DevkitError:
                continue  # another place may run it; locate() says why if none does
        return self.locate(name)[0]  # raises EndpointNotFound naming what runs instead

    def access(self) -> Access:
        """Where traffic and credentials are answered. Locally that is the router's
        config, the same whichever engine runs the replicas, so nothing is probed."""
        if self.target is not None:
            return self.target
        from devkit.engines.access import RouterAccess

        return RouterAccess()


LOCAL = Scope()


def local_engine(place: Place, what: str) -> Engine:
    """``place`` as a local engine, for what only one can do (reload, debug, rebuild
    detection); DevkitError naming the place otherwise."""
    if not isinstance(place, Engine):
        raise EngineError(f"{what} needs a local engine, and '{place.name}' is not one; "
                          f"bring the endpoint up locally with `devkit up` for that.")
    return place
