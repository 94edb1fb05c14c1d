"""Writing collected events to files off the request path: a bounded queue, one thread.

Files follow Azure's layout under the deployment's folder::

    <collection>/yyyy/MM/dd/HH/<instance>.jsonl

with the date part cut to the ``rolling_rate`` (Year: ``yyyy``; Month: ``yyyy/MM``;
Day: ``yyyy/MM/dd``; Hour: ``yyyy/MM/dd/HH``; Minute: ``yyyy/MM/dd/HH/mm``), in UTC, from
the time each event was collected. A new partition folder is a new file: that is the roll.

The request path appends to a deque (``submit``); the thread drains it every ``INTERVAL``
(or at once on ``flush``/``close``) and writes. A small payload (what orjson encodes in a
few microseconds: a body or dict of the usual size) is rendered by ``submit`` itself; a
DataFrame or a large payload is rendered by the thread. Rendering everything on the
thread made it render a fifth of a second of events in one burst, holding the GIL against
the event loop: a collecting endpoint's p99 went from 2 to 12 ms and its throughput fell
more than the rendering's CPU time explains (BENCHMARKS.md). When it is full the event is dropped
and counted rather than blocking a request. A write that fails (full disk, unwritable
folder) is one warning naming the folder and the fix, and scoring goes on; the counters
say how much was lost. ``close`` drains the queue: clean shutdowns lose nothing.

The clock is injectable so rolling is tested without waiting for the hour to turn.
"""

from __future__ import annotations

import atexit
import functools
import itertools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable

from devkit_runtime.collection.events import EventFormat, Pending, SideFile
from devkit_runtime.collection.settings import CollectionSettings

Rendered = tuple[str, "bytes | SideFile"]  # (file, event line) rendered by submit()

log = logging.getLogger("devkit_runtime.collection")

MAX_QUEUE = 10_000  # events waiting per writer; beyond that new ones are dropped
# Events rendered between two writes. Each os.write hands the GIL back, so the server's
# event loop never waits behind more than one batch (~0.1 ms of rendering) for it.
BATCH = 32
# Payloads rendered by submit() itself (see the module docstring): bodies up to this many
# bytes, dicts and lists up to this many top-level items.
INLINE_BYTES = 64 * 1024
INLINE_ITEMS = 1024
MAX_PLACES = 256  # (collection, second) -> file entries cached before the cache restarts
INTERVAL = 0.2  # seconds between the writer's rounds when nobody asks for a flush
_APPEND = os.O_WRONLY | os.O_APPEND | os.O_CREAT
FORMATS = {"Year": "%Y", "Month": "%Y/%m", "Day": "%Y/%m/%d", "Hour": "%Y/%m/%d/%H",
           "Minute": "%Y/%m/%d/%H/%M"}


def partition(rolling_rate: str, when: float) -> str:
    """The date folders of an event collected at ``when`` (seconds since the epoch)."""
    return _partition(rolling_rate, int(when))


@functools.lru_cache(maxsize=16)
def _partition(rolling_rate: str, second: int) -> str:
    return time.strftime(FORMATS[rolling_rate], time.gmtime(second))


