"""Writing collected events to files off the request path: a bounded queue, one thread.

Files follow Azure's layout under the deployment's folder::

    <collection>/yyyy/MM/dd/HH/<instance>.jsonl

with the date part cut to the ``rolling_rate`` (Year: ``yyyy``; Month: ``yyyy/MM``;
Day: ``yyyy/MM/dd``; Hour: ``yyyy/MM/dd/HH``; Minute: ``yyyy/MM/dd/HH/mm``), in UTC, from
the time each event was collected. A new partition folder is a new file: that is the roll.

The request path only enqueues (``submit``); when the queue is full the event is dropped
and counted rather than blocking a request. A write that fails (full disk, unwritable
folder) is one warning naming the folder and the fix, and scoring goes on; the counters
say how much was lost. ``close`` drains the queue: clean shutdowns lose nothing.

The clock is injectable so rolling is tested without waiting for the hour to turn.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from devkit_runtime.collection.events import Pending, render
from devkit_runtime.collection.settings import CollectionSettings

log = logging.getLogger("devkit_runtime.collection")

MAX_QUEUE = 10_000
BATCH = 512
FORMATS = {"Year": "%Y", "Month": "%Y/%m", "Day": "%Y/%m/%d", "Hour": "%Y/%m/%d/%H",
           "Minute": "%Y/%m/%d/%H/%M"}
_STOP = object()


def partition(rolling_rate: str, when: float) -> str:
    """The date folders of an event collected at ``when`` (seconds since the epoch)."""
    return datetime.fromtimestamp(when, timezone.utc).strftime(FORMATS[rolling_rate])


class EventWriter:
    """Owns one deployment's collected files in this process."""

    def __init__(self, settings: CollectionSettings, *, clock: Callable[[], float] = time.time,
                 max_queue: int = MAX_QUEUE) -> None:
        self.settings = settings
        self.clock = clock
        self.written = 0
        self.dropped = 0
        self._queue: queue.Queue[object] = queue.Queue(max_queue)
        self._warned: set[str] = set()
        self._thread = threading.Thread(target=self._run, name="devkit-collection",
                                        daemon=True)
        self._thread.start()
        _OPEN.add(self)

    def submit(self, pending: Pending) -> None:
        """Queue one event; never blocks, never raises."""
        try:
            self._queue.put_nowait(pending)
        except queue.Full:
            self.dropped += 1
            self._warn_once("full", f"data collection for {self.settings.deployment} is "
                            f"{self._queue.maxsize} events behind; dropping new events "
                            "until the writer catches up (is the disk slow?)")

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is on disk (or ``timeout`` passed)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._queue.unfinished_tasks

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread."""
        if not self._thread.is_alive():
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        _OPEN.discard(self)

    # -- the writer thread ----------------------------------------------------------

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(item is _STOP for item in batch)
            self._write([item for item in batch if isinstance(item, Pending)])
            for _ in batch:
                self._queue.task_done()
            if stop:
                return

    def _write(self, batch: list[Pending]) -> None:
        settings = self.settings
        lines: dict[Path, list[str]] = {}
        for pending in batch:
            folder = f"{pending.collection}/{partition(settings.rolling_rate, pending.time)}"
            try:
                event = render(pending, settings.source, settings.model_version,
                               f"{folder}/{settings.instance}.payloads")
            except Exception as exc:  # an object the user collected that cannot be JSON
                self.dropped += 1
                self._warn_once(f"render:{pending.collection}", f"cannot serialise data "
                                f"collected in '{pending.collection}' ({exc}); collect a "
                                "DataFrame, dict or list of JSON values")
                continue
            if event.side_name is not None and not self._side(event.side_name,
                                                              event.side_bytes):
                continue
            path = settings.dir / folder / f"{settings.instance}.jsonl"
            lines.setdefault(path, []).append(event.line)
        for path, chunk in lines.items():
            self._append(path, chunk)

    def _append(self, path: Path, chunk: list[str]) -> None:
        data = ("\n".join(chunk) + "\n").encode("utf-8")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # One O_APPEND write per batch: workers of one replica sharing the file never
            # interleave inside a line.
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
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


_OPEN: set[EventWriter] = set()


def close_all(timeout: float = 10.0) -> None:
    """Drain every writer of this process (clean shutdown; also run at exit)."""
    for writer in list(_OPEN):
        writer.close(timeout)


atexit.register(close_all)
