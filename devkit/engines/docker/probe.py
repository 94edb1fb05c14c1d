"""Asking a replica container how it is, when none of its ports is published.

Only the router is reachable from the host by default, so the CLI reaches a replica's
readiness route from inside its container: ``docker exec <container> python3 -c PROBE``,
a stdlib one-liner that GETs ``http://127.0.0.1:PORT/PATH`` and prints the status and
body. Why exec rather than through the router: the router starts only once the replicas
are ready (``up`` waits for them first), it has no route to a replica's admin or
readiness port by design, and exec works the same on Docker Desktop, where container
addresses are not reachable from the host.

Waiting during ``up`` is one exec per replica whose loop polls inside the container every
20 ms until ready, an ``init()`` failure (the runtime's body names an ``error``) or the
budget, so a replica is seen ready as soon as the host's own 50-200 ms polling saw it
(measured in ``bench/bench_probe.py``: BENCHMARKS.md). A bring-your-own-container image
may have no Python: then (exit 126/127) the probe goes to the container's address on
the endpoint network, which a Linux host reaches directly.
"""

from __future__ import annotations

import json
import time
from typing import Any

import docker.errors
import httpx
from docker.models.containers import Container

from devkit.engines.readiness import Liveness, Probe, ReadinessWait, WaitOutcome, answer_probe
from devkit.engines.status import DeploymentState

# argv: port, path, seconds to keep trying, "1" to stop at an answer naming an error
# (the runtime's init() failure), per-request timeout, the worker events file. Prints
# "STATUS\nEVENTS\nBODY": status 0 when nothing answered (then the body says why), EVENTS
# the supervisor's record of its workers' restarts on one line ("{}" without one).
PROBE = r"""
import sys, time, urllib.request, urllib.error
port, path, wait, final, timeout, events = sys.argv[1:7]
try:
    with open(events) as f:
        events = " ".join(f.read().split()) or "{}"
except OSError:
    events = "{}"
url = "http://127.0.0.1:%s%s" % (port, path)
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
deadline = time.monotonic() + float(wait)
last = "0\n%s\nnothing answered" % events
while True:
    try:
        with opener.open(url, timeout=float(timeout)) as r:
            sys.stdout.write("%d\n%s\n%s" % (r.status, events,
                                               r.read().decode("utf-8", "replace")))
            sys.exit(0)
    except urllib.error.HTTPError as e:
        body = e.read().decode("utf-8", "replace")
        last = "%d\n%s\n%s" % (e.code, events, body)
        if final == "1" and '"error"' in body:
            break
    except Exception as e:
        last = "0\n%s\n%s" % (events, e)
    if time.monotonic() >= deadline:
        break
    time.sleep(0.02)
sys.stdout.write(last)
"""
EVENTS_ENV = "DEVKIT_WORKER_EVENTS"  # devkit_runtime.supervisor.EVENTS_ENV
EVENTS_PATH = "/tmp/devkit-worker-events.json"  # its value in every replica container
NO_PYTHON = (126, 127)  # docker exec: not executable / not found
PYTHONS = ("python3", "python")  # devkit's base image has only python3; some have python


class NoPython(Exception):
    """The image has no ``python`` to run the probe with."""


def exec_probe(container: Container, port: int, path: str, wait_s: float = 0.0,
               final: bool = True, timeout_s: float = 1.0) -> tuple[int, str] | None:
    """(status, body) of ``GET path`` inside the container, status 0 when nothing
    answered; None when the container does not run (exec is refused)."""
    found = exec_probe_events(container, port, path, wait_s, final, timeout_s)
    return None if found is None else (found[0], found[2])


def exec_probe_events(container: Container, port: int, path: str, wait_s: float = 0.0,
                      final: bool = True, timeout_s: float = 1.0
                      ) -> tuple[int, dict[str, Any], str] | None:
    """:func:`exec_probe`, with the supervisor's worker events (restarts) in between."""
    args = [str(port), path, f"{max(wait_s, 0.0):.3f}", "1" if final else "0",
            f"{timeout_s:g}", EVENTS_PATH]
    for python in PYTHONS:
        try:
            code, output = container.exec_run([python, "-c", PROBE, *args])
        except docker.errors.APIError:  # 409: not running (exited, restarting, paused)
            return None
        text = bytes(output or b"").decode("utf-8", errors="replace")
        if code in NO_PYTHON and "exec" in text:
            continue
        status, _, rest = text.partition("\n")
        events_line, _, body = rest.partition("\n")
        if not status.strip().isdigit():
            return (0, {}, text)
        try:
            events = json.loads(events_line)
        except ValueError:
            events = {}
        return int(status), events if isinstance(events, dict) else {}, body
    raise NoPython(f"container {container.name} has neither {' nor '.join(PYTHONS)}")


def probe(container: Container, port: int, path: str,
          byoc: bool) -> tuple[Probe, dict[str, Any]]:
    """One look at a replica's readiness route (for ``status``), and its worker events."""
    try:
        answer = exec_probe_events(container, port, path, final=True)
    except NoPython:
        return _network_probe(container, port, path, byoc), {}
    if answer is None or answer[0] == 0:
        return Probe(DeploymentState.STARTING), answer[1] if answer else {}
    return answer_probe(answer[0], answer[2].encode(), path if byoc else None), answer[1]


def wait_ready(container: Container, port: int, path: str, byoc: bool, wait: ReadinessWait,
               alive: Liveness) -> WaitOutcome:
    """Wait until the replica is ready, unhealthy (``init()`` failed: final unless BYOC),
    dead, or out of budget; one exec per try, each looping inside the container."""
    deadline = time.monotonic() + wait.budget
    last: str | None = None
    while True:
        remaining = deadline - time.monotonic()
        try:
            answer = exec_probe(container, port, path, wait_s=remaining, final=not byoc,
                                timeout_s=float(max(wait.probe.timeout, 1)))
        except NoPython:
            return _network_wait(container, port, wait, alive)
        if answer is not None and answer[0]:
            found = answer_probe(answer[0], answer[1].encode(), path if byoc else None)
            if found.state is DeploymentState.READY or (
                    found.state is DeploymentState.UNHEALTHY and not byoc):
                return WaitOutcome(found.state, found.error)
            last = found.error or last
        stopped = alive()
        if stopped is not None:
            return WaitOutcome(DeploymentState.STOPPED, stopped)
        if time.monotonic() >= deadline:
            return WaitOutcome(DeploymentState.STARTING, last)
        time.sleep(0.05)  # exec refused while it (re)starts: try again shortly


def network_url(container: Container, port: int) -> str | None:
    """``http://IP:port`` of the container on its (first) network, when it has one."""
    networks: dict[str, Any] = container.attrs.get("NetworkSettings", {}).get("Networks") or {}
    for settings in networks.values():
        if settings.get("IPAddress"):
            return f"http://{settings['IPAddress']}:{port}"
    return None


def _network_probe(container: Container, port: int, path: str, byoc: bool) -> Probe:
    url = network_url(container, port)
    if url is None:
        return Probe(DeploymentState.STARTING)
    try:
        response = httpx.get(url + path, timeout=1.0)
    except httpx.HTTPError:
        return Probe(DeploymentState.STARTING)
    return answer_probe(response.status_code, response.content, path if byoc else None)


def _network_wait(container: Container, port: int, wait: ReadinessWait,
                  alive: Liveness) -> WaitOutcome:
    url = network_url(container, port)
    if url is None:
        return WaitOutcome(DeploymentState.STOPPED, "the container has no network address")
    return wait.wait(url, alive)