class EventWriter:
    """Owns one deployment's collected files in this process."""

    def __init__(self, settings: CollectionSettings, *, clock: Callable[[], float] = time.time,
                 max_queue: int = MAX_QUEUE) -> None:
        self.settings = settings
        self.clock = clock
        self.max_queue = max_queue
        self.written = 0
        self.dropped = 0
        # A deque, not a queue.Queue: append is atomic and takes no lock, and the writer
        # wakes on a timer instead of once per event (a thread switch per request would
        # cost the server more than the writing does).
        self._pending: deque[Pending | Rendered] = deque()
        self._submitted = itertools.count(1)
        self._last_submitted = 0
        self._handled = 0
        self._wake = threading.Event()
        self._stopping = False
        self._warned: set[str] = set()
        self._format = EventFormat(settings.source, settings.model_version)
        self._places: dict[tuple[str, int], tuple[str, str]] = {}
        self._thread = threading.Thread(target=self._run, name="devkit-collection",
                                        daemon=True)
        self._thread.start()
        _OPEN.add(self)

    def submit(self, pending: Pending) -> None:
        """Queue one event; never blocks, never raises."""
        if len(self._pending) >= self.max_queue:
            self.dropped += 1
            self._warn_once("full", f"data collection for {self.settings.deployment} is "
                            f"{self.max_queue} events behind; dropping new events until the "
                            "writer catches up (is the disk slow?)")
            return
        item = self._render(pending) if _cheap(pending.data) else pending
        if item is not None:
            self._pending.append(item)
            self._last_submitted = next(self._submitted)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is on disk (or ``timeout`` passed)."""
        target = self._last_submitted
        deadline = time.monotonic() + timeout
        self._wake.set()
        while self._handled < target and self._thread.is_alive() \
                and time.monotonic() < deadline:
            time.sleep(0.005)
        return self._handled >= target

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread."""
        _OPEN.discard(self)
        if not self._thread.is_alive():
            return
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout)

    # -- the writer thread ----------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait(INTERVAL)
            self._wake.clear()
            stopping = self._stopping
            while self._pending:
                batch = [self._pending.popleft()
                         for _ in range(min(BATCH, len(self._pending)))]
                self._write(batch)
                self._handled += len(batch)
            if stopping:
                return

    def _write(self, batch: list[Pending | Rendered]) -> None:
        groups: dict[str, list[bytes]] = {}
        for item in batch:
            rendered = item if isinstance(item, tuple) else self._render(item)
            if rendered is None:
                continue
            path, line = rendered
            if isinstance(line, SideFile):
                if not self._side(line.name, line.payload):
                    continue
                line = line.line
            chunk = groups.get(path)
            if chunk is None:
                groups[path] = [line]
            else:
                chunk.append(line)
        for path, lines in groups.items():
            self._append(path, lines)

    def _render(self, pending: Pending) -> Rendered | None:
        """(file, event line) of one event; None when it cannot be rendered (counted)."""
        key = (pending.collection, int(pending.time))
        place = self._places.get(key) or self._place(key)
        try:
            return place[0], self._format.render(pending, place[1])
        except Exception as exc:  # an object the user collected that cannot be JSON
            self.dropped += 1
            self._warn_once(f"render:{pending.collection}", f"cannot serialise data "
                            f"collected in '{pending.collection}' ({exc}); collect a "
                            "DataFrame, dict or list of JSON values")
            return None

    def _place(self, key: tuple[str, int]) -> tuple[str, str]:
        """(file, side-payload folder) of a collection's events in one second; the file's
        name depends only on the date folders, so one lookup per second and collection."""
        if len(self._places) >= MAX_PLACES:
            self._places.clear()
        settings = self.settings
        folder = f"{key[0]}/{_partition(settings.rolling_rate, key[1])}"
        place = (os.path.join(settings.dir, folder, f"{settings.instance}.jsonl"),
                 f"{folder}/{settings.instance}.payloads")
        self._places[key] = place
        return place

    def _append(self, path: str, chunk: list[bytes]) -> None:
        data = b"\n".join(chunk) + b"\n"
        try:
            # One O_APPEND write per batch: workers of one replica sharing the file never
            # interleave inside a line. The folder is made only when the open says it is
            # missing (a new partition), not checked on every batch.
            try:
                fd = os.open(path, _APPEND, 0o644)
            except FileNotFoundError:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                fd = os.open(path, _APPEND, 0o644)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
            self.written += len(chunk)
        except OSError as exc:
            self.dropped += len(chunk)
            self._warn_once("write", f"data collection cannot write {path} ({exc.strerror}); "
                            f"free space or fix the permissions of {self.settings.dir}; "
                            "scoring goes on and collected events are dropped meanwhile")

    def _side(self, name: str, payload: bytes) -> bool:
        path = self.settings.dir / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(payload)
            return True
        except OSError as exc:
            self.dropped += 1
            self._warn_once("write", f"data collection cannot write {path} ({exc.strerror}); "
                            f"free space or fix the permissions of {self.settings.dir}")
            return False

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(message)


def _cheap(data: object) -> bool:
    """Whether ``data`` is rendered by submit() itself (see the module docstring)."""
    if isinstance(data, bytes):
        return len(data) <= INLINE_BYTES
    if isinstance(data, (dict, list)):
        return len(data) <= INLINE_ITEMS
    return False


_OPEN: set[EventWriter] = set()


def close_all(timeout: float = 10.0) -> None:
    """Drain every writer of this process (clean shutdown; also run at exit)."""
    for writer in list(_OPEN):
        writer.close(timeout)


atexit.register(close_all)
