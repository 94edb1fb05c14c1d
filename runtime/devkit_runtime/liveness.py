"""The deployment's ``liveness_probe``, enforced by the supervisor on its own workers.

Azure's kubelet probes the server over HTTP and restarts the container after
``failure_threshold`` failures in a row. Here the supervisor does it, so it works on both
engines and after the CLI exited. It probes each worker over that worker's control
channel rather than over HTTP: the workers share one listening socket, so an HTTP probe
reaches whichever worker the kernel picks and cannot say which one is stuck. The probe
asks the worker's event loop, which answers with the worker's own verdict
(:meth:`WorkerState.liveness`, also served as ``GET /-/live``):

* no answer within ``timeout``: the event loop is blocked (a run() holding the GIL in C
  code, a deadlock in the server itself);
* an ``init()`` still running after ``initial_delay`` (probing starts only then);
* a ``run()`` written off by its timeout that has not returned (a hung run() costs a
  thread per request otherwise, forever).

A failed ``init()`` is live (not ready): the server stays up for a reload to fix it. A
worker that has not said hello (its first control line, sent once its event loop runs) is
still booting (importing the server): its silence counts only after ``initial_delay`` +
``BOOT_GRACE_S``. Under a debugger nothing
is enforced: a breakpoint stops every thread, and that is not a hang.
After ``failure_threshold`` failures in a row the worker is killed (SIGKILL: a wedged
worker runs no signal handler) and the supervisor's usual restart takes over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from devkit_runtime.config import ServerConfig

if TYPE_CHECKING:
    from devkit_runtime.supervisor import Supervisor, WorkerHandle

log = logging.getLogger("devkit_runtime")
BOOT_GRACE_S = 30.0


@dataclass(frozen=True)
class LivenessProbe:
    initial_delay: float
    period: float
    timeout: float
    failure_threshold: int

    @classmethod
    def of(cls, config: ServerConfig) -> LivenessProbe | None:
        if config.liveness_period <= 0:
            return None
        if config.debug_port is not None:
            log.info("a debug port is set: the liveness probe is not enforced")
            return None
        return cls(config.liveness_initial_delay, config.liveness_period,
                   max(0.1, config.liveness_timeout), config.liveness_failure_threshold)


async def enforce(supervisor: Supervisor, probe: LivenessProbe) -> None:
    """Probe every worker each ``period`` until the supervisor stops."""
    log.info("liveness probe: every %gs after %gs, %gs timeout, restart after %d failures",
             probe.period, probe.initial_delay, probe.timeout, probe.failure_threshold)
    while not supervisor.stopping.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(supervisor.stopping.wait(), probe.period)
        workers = [w for w in supervisor.workers.values()
                   if w.process.poll() is None and w.killed_for is None
                   and time.monotonic() - w.started >= probe.initial_delay]
        await asyncio.gather(*(check(supervisor, w, probe) for w in workers))


async def check(supervisor: Supervisor, worker: WorkerHandle, probe: LivenessProbe) -> None:
    reason = await worker.ping(probe.timeout)
    if reason is None:
        worker.liveness_failures = 0
        return
    booting = time.monotonic() - worker.started < probe.initial_delay + BOOT_GRACE_S
    if not worker.answered.is_set() and booting:
        return
    worker.liveness_failures += 1
    if worker.liveness_failures == 1:
        log.warning("worker %d (pid %d) failed its liveness probe: %s", worker.slot,
                    worker.process.pid, reason)
    if worker.liveness_failures < probe.failure_threshold:
        return
    why = f"liveness probe failed {worker.liveness_failures} times in a row: {reason}"
    log.error("worker %d (pid %d): %s; killing it to restart it", worker.slot,
              worker.process.pid, why)
    worker.killed_for = why
    supervisor.events.liveness_restarts += 1
    with contextlib.suppress(ProcessLookupError):
        worker.process.kill()
