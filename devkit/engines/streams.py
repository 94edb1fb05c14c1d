"""Log streams of several replicas merged into one iterator of prefixed lines.

Both engines produce one byte stream per replica (a container's log, a process's log
file); ``devkit logs`` shows them together, each line prefixed with its replica, like
``docker compose logs``. Following several streams at once needs threads; a bounded queue
keeps a chatty replica from growing memory without limit.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator

# A named source of raw chunks (not necessarily line-aligned).
Source = tuple[str, Callable[[], Iterable[bytes]]]

_DONE = object()


def split_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Chunks → complete lines without the newline (a trailing partial line included)."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line.decode("utf-8", errors="replace").rstrip("\r")
    if pending:
        yield pending.decode("utf-8", errors="replace")


def prefixed(prefix: str, lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        yield f"{prefix} | {line}" if prefix else line


def merge(sources: list[Source], follow: bool) -> Iterator[str]:
    """One stream after another when not following; interleaved as lines arrive when
    following (each source read by its own daemon thread)."""
    single = len(sources) == 1
    if not follow:
        for name, open_source in sources:
            yield from prefixed("" if single else name, split_lines(open_source()))
        return
    lines: queue.Queue[object] = queue.Queue(maxsize=10_000)

    def pump(name: str, open_source: Callable[[], Iterable[bytes]]) -> None:
        try:
            for line in prefixed("" if single else name, split_lines(open_source())):
                lines.put(line)
        finally:
            lines.put(_DONE)

    for name, open_source in sources:
        threading.Thread(target=pump, args=(name, open_source), daemon=True).start()
    remaining = len(sources)
    while remaining:
        item = lines.get()
        if item is _DONE:
            remaining -= 1
        else:
            yield str(item)
