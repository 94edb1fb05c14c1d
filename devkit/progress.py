"""Progress lines, and how the CLI shows them: one updating line in a terminal, plain lines
elsewhere.

Long operations (image builds, pushes) report through a ``progress(line)`` callback. Most
lines are events worth keeping (a step started, a layer was pushed, the build is done). A
:class:`Status` line is not: it says where a running step is right now (seconds, bytes,
docker's latest output) and the next one replaces it. :class:`LinePrinter`, the CLI's
callback, redraws a Status in place on a terminal and drops it when stderr is a pipe or a
file, so CI logs get the events only. Callers that collect lines (tests, the TUI) see a
Status as the ``str`` it is; producers emit one at most every :data:`STATUS_EVERY` seconds.

``--verbose`` (``DEVKIT_VERBOSE=1``) adds docker's raw output as plain lines; it is always
in the build's log file.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from typing import TextIO

VERBOSE_ENV = "DEVKIT_VERBOSE"
STATUS_EVERY = 0.25  # seconds between two Status lines of one operation


class Status(str):
    """A line that the next line replaces; never worth keeping in a log."""


def verbose() -> bool:
    return os.environ.get(VERBOSE_ENV, "").strip() not in ("", "0")


class Throttle:
    """Lets a Status through at most every :data:`STATUS_EVERY` seconds."""

    def __init__(self) -> None:
        self.last = 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now - self.last < STATUS_EVERY:
            return False
        self.last = now
        return True


class LinePrinter:
    """The CLI's progress callback: events as lines, Status lines redrawn in place on a
    terminal (cut to its width) and dropped otherwise."""

    def __init__(self, stream: TextIO | None = None, tty: bool | None = None) -> None:
        self._stream = stream  # None: sys.stderr as it is at each call (click's test runner
        self._tty = tty  # swaps it), and whether that is a terminal
        self.drawn = False

    @property
    def stream(self) -> TextIO:
        return self._stream or sys.stderr

    @property
    def tty(self) -> bool:
        if self._tty is not None:
            return self._tty
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def __call__(self, line: str) -> None:
        if isinstance(line, Status):
            if self.tty:
                width = max(20, shutil.get_terminal_size((100, 20)).columns - 1)
                text = " ".join(line.split())
                text = text if len(text) <= width else text[: width - 1] + "…"
                self.stream.write("\r\x1b[2K" + text)
                self.stream.flush()
                self.drawn = True
            return
        self.clear()
        self.stream.write(line + "\n")
        self.stream.flush()

    def clear(self) -> None:
        """Remove the status line, so what follows starts on a clean line."""
        if self.drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self.drawn = False
