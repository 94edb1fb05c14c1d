"""The one interface every engine implements, and the reconcile every ``up`` runs.

An engine turns an :class:`~devkit.spec.model.Endpoint` into running servers (containers
or host processes) and reads their state back from where it keeps it (Docker labels, a
state file), so ``status`` tells the truth from any shell, after the CLI exits and after a
reboot. Actions, reload and debug talk to engines only through :class:`Engine`; none of
them asks which engine it holds.

``up`` is written once, here: refuse what cannot run → prepare environments (images,
venvs) → plan (keep, start, restart, remove) → start replicas → wait for readiness →
point the router at what runs → return the status. The docker and process engines fill
in the hooks (the ``_``-methods marked abstract); the sentences a user reads on failure
are built here too, so both engines say the same thing.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from devkit.engines import routing, scale_record
from devkit.engines.access import RouterAccess
from devkit.engines.lock import endpoint_lock
from devkit.engines.readiness import ReadinessWait, WaitOutcome, settle
from devkit.engines.record import Running, Wanted, make_plan, run_hash, starting_counts
from devkit.engines.settings import ReplicaRun, RunSettings
from devkit.engines.status import (
    DeploymentState,
    DeploymentStatus,
    EndpointStatus,
    Progress,
    ReplicaStatus,
    aggregate,
    no_progress,
)
from devkit.errors import DevkitError, EndpointNotFound, EngineError, ReadinessTimeout
from devkit.secrets import delivery
from devkit.spec.model import DeploymentSpec, Endpoint

__all__ = [
    "DeploymentState", "DeploymentStatus", "EndpointStatus", "Engine", "Prepared",
    "Progress", "ReplicaStatus", "RouterHandle", "RunSettings", "ScaledReplica", "aggregate",
    "no_deployment", "no_progress", "not_found",
]

@dataclass(frozen=True)
class Prepared:
    """A deployment's environment, ready to start replicas from: the image tag (docker)
    or venv path (process), its environment hash, and whether it gets a GPU."""

    artifact: str
    env_hash: str
    gpu: bool = False


@dataclass(frozen=True)
class RouterHandle:
    """The endpoint's running router: where it answers, whether this ``up`` (re)started
    it, and how to tell that it stopped (None while it runs, else why)."""

    url: str
    fresh: bool
    stopped: Callable[[], str | None]


@dataclass(frozen=True)
class ScaledReplica:
    """One replica as local autoscaling sees it: its index, the URL the router reaches
    it at (a container name on the endpoint network, or a loopback port), and whether
    it runs."""

    index: int
    route_url: str
    running: bool


@dataclass(frozen=True)
class PostMortem:
    """What is said about a replica that died or never got ready: what was cleaned up,
    where its output is, and its last lines."""

    cleaned: str
    where: str
    lines: str


class Engine(RouterAccess, abc.ABC):
    """What actions, reload and debug need from an engine. An engine is a
    :class:`devkit.actions.Place`: traffic and credentials come from
    :class:`~devkit.engines.access.RouterAccess` (the router config is the same for both
    engines)."""

    name: str
    cleaned_note: str  # "its containers were removed" / "its processes were stopped"
    # Whether replicas require the endpoint's replica secret (engines/replica_secret.py):
    # where they listen on the host's loopback, any local user could call them otherwise.
    replica_secret: bool = False
    # Whether the deployments' replicas may be started at the same time (each start is
    # blocking calls to the engine: Docker's create + start + network connect).
    concurrent_starts: bool = False

    # -- up: the reconcile skeleton ------------------------------------------------------
    def up(self, endpoint: Endpoint, options: RunSettings, progress: Progress) -> EndpointStatus:
        """Bring the endpoint to the spec: start what is missing, restart what changed,
        remove deployments no longer in the spec, wait for readiness, then point the
        endpoint's router at the replicas (starting it if it does not run; a running one
        applies the new config live) and return. The spec's traffic replaces live weights
        (see :mod:`devkit.engines.routing`)."""
        with endpoint_lock(endpoint.name, "up", progress):
            return self._up(endpoint, options, progress)

    def _up(self, endpoint: Endpoint, options: RunSettings,
            progress: Progress) -> EndpointStatus:
        """:meth:`up`, holding the endpoint's lock (:mod:`devkit.engines.lock`). A
        Ctrl-C or kill at any point leaves a state the next ``up`` converges from: the
        plan compares what runs with the spec, whatever an earlier one got done."""
        endpoint = options.applied_to(starting_counts(endpoint))  # a debugged one runs 1
        self._refuse(endpoint, options)
        # Secret references resolve here, at every replica start whatever the caller
        # (up, debug, restart): a missing one stops `up` before anything changes.
        options = options.with_secrets(delivery.deliver(endpoint))
        prepared = {d.name: self._prepare(d, options, progress) for d in endpoint.deployments}
        wanted = [Wanted(d, run_hash(d, options.fingerprint(d.name)), prepared[d.name].env_hash,
                         prepared[d.name].gpu) for d in endpoint.deployments]
        plan = make_plan(wanted, self._running(endpoint.name))
        for name in plan.keep:
            progress(f"{name}: unchanged, left running")
        for name in plan.remove + plan.restart:
            progress(f"{name}: {'removing' if name in plan.remove else 'restarting'}")
            self._remove(endpoint.name, name)
        to_start = [w for w in wanted if w.spec.name in plan.start + plan.restart]
        try:
            self._start_all(endpoint, to_start, prepared, options, progress)
        except DevkitError:
            # A running router follows what is left running; a failed first `up` creates
            # nothing more. Either way the first error is the news.
            if self._router_alive(endpoint.name):
                with contextlib.suppress(DevkitError):
                    self._route(endpoint, progress)
            raise
        self._route(endpoint, progress)
        return self.status(endpoint.name)[0]

    def _start_all(self, endpoint: Endpoint, to_start: Sequence[Wanted],
                   prepared: dict[str, Prepared], options: RunSettings,
                   progress: Progress) -> None:
        """Start every new replica, then wait for all of them at once. Dead or never-ready
        replicas take their whole deployment down with them; unhealthy ones (init()
        failed) stay up so hot reload can fix them."""
        if not to_start:
            return
        def start(want: Wanted) -> list[Any]:
            name = want.spec.name
            return self._start(want, prepared[name], options.replica(name), progress)

        if self.concurrent_starts and len(to_start) > 1:
            with ThreadPoolExecutor(max_workers=len(to_start)) as pool:
                futures = [pool.submit(start, want) for want in to_start]
            # Every start has ended here; the first failure is the news (as one at a time).
            started = {w.spec.name: f.result() for w, f in zip(to_start, futures, strict=True)}
        else:
            started = {want.spec.name: start(want) for want in to_start}
        specs = {w.spec.name: w.spec for w in to_start}
        jobs = [(name, replica) for name, replicas in started.items() for replica in replicas]
        failed = settle(jobs, lambda job: self._wait_ready(specs[job[0]], job[1]),
                        lambda name, replica, outcome: self._failure(specs[name], replica,
                                                                     outcome), progress)
        for name, replicas in started.items():
            if name in failed:
                self._discard(endpoint.name, name, replicas)
                progress(f"{name}: failed, {self.cleaned_note}")
            else:
                progress(f"{name}: up")
        if failed:
            raise next(iter(failed.values()))

    def _route(self, endpoint: Endpoint, progress: Progress) -> None:
        """Point the router at the running replicas and make sure it runs and serves that
        config (a fresh or changed one is waited for)."""
        sync = routing.sync_config(endpoint, self._replica_urls(endpoint), progress,
                                   self.replica_secret)
        router = self._ensure_router(endpoint, sync, progress)
        if router.fresh or sync.changed:
            routing.await_router(endpoint.name, sync.generation, router.stopped)
        state = "started" if router.fresh else ("updated live" if sync.changed else "unchanged")
        progress(f"router: {state} at {router.url}/score (config generation "
                 f"{sync.generation})")

    def _failure(self, spec: DeploymentSpec, replica: Any, outcome: WaitOutcome) -> DevkitError:
        """The sentence for a replica that died or never got ready, with its last lines."""
        seen = self._post_mortem(replica)
        fix = (f"{seen.cleaned}; fix the cause shown in {seen.where} and run `devkit up` "
               f"again:\n{seen.lines or '(no output)'}")
        if outcome.state is DeploymentState.STARTING:
            budget = ReadinessWait(spec.readiness_probe).budget
            last = f", {outcome.error}" if outcome.error else ""
            return ReadinessTimeout(
                f"Deployment '{spec.name}' did not become ready within {budget:g} s "
                f"(readiness_probe of {spec.source}{last}); {fix}")
        return EngineError(f"Deployment '{spec.name}' stopped while starting "
                           f"({outcome.error}); {fix}")

    # -- hooks of up ----------------------------------------------------------------------
    @abc.abstractmethod
    def _refuse(self, endpoint: Endpoint, options: RunSettings) -> None:
        """Raise before anything starts or stops when this engine cannot run the spec
        (no GPU, an image it cannot run)."""

    @abc.abstractmethod
    def _prepare(self, spec: DeploymentSpec, options: RunSettings,
                 progress: Progress) -> Prepared:
        """Build (or find cached) the deployment's environment."""

    @abc.abstractmethod
    def _running(self, name: str) -> list[Running]:
        """The endpoint's deployments as they run now, with the hashes they started with."""

    @abc.abstractmethod
    def _remove(self, endpoint: str, deployment: str) -> None:
        """Stop and remove every replica of one deployment."""

    @abc.abstractmethod
    def _start(self, want: Wanted, prepared: Prepared, run: ReplicaRun,
               progress: Progress) -> list[Any]:
        """Start ``instance_count`` replicas; return handles for the hooks below."""

    @abc.abstractmethod
    def _wait_ready(self, spec: DeploymentSpec, replica: Any) -> WaitOutcome:
        """Wait until one new replica is ready, unhealthy, dead or out of time."""

    @abc.abstractmethod
    def _discard(self, endpoint: str, deployment: str, replicas: list[Any]) -> None:
        """Remove the replicas of a deployment that failed to start."""

    @abc.abstractmethod
    def _post_mortem(self, replica: Any) -> PostMortem:
        """What was cleaned up and the last output of a replica that failed."""

    @abc.abstractmethod
    def _replica_urls(self, endpoint: Endpoint) -> dict[str, list[str]]:
        """Per deployment, the base URLs the router reaches its running replicas at."""

    @abc.abstractmethod
    def _ensure_router(self, endpoint: Endpoint, sync: routing.ConfigSync,
                       progress: Progress) -> RouterHandle:
        """Make sure the endpoint's router runs on the config at ``sync.path``."""

    @abc.abstractmethod
    def _router_alive(self, name: str) -> bool:
        """Whether the endpoint's router runs now."""

    # -- reading back and taking down --------------------------------------------------------
    @abc.abstractmethod
    def status(self, name: str | None = None) -> list[EndpointStatus]:
        """Every endpoint this engine runs (or just ``name``), read back from the engine;
        the scoring URI is the router's and the weights are the live ones."""

    @abc.abstractmethod
    def down(self, name: str) -> None:
        """Remove everything devkit created for the endpoint (router and keys included);
        EndpointNotFound if none."""

    @abc.abstractmethod
    def down_all(self) -> list[str]:
        """Remove every devkit endpoint on this engine; return their names."""

    @abc.abstractmethod
    def logs(self, name: str, deployment: str | None = None, follow: bool = False,
             tail: int | None = 100) -> Iterator[str]:
        """Log lines (without newline) of the endpoint's replicas, prefixed by replica
        (``blue-0``), and of its router (``router``) when no deployment is named."""

    def names(self) -> list[str]:
        """Names of the endpoints this engine runs, without probing any replica."""
        return [endpoint.name for endpoint in self.status()]

    # -- what reload and debug need --------------------------------------------------------
    @abc.abstractmethod
    def env_hash(self, spec: DeploymentSpec) -> str:
        """The environment hash this engine would start ``spec`` with now (a running
        deployment whose hash differs needs a rebuild)."""

    @abc.abstractmethod
    def reload_replica(self, replica: ReplicaStatus) -> dict[str, Any]:
        """Ask one replica's runtime to reload its scoring code now; its raw outcome."""

    def readiness_answer(self, replica: ReplicaStatus, timeout_s: float = 5.0) -> bytes:
        """The body of the replica's ``GET /-/ready`` (reload outcomes, debugger state);
        raises ``httpx.HTTPError`` when it does not answer. Where its port is not reachable
        from the host (docker, unpublished), the engine asks another way."""
        import httpx

        return httpx.get(f"{replica.url}/-/ready", timeout=timeout_s).content

    @abc.abstractmethod
    def code_root(self, spec: DeploymentSpec) -> str | None:
        """Where the server sees the deployment's code folder (for path mappings)."""

    @abc.abstractmethod
    def debug_image(self, spec: DeploymentSpec, running: DeploymentStatus) -> str:
        """The image a dev container for this deployment runs."""

    # -- what local autoscaling needs (devkit.autoscale) ---------------------------------
    @abc.abstractmethod
    def router_url(self, name: str) -> str | None:
        """Where the endpoint's router answers on the host (loopback), None when it does
        not run."""

    @abc.abstractmethod
    def scaled_replicas(self, name: str, deployment: str) -> list[ScaledReplica]:
        """The deployment's replicas, by index, as the router reaches them."""

    @abc.abstractmethod
    def add_replica(self, spec: DeploymentSpec, run: ReplicaRun,
                    progress: Progress) -> ScaledReplica:
        """Start one more replica of a running deployment, like its siblings (same image
        or venv and hashes, next free index), and wait until it is ready; one that is not
        is removed and its failure raised. The caller joins it to the router."""

    @abc.abstractmethod
    def remove_replica(self, endpoint: str, deployment: str, index: int) -> None:
        """Stop and remove one replica (already drained: the router sends it nothing)."""

    def host_resources(self) -> tuple[int, int]:
        """(CPUs, memory bytes) of the machine replicas run on: this one, by default."""
        return os.cpu_count() or 1, os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")

    def replicas(self, name: str, deployment: str) -> list[ReplicaStatus]:
        """The replicas of one deployment with their host URLs (for reload and debug)."""
        endpoint = self._one(name)
        found = endpoint.deployment(deployment)
        if found is None:
            raise no_deployment(name, deployment, [d.name for d in endpoint.deployments])
        return list(found.replica_status)

    def _one(self, name: str) -> EndpointStatus:
        """The status of running endpoint ``name``, or EndpointNotFound naming the others."""
        found = self.status(name)
        if not found:
            raise EndpointNotFound(not_found(name, self.name, self.names()))
        return found[0]

    def _endpoint_status(self, name: str, deployments: Sequence[DeploymentStatus],
                         router_url: str | None) -> EndpointStatus:
        scaled = scale_record.read_status(name)  # what the autoscaler last wrote
        deployments = [dataclasses.replace(d, scale=scaled[d.name]) if d.name in scaled else d
                       for d in deployments]
        live = routing.live_view(name)
        uri = f"{router_url}/score" if router_url else None
        return EndpointStatus(name, uri, live.auth_mode, self.name, tuple(deployments))


def no_deployment(endpoint: str, deployment: str, names: list[str]) -> EndpointNotFound:
    """The one sentence for a deployment name the endpoint does not have."""
    listed = ", ".join(names) or "none"
    return EndpointNotFound(f"Endpoint '{endpoint}' has no deployment '{deployment}' "
                            f"(deployments: {listed}); pick one of those.")


def not_found(name: str, engine: str, running: list[str]) -> str:
    """The EndpointNotFound sentence: what is running instead, and how to start it."""
    others = ", ".join(sorted(running)) if running else "none"
    return (f"No endpoint named '{name}' runs on the {engine} engine (running: {others}); "
            f"start it with `devkit up PATH` or check the name with `devkit status`.")
