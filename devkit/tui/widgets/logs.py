"""Live logs of the selected deployment: follow, filter, pause, copy.

The panel keeps the last lines in memory so a new filter applies to what was already
received. Reading happens in a thread worker that polls the backend's log feed and posts
batches back as :class:`LogPanel.Lines`; the widget is only touched on the UI thread.
"""

from __future__ import annotations

import queue
from collections import deque
from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Log
from textual.worker import get_current_worker

from devkit.errors import DevkitError
from devkit.tui.backend import Backend

KEPT_LINES = 5000
BATCH = 200
# Health probes (devkit's own status polls among them) flood an access log; hidden unless
# asked for, because they bury the lines a user is looking for.
PROBE_MARKERS = ("GET /-/ready", "GET /-/live")


class LogPanel(Vertical):
    """A filter box over a log view that follows ``(endpoint, deployment)``."""

    @dataclass
    class Lines(Message):
        source: tuple[str, str | None]
        lines: list[str]

    @dataclass
    class Failed(Message):
        error: str

    def __init__(self, backend: Backend, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.backend = backend
        self.source: tuple[str, str | None] | None = None
        self.paused = False
        self.filter = ""
        self.show_probes = False
        self._kept: deque[str] = deque(maxlen=KEPT_LINES)

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter (text in line)", id="log-filter", compact=True)
        yield Log(id="log-view", max_lines=KEPT_LINES, auto_scroll=True)

    def follow(self, endpoint: str, deployment: str | None, running: bool) -> None:
        """Show ``endpoint``/``deployment``'s logs (no-op when already following them)."""
        source = (endpoint, deployment)
        if source == self.source:
            return
        self.source = source
        self._kept.clear()
        self.query_one(Log).clear()
        if running:
            self._read(source)
        else:
            self.workers.cancel_group(self, "logs")

    def toggle_pause(self) -> bool:
        self.paused = not self.paused
        if not self.paused:
            self._redraw()
        return self.paused

    def toggle_probes(self) -> bool:
        self.show_probes = not self.show_probes
        self._redraw()
        return self.show_probes

    def visible_text(self) -> str:
        return "\n".join(line for line in self._kept if self._matches(line))

    @work(thread=True, exclusive=True, group="logs")
    def _read(self, source: tuple[str, str | None]) -> None:
        worker = get_current_worker()
        try:
            feed = self.backend.log_feed(*source)
        except DevkitError as exc:
            self.post_message(self.Failed(str(exc)))
            return
        while not worker.is_cancelled:
            batch = _drain(feed)
            if batch is None:
                return
            if batch:
                self.post_message(self.Lines(source, batch))

    @on(Lines)
    def _got_lines(self, message: Lines) -> None:
        message.stop()
        if message.source != self.source:
            return  # a late batch from the previous selection
        self._kept.extend(message.lines)
        if not self.paused:
            self.query_one(Log).write_lines([ln for ln in message.lines if self._matches(ln)])

    @on(Input.Changed, "#log-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.filter = event.value
        self._redraw()

    def _redraw(self) -> None:
        log = self.query_one(Log)
        log.clear()
        log.write_lines([line for line in self._kept if self._matches(line)])

    def _matches(self, line: str) -> bool:
        if not self.show_probes and any(marker in line for marker in PROBE_MARKERS):
            return False
        return not self.filter or self.filter.lower() in line.lower()


def _drain(feed: queue.Queue[str | None]) -> list[str] | None:
    """Up to BATCH lines, waiting briefly for the first; None once the feed ended."""
    batch: list[str] = []
    try:
        item = feed.get(timeout=0.25)
        while True:
            if item is None:
                if batch:
                    feed.put(None)  # end the feed on the next call, after this batch
                return batch or None
            batch.append(item)
            if len(batch) >= BATCH:
                return batch
            item = feed.get_nowait()
    except queue.Empty:
        return batch
