"""``request_timeout_ms`` for upstream requests: one loop timer, not one per request.

``asyncio.timeout`` per request costs a context manager, a timer handle scheduled and
cancelled, and the task-cancellation bookkeeping that turns a cancel into
``TimeoutError`` — on every proxied request, though almost none ever times out. As the
runtime's executor does for ``run()``, a watchdog holds the connections waiting for an
answer, each with its deadline (loop time), and one timer armed for the earliest of them.
When it fires, it expires what is overdue (:meth:`Watched.expire`: the waiting request
gets ``TimeoutError``, the connection is closed), forgets connections that are no longer
waiting, and re-arms for the next deadline. The set holds connections, not requests, so
it is bounded by the connections open, whatever the request rate; a request pays one
attribute write, one set insertion and one comparison.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

# asyncio runs a timer up to its clock resolution early, and uvloop's clock counts
# milliseconds; a deadline this close to "now" is due (1 ms of a request_timeout_ms).
SLACK_S = 0.001


class Watched(Protocol):
    """What the watchdog needs of a connection."""

    deadline: float

    @property
    def waiting(self) -> bool:
        """Whether a request on it is still waiting for its answer."""

    def expire(self) -> None:
        """Fail the waiting request with ``TimeoutError`` and close the connection."""


class Deadlines:
    """The watchdog of one router's upstream connections (see the module docstring)."""

    def __init__(self) -> None:
        self._watched: set[Watched] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._when = float("inf")

    def watch(self, connection: Watched, deadline: float) -> None:
        """Expire ``connection``'s request at ``deadline`` unless it was answered."""
        connection.deadline = deadline
        self._watched.add(connection)
        if deadline < self._when:
            self._arm(deadline)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._when = None, float("inf")
        self._watched.clear()

    def _arm(self, deadline: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_at(deadline, self._fire)
        self._when = deadline

    def _fire(self) -> None:
        self._timer, self._when = None, float("inf")
        now = asyncio.get_running_loop().time() + SLACK_S
        earliest = float("inf")
        for connection in list(self._watched):
            if not connection.waiting:
                self._watched.discard(connection)
            elif connection.deadline <= now:
                self._watched.discard(connection)
                connection.expire()
            elif connection.deadline < earliest:
                earliest = connection.deadline
        if earliest < float("inf"):
            self._arm(earliest)
