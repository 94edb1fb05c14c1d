"""Waiting for a replica to become ready, the way a readiness probe would, only faster.

Azure probes every ``period`` seconds after ``initial_delay``; a local server is usually
ready within a second, so devkit polls quickly (10 ms at first, backing off to 100 ms, over
one kept-alive HTTP client: a fresh ``httpx.get`` builds a TLS context each time, ~10 ms of
CPU taken from the replica that is starting) and uses the probe settings only to bound the
total wait:
``initial_delay + period × failure_threshold``. An ``init()`` failure is final (the
runtime answers 503 with the error), so it ends the wait at once instead of burning the
whole budget. A bring-your-own-container image is probed on its own readiness route
instead (:func:`probe_route`, any 2xx is ready).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import httpx

from devkit.engines.status import DeploymentState, Progress
from devkit.errors import DevkitError
from devkit.spec.model import ProbeSettings

READY_PATH = "/-/ready"  # the runtime's (devkit_runtime.wire.READY_PATH)


@dataclass(frozen=True)
class Probe:
    """One look at a replica: its state, and the runtime's error when unhealthy."""

    state: DeploymentState
    error: str | None = None
    cause: str | None = None  # "script" or "environment", as the runtime diagnosed it


def probe_once(url: str, timeout: float = 1.0, client: httpx.Client | None = None) -> Probe:
    """``GET /-/ready`` on ``url``: ready, unhealthy (with the error and traceback the
    runtime reports), or starting (not answering yet)."""
    # The runtime's wire module is imported here, not at the top: `import devkit.engines`
    # must work where only devkit itself is installed (a wheel without its runtime).
    from devkit_runtime.wire import READY_PATH

    try:
        response = (client or httpx).get(url + READY_PATH, timeout=timeout)
    except httpx.HTTPError:
        return Probe(DeploymentState.STARTING)
    return answer_probe(response.status_code, response.content)


def answer_probe(status: int, body: bytes, route: str | None = None) -> Probe:
    """What a readiness answer means, however it was fetched (from the host, or inside
    a container: :mod:`devkit.engines.docker.probe`). ``route``: a BYOC image's own
    readiness path, where any 2xx is ready and anything else unhealthy."""
    from devkit_runtime.wire import Readiness  # see probe_once

    if route is not None:
        if 200 <= status < 300:
            return Probe(DeploymentState.READY)
        return Probe(DeploymentState.UNHEALTHY,
                     f"its readiness route GET {route} answered {status}")
    if status == 200:
        return Probe(DeploymentState.READY)
    ready = Readiness.parse(body)
    error = ready.error_text()
    if error:
        return Probe(DeploymentState.UNHEALTHY, error, ready.cause)
    return Probe(DeploymentState.STARTING)


def probe_route(url: str, path: str, timeout: float = 1.0,
                client: httpx.Client | None = None) -> Probe:
    """``GET path`` on a bring-your-own-container replica: any 2xx is ready; another
    answer is unhealthy, saying what it answered; no answer is starting."""
    try:
        response = (client or httpx).get(url + path, timeout=timeout)
    except httpx.HTTPError:
        return Probe(DeploymentState.STARTING)
    if response.is_success:
        return Probe(DeploymentState.READY)
    return Probe(DeploymentState.UNHEALTHY,
                 f"its readiness route GET {path} answered {response.status_code} "
                 f"{response.reason_phrase}".rstrip())


@dataclass(frozen=True)
class WaitOutcome:
    """How a wait ended: ``state`` READY or UNHEALTHY, or STOPPED when the replica died
    (``error`` says why), or STARTING when the budget ran out."""

    state: DeploymentState
    error: str | None = None


# Returns None while the replica's container/process runs, else why it stopped.
Liveness = Callable[[], "str | None"]


@dataclass(frozen=True)
class ReadinessWait:
    """Poll until ready. With ``route`` (a BYOC readiness path) the image's own route is
    polled instead of the runtime's, and a non-2xx answer is not final (the image says
    nothing more than "not yet"); the last one is the outcome's error on a timeout."""

    probe: ProbeSettings
    first_interval: float = 0.01
    max_interval: float = 0.1  # a replica is seen ready within 0.1 s of becoming so
    route: str | None = None

    @property
    def budget(self) -> float:
        p = self.probe
        return float(p.initial_delay + p.period * max(p.failure_threshold, 1))

    def wait(self, url: str, alive: Liveness) -> WaitOutcome:
        with httpx.Client() as client:  # one client: one TLS context, kept connections
            return self._wait(url, alive, client)

    def _wait(self, url: str, alive: Liveness, client: httpx.Client) -> WaitOutcome:
        deadline = time.monotonic() + self.budget
        interval = self.first_interval
        last: str | None = None
        while True:
            result = self._probe(url, client)
            if result.state is DeploymentState.READY or (
                    result.state is DeploymentState.UNHEALTHY and self.route is None):
                return WaitOutcome(result.state, result.error)
            last = result.error or last
            stopped = alive()
            if stopped is not None:
                return WaitOutcome(DeploymentState.STOPPED, stopped)
            if time.monotonic() >= deadline:
                return WaitOutcome(DeploymentState.STARTING, last)
            time.sleep(interval)
            # A refused loopback connection costs tens of microseconds: poll often.
            interval = min(interval * 1.5, float(max(self.probe.period, 1)),
                           self.max_interval)

    def _probe(self, url: str, client: httpx.Client) -> Probe:
        timeout = float(max(self.probe.timeout, 1))
        if self.route is not None:
            return probe_route(url, self.route, timeout, client)
        return probe_once(url, timeout, client)


Replica = TypeVar("Replica")


def settle(jobs: Sequence[tuple[str, Replica]],
           wait: Callable[[tuple[str, Replica]], WaitOutcome],
           failure: Callable[[str, Replica, WaitOutcome], DevkitError],
           progress: Progress) -> dict[str, DevkitError]:
    """Wait for every new replica at once; return the first failure of each deployment
    whose replica died or never got ready. Unhealthy ones (init() failed) are reported
    and count as started: they stay up so hot reload can fix them."""
    with ThreadPoolExecutor(max_workers=max(len(jobs), 1)) as pool:
        outcomes = list(pool.map(wait, jobs))
    failed: dict[str, DevkitError] = {}
    for (name, replica), outcome in zip(jobs, outcomes, strict=True):
        if outcome.state is DeploymentState.UNHEALTHY:
            first = (outcome.error or "").splitlines()[:1]
            progress(f"{name}: unhealthy, init() failed: {' '.join(first)}")
        elif outcome.state is not DeploymentState.READY and name not in failed:
            failed[name] = failure(name, replica, outcome)
    return failed
