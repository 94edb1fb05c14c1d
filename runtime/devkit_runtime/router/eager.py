"""Running a connection's answer coroutine without an ``asyncio.Task`` per request.

A Task per proxied request cost the router about 6% of its instructions: the Task
object, its registration in asyncio's ``WeakSet`` of all tasks (Python code, with a
weakref callback when it dies), one ``call_soon`` to take the first step and one to run
its done callbacks. :class:`Eager` drives the coroutine the way ``Task.__step`` does —
``send`` until it yields a future, resume it when that future is done — and takes the
first step at once, as Python 3.12's eager tasks do, so a proxied request is written to
the replica in the same loop turn that parsed it.

What it gives up, and why that is safe here: the coroutine has no ``current_task()``, so
it must not use ``asyncio.timeout`` (the router's request path keeps deadlines with
:mod:`deadlines`, and a fresh upstream connection uses ``wait_for``); it runs in the
caller's context (the router sets no context variables). :meth:`cancel` is a Task's:
the future it waits on is cancelled, so ``CancelledError`` is raised where it awaits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("devkit.router")


class Eager:
    """Runs ``coroutine`` (an answer, which handles its own errors) to its end."""

    __slots__ = ("_coroutine", "_waiting", "_loop")

    def __init__(self, coroutine: Coroutine[Any, Any, None],
                 loop: asyncio.AbstractEventLoop) -> None:
        self._coroutine = coroutine
        self._loop = loop
        self._waiting: asyncio.Future[Any] | None = None
        self._step()

    def cancel(self) -> None:
        waiting = self._waiting
        if waiting is not None and not waiting.done():
            waiting.cancel()

    def _step(self, _: object = None) -> None:
        self._waiting = None
        try:
            waited = self._coroutine.send(None)
        except StopIteration:
            return
        except asyncio.CancelledError:
            return  # cancelled at a stop: its finally clauses ran
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # the answer catches its errors; this is a bug of its own
            log.exception("an answer failed outside its own error handling")
            return
        if waited is None:  # a bare yield (asyncio.sleep(0)): run again on the next turn
            self._loop.call_soon(self._step)
            return
        # What a Task checks too: only a future awaited with ``await`` may be yielded.
        if not getattr(waited, "_asyncio_future_blocking", False):
            log.error("an answer yielded %r, not a future; closed", waited)
            self._coroutine.close()  # its finally clauses run
            return
        waited._asyncio_future_blocking = False
        self._waiting = waited
        waited.add_done_callback(self._step)
