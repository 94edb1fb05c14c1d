"""Runs the user's run() off the event loop, with a per-request timeout.

A small pool of threads (default one: azmlinfsrv's sync workers call run() one request at
a time per process, and scoring scripts rely on that) takes jobs from a queue. Each job's
outcome comes back to the event loop as a future. When a job overruns its timeout the
waiting request gets :class:`RunTimeout` at once, the stuck thread is written off and a
fresh thread takes its place, so a hung run() costs one thread, not the server. The
written-off thread exits if run() ever returns.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class RunTimeout(Exception):
    """run() did not finish within the scoring timeout."""

    def __init__(self, timeout_ms: int) -> None:
        super().__init__(f"Scoring timeout after {timeout_ms} ms")
        self.timeout_ms = timeout_ms


class RunFailed(Exception):
    """run() raised; the original exception is ``__cause__`` and ``error``."""

    def __init__(self, error: BaseException, elapsed_ms: float) -> None:
        super().__init__(str(error))
        self.error = error
        self.elapsed_ms = elapsed_ms


@dataclass
class _Job:
    func: Callable[..., Any]
    kwargs: dict[str, Any]
    future: asyncio.Future[tuple[Any, float]]
    loop: asyncio.AbstractEventLoop
    abandoned: bool = False
    finished: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class RunPool:
    """Threads that call run(); ``await pool.call(func, kwargs, timeout_ms)``."""

    def __init__(self, size: int = 1, name: str = "run") -> None:
        self._size = max(1, size)
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._spawned = 0
        self.abandoned = 0
        for _ in range(self._size):
            self._spawn()

    async def call(self, func: Callable[..., Any], kwargs: dict[str, Any],
                   timeout_ms: int) -> tuple[Any, float]:
        """Return ``(result, elapsed_ms)``; raise RunFailed or RunTimeout."""
        loop = asyncio.get_running_loop()
        job = _Job(func, kwargs, loop.create_future(), loop)
        self._jobs.put(job)
        timer = loop.call_later(timeout_ms / 1000, self._expire, job, timeout_ms)
        try:
            return await job.future
        finally:
            timer.cancel()

    def close(self) -> None:
        for _ in range(self._spawned):
            self._jobs.put(None)

    def _expire(self, job: _Job, timeout_ms: int) -> None:
        with job.lock:
            if job.finished or job.future.done():
                return  # the result is already on its way to the loop
            job.abandoned = True
            job.future.set_exception(RunTimeout(timeout_ms))
        self.abandoned += 1
        self._spawn()  # keep the pool at full strength while the stuck thread hangs

    def _spawn(self) -> None:
        self._spawned += 1
        thread = threading.Thread(target=self._work, name=f"{self._name}-{self._spawned}",
                                  daemon=True)
        thread.start()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            start = time.perf_counter()
            try:
                outcome: tuple[bool, Any] = (True, job.func(**job.kwargs))
            except BaseException as exc:  # the script's failure is data for the caller
                outcome = (False, exc)
            elapsed_ms = (time.perf_counter() - start) * 1000
            with job.lock:
                if job.abandoned:
                    return  # a replacement already serves the queue
                job.finished = True
                job.loop.call_soon_threadsafe(_settle, job.future, outcome, elapsed_ms)


def _settle(future: asyncio.Future[tuple[Any, float]], outcome: tuple[bool, Any],
            elapsed_ms: float) -> None:
    if future.done():
        return
    ok, value = outcome
    if ok:
        future.set_result((value, elapsed_ms))
    else:
        failure = RunFailed(value, elapsed_ms)
        failure.__cause__ = value
        future.set_exception(failure)
