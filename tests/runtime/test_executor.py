"""RunPool, the thread hand-off under every run() call: results and failures come back to
the right caller, a hung call times out while the pool keeps serving at full strength, a
call that timed out while still queued never runs, and a burst settles every caller."""

from __future__ import annotations

import asyncio
import threading

import pytest
from devkit_runtime.executor import COMPACT_MIN, RunFailed, RunPool, RunTimeout


def _echo(value: object) -> object:
    return value


def _boom(message: str) -> None:
    raise ValueError(message)


def test_results_and_failures_reach_their_callers() -> None:
    async def scenario() -> None:
        pool = RunPool()
        try:
            results = await asyncio.gather(
                *(pool.call(_echo, {"value": index}, 5000) for index in range(500)))
            assert [value for value, _ in results] == list(range(500))
            assert all(elapsed_ms >= 0 for _, elapsed_ms in results)
            with pytest.raises(RunFailed) as failed:
                await pool.call(_boom, {"message": "bad input"}, 5000)
            assert isinstance(failed.value.error, ValueError)
            assert failed.value.__cause__ is failed.value.error
            assert str(failed.value) == "bad input"
        finally:
            pool.close()

    asyncio.run(scenario())


def test_hung_call_times_out_and_a_fresh_thread_serves_the_rest() -> None:
    release = threading.Event()
    ran: list[str] = []

    def hang(name: str) -> str:
        ran.append(name)
        release.wait(30)
        return name

    def record(name: str) -> str:
        ran.append(name)
        return name

    async def scenario() -> None:
        pool = RunPool()
        try:
            hung = asyncio.ensure_future(pool.call(hang, {"name": "hung"}, 300))
            await asyncio.sleep(0.05)  # the hung call is running, not queued
            # queued behind it with a shorter deadline: times out before a thread frees up
            doomed = asyncio.ensure_future(pool.call(record, {"name": "doomed"}, 100))
            with pytest.raises(RunTimeout) as timeout:
                await doomed
            assert str(timeout.value) == "Scoring timeout after 100 ms"
            with pytest.raises(RunTimeout):
                await hung
            assert pool.abandoned == 1  # only the running call cost a thread
            value, _ = await pool.call(record, {"name": "after"}, 5000)
            assert value == "after"
            assert "doomed" not in ran  # its caller already had the timeout answer
        finally:
            release.set()
            pool.close()

    asyncio.run(scenario())


def test_many_timeouts_with_different_deadlines_expire_in_deadline_order() -> None:
    release = threading.Event()

    async def scenario() -> None:
        pool = RunPool()
        try:
            waits = {ms: asyncio.ensure_future(pool.call(release.wait, {"timeout": 30}, ms))
                     for ms in (400, 100, 250)}
            finished: list[int] = []
            for future in asyncio.as_completed(waits.values()):
                with pytest.raises(RunTimeout) as timeout:
                    await future
                finished.append(timeout.value.timeout_ms)
            assert finished == [100, 250, 400]
        finally:
            release.set()
            pool.close()

    asyncio.run(scenario())


def test_a_long_call_at_the_front_does_not_make_finished_calls_pile_up() -> None:
    release = threading.Event()

    async def scenario() -> None:
        pool = RunPool(size=2)
        try:
            slow = asyncio.ensure_future(pool.call(release.wait, {"timeout": 30}, 60_000))
            for _batch in range(10):
                await asyncio.gather(*(pool.call(_echo, {"value": n}, 60_000)
                                       for n in range(500)))
            # 5,000 calls settled behind the slow one; the watchdog list stays bounded
            assert len(pool._watched) <= 2 * COMPACT_MIN
            release.set()
            assert (await slow)[0] is True
        finally:
            release.set()
            pool.close()

    asyncio.run(scenario())
