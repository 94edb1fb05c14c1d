"""Runs the user's run() off the event loop, with a per-request timeout.

A small pool of threads (default one: azmlinfsrv's sync workers call run() one request at
a time per process, and scoring scripts rely on that) takes jobs from a queue. Each job's
outcome comes back to the event loop as a future. When a job overruns its timeout the
waiting request gets :class:`RunTimeout` at once, the stuck thread is written off and a
fresh thread takes its place, so a hung run() costs one thread, not the server. The
written-off thread exits if run() ever returns.

This is the server's hot path, so the hand-off is built for throughput (measured in
BENCHMARKS.md, "Inference server vs azmlinfsrv"):

* outcomes go back through one deque; a thread wakes the loop (``call_soon_threadsafe``,
  a self-pipe write and read) only when no wake-up is already pending, so one wake-up
  settles every outcome that finished meanwhile;
* timeouts are a watchdog, not a timer per request: jobs wait in submission order in
  ``_watched`` and a single loop timer, armed for the earliest deadline, expires what is
  overdue and re-arms. Settled jobs leave the front of the deque as they finish; with
  several threads a long run() can hold the front, so the deque is also compacted
  whenever it doubles (amortised O(1) per call, bounded by twice the calls in flight).
"""

from __future__ import annotations

import asyncio
import collections
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

Outcome = tuple[Any, float]  # run()'s return value and its time in ms
COMPACT_MIN = 1024


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


QUEUED, RUNNING, FINISHED, ABANDONED = range(4)


class _Job:
    """One call of run(). ``state`` moves QUEUED -> RUNNING -> FINISHED in its thread, or
    to ABANDONED by the watchdog, under the pool's lock: never both FINISHED and ABANDONED."""

    __slots__ = ("func", "kwargs", "future", "deadline", "timeout_ms", "state")

    def __init__(self, func: Callable[..., Any], kwargs: dict[str, Any],
                 future: asyncio.Future[Outcome], deadline: float, timeout_ms: int) -> None:
        self.func = func
        self.kwargs = kwargs
        self.future = future
        self.deadline = deadline
        self.timeout_ms = timeout_ms
        self.state = QUEUED


class RunPool:
    """Threads that call run(); ``await pool.call(func, kwargs, timeout_ms)``.

    Serves the one event loop that first calls it (each worker process has one).
    """

    def __init__(self, size: int = 1, name: str = "run") -> None:
        self._size = max(1, size)
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._done: collections.deque[tuple[_Job, bool, Any, float]] = collections.deque()
        self._wake_pending = False
        self._watched: collections.deque[_Job] = collections.deque()
        self._compact_at = COMPACT_MIN
        self._timer: asyncio.TimerHandle | None = None
        self._timer_when = float("inf")  # when the armed timer fires; inf when none is
        self._loop: asyncio.AbstractEventLoop | None = None
        self._spawned = 0
        self.abandoned = 0
        # Jobs written off by the timeout whose run() has not returned yet: a run() that
        # never returns is what the liveness probe restarts a worker for (stuck_for()).
        self._stuck: dict[_Job, float] = {}
        for _ in range(self._size):
            self._spawn()

    async def call(self, func: Callable[..., Any], kwargs: dict[str, Any],
                   timeout_ms: int) -> Outcome:
        """Return ``(result, elapsed_ms)``; raise RunFailed or RunTimeout."""
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_ms / 1000
        job = _Job(func, kwargs, loop.create_future(), deadline, timeout_ms)
        self._watched.append(job)
        if deadline < self._timer_when:
            self._arm(deadline)
        self._jobs.put(job)
        return await job.future

    def stuck_for(self) -> float | None:
        """Seconds since the oldest run() still running passed its timeout (it was
        answered and written off, but has not returned); None when none is stuck."""
        with self._lock:
            oldest = min(self._stuck.values(), default=None)
        if oldest is None or self._loop is None:
            return None
        return max(0.0, self._loop.time() - oldest)

    def close(self) -> None:
        for _ in range(self._spawned):
            self._jobs.put(None)
        if self._timer is not None:
            self._timer.cancel()
            self._timer, self._timer_when = None, float("inf")

    # -- event loop side ---------------------------------------------------------------

    def _arm(self, deadline: float) -> None:
        assert self._loop is not None
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_at(deadline, self._watchdog)
        self._timer_when = deadline

    def _watchdog(self) -> None:
        """Expire every overdue job, forget settled ones, re-arm for the next deadline."""
        self._timer, self._timer_when = None, float("inf")
        assert self._loop is not None
        now = self._loop.time()
        waiting: collections.deque[_Job] = collections.deque()
        for job in self._watched:
            if job.future.done():
                continue
            if job.deadline <= now:
                self._expire(job)
            else:
                waiting.append(job)
        self._watched = waiting
        if waiting:
            self._arm(min(job.deadline for job in waiting))

    def _expire(self, job: _Job) -> None:
        with self._lock:
            if job.state == FINISHED:
                return  # the result is already on its way to the loop
            running = job.state == RUNNING
            job.state = ABANDONED
            if running:
                self._stuck[job] = job.deadline
        job.future.set_exception(RunTimeout(job.timeout_ms))
        if running:
            self.abandoned += 1
            self._spawn()  # keep the pool at full strength while the stuck thread hangs

    def _drain(self) -> None:
        """Settle every outcome the threads queued since the last wake-up."""
        self._wake_pending = False  # before popping: a later outcome schedules a new drain
        done, watched = self._done, self._watched
        while done:
            job, ok, value, elapsed_ms = done.popleft()
            _settle(job.future, ok, value, elapsed_ms)
        while watched and watched[0].future.done():
            watched.popleft()
        if len(watched) > self._compact_at:
            self._watched = collections.deque(job for job in watched if not job.future.done())
            self._compact_at = max(COMPACT_MIN, 2 * len(self._watched))

    # -- run() threads -----------------------------------------------------------------

    def _spawn(self) -> None:
        self._spawned += 1
        thread = threading.Thread(target=self._work, name=f"{self._name}-{self._spawned}",
                                  daemon=True)
        thread.start()

    def _work(self) -> None:
        lock, done = self._lock, self._done
        while True:
            job = self._jobs.get()
            if job is None:
                return
            with lock:
                if job.state == ABANDONED:
                    continue  # timed out while queued: its caller has its answer
                job.state = RUNNING
            start = time.perf_counter()
            try:
                ok, value = True, job.func(**job.kwargs)
            except BaseException as exc:  # the script's failure is data for the caller
                ok, value = False, exc
            elapsed_ms = (time.perf_counter() - start) * 1000
            with lock:
                if job.state == ABANDONED:
                    self._stuck.pop(job, None)
                    return  # a replacement already serves the queue
                job.state = FINISHED
            done.append((job, ok, value, elapsed_ms))
            if not self._wake_pending:
                self._wake_pending = True
                assert self._loop is not None
                try:
                    self._loop.call_soon_threadsafe(self._drain)
                except RuntimeError:
                    return  # the loop closed under us: the worker is shutting down


def _settle(future: asyncio.Future[Outcome], ok: bool, value: Any, elapsed_ms: float) -> None:
    if future.done():
        return  # the caller went away (cancelled)
    if ok:
        future.set_result((value, elapsed_ms))
    else:
        failure = RunFailed(value, elapsed_ms)
        failure.__cause__ = value
        future.set_exception(failure)
