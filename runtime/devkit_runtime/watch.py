"""Hot reload from inside the server: watch the code root and reload every worker on a save.

The supervisor starts one :class:`CodeWatcher` when ``DEVKIT_WATCH=1`` (the engines set it
for every replica; ``devkit up --no-watch`` sets 0). It lives in the server, not in the
devkit CLI, so it keeps working after ``devkit up`` has returned: each replica reloads
itself, and a code folder shared by several deployments reloads all of them because each
of their servers watches it.

Two ways to notice a change, behind one callback:

* inotify through ``watchdog`` when it is importable (instant);
* a polling scan of modification times every ``DEVKIT_WATCH_INTERVAL_MS`` (default 100),
  used when watchdog is missing, when it cannot start (inotify limits), or when
  ``DEVKIT_WATCH_POLL=1`` asks for it because file events do not cross the mount (Docker
  Desktop's shared folders, network file systems).

Changes are debounced (an editor's save is several events: temp file, rename, chmod) and
coalesced: a save during a reload triggers exactly one more reload afterwards. Files
nobody edits by hand (``__pycache__``, ``*.pyc``, editor swap and backup files, ``.git``)
are ignored, and so are file *reads*, or importing the script would trigger a reload.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("devkit_runtime")

DEBOUNCE_S = 0.05  # quiet time after the last event before reloading
MAX_DEBOUNCE_S = 1.0  # a file rewritten continuously still reloads this often
DEFAULT_INTERVAL_MS = 100

IGNORED_DIRS = frozenset({
    "__pycache__", ".git", ".hg", ".svn", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    ".ipynb_checkpoints", ".idea", ".vscode", ".devcontainer", "node_modules", ".venv",
    ".tox",
})
IGNORED_SUFFIXES = (".pyc", ".pyo", ".swp", ".swo", ".swx", ".swpx", ".tmp", ".bak", "~",
                    ".crdownload", ".part")
IGNORED_NAMES = frozenset({".DS_Store", "4913"})  # 4913: vim's "can I write here" probe

Report = Callable[[str], None]
Reload = Callable[[], Awaitable[dict[str, Any]]]


def ignored(relative: str) -> bool:
    """Whether a path (relative to the code root) is not worth a reload."""
    parts = Path(relative).parts
    if any(part in IGNORED_DIRS for part in parts[:-1]):
        return True
    name = parts[-1] if parts else ""
    return (name in IGNORED_DIRS or name in IGNORED_NAMES or name.endswith(IGNORED_SUFFIXES)
            or name.startswith((".#", "#")) or name.endswith(".py.orig"))


# -- noticing changes ---------------------------------------------------------------------

Snapshot = dict[str, tuple[int, int, int]]


def scan(root: Path) -> Snapshot:
    """(mtime_ns, size, inode) of every file worth watching under ``root``."""
    found: Snapshot = {}
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:  # deleted or unreadable while scanning: the next scan sees it
            continue
        for entry in entries:
            relative = os.path.relpath(entry.path, root)
            if ignored(relative):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.is_file():
                    info = entry.stat()
                    found[relative] = (info.st_mtime_ns, info.st_size, info.st_ino)
            except OSError:
                continue
    return found


def changed(before: Snapshot, after: Snapshot) -> list[str]:
    """Files added, removed or modified between two scans."""
    paths = {p for p in after if before.get(p) != after[p]}
    paths.update(p for p in before if p not in after)
    return sorted(paths)


class Poller:
    """A daemon thread that rescans the code root every ``interval_s``."""

    kind = "polling"

    def __init__(self, root: Path, report: Report, interval_s: float) -> None:
        self.root = root
        self.report = report
        self.interval_s = interval_s
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="devkit-watch", daemon=True)

    def start(self) -> None:
        self.snapshot = scan(self.root)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopped.wait(self.interval_s):
            current = scan(self.root)
            for path in changed(self.snapshot, current):
                self.report(path)
            self.snapshot = current

    def stop(self) -> None:
        self.stopped.set()

    def describe(self) -> str:
        return f"polling every {self.interval_s * 1000:.0f} ms"


class Inotify:
    """watchdog's native observer (inotify on Linux); only writes count, never reads."""

    kind = "inotify"
    EVENTS = frozenset({"created", "modified", "deleted", "moved", "closed"})

    def __init__(self, root: Path, report: Report) -> None:
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer

        events, root_text = self.EVENTS, str(root)

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                # A folder's own "modified" only echoes a change to a file inside it.
                if event.event_type not in events or event.is_directory:
                    return
                for raw in (event.src_path, getattr(event, "dest_path", "")):
                    path = os.fsdecode(raw)
                    if path:
                        relative = os.path.relpath(path, root_text)
                        if not ignored(relative):
                            report(relative)

        self.observer = Observer()
        self.observer.daemon = True
        self.observer.schedule(Handler(), root_text, recursive=True)

    def start(self) -> None:
        self.observer.start()

    def stop(self) -> None:
        self.observer.stop()

    def describe(self) -> str:
        return "inotify"


def choose_backend(root: Path, report: Report, poll: bool, interval_s: float
                   ) -> Poller | Inotify:
    """inotify when watchdog imports and starts; polling otherwise (said in the log)."""
    if not poll:
        try:
            backend = Inotify(root, report)
            backend.start()
            return backend
        except ImportError:
            log.info("watchdog is not installed; watching %s by polling", root)
        except OSError as exc:  # e.g. the inotify watch limit
            log.warning("cannot watch %s with inotify (%s); polling instead", root, exc)
    poller = Poller(root, report, interval_s)
    poller.start()
    return poller


# -- reacting to changes ------------------------------------------------------------------

class CodeWatcher:
    """Debounces change reports into reloads and logs each outcome in one line."""

    def __init__(self, root: Path, reload: Reload, *, poll: bool = False,
                 interval_s: float = DEFAULT_INTERVAL_MS / 1000,
                 debounce_s: float = DEBOUNCE_S) -> None:
        self.root = root
        self.reload = reload
        self.poll = poll
        self.interval_s = interval_s
        self.debounce_s = debounce_s
        self.pending: set[str] = set()
        self.wakeup = asyncio.Event()
        self.backend: Poller | Inotify | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()

        def report(path: str) -> None:  # called on the backend's thread
            loop.call_soon_threadsafe(self._note, path)

        self.backend = await asyncio.to_thread(choose_backend, self.root, report, self.poll,
                                               self.interval_s)
        log.info("watching %s for changes (%s); saving a file reloads the scoring script",
                 self.root, self.backend.describe())
        self.task = asyncio.create_task(self._run())

    def _note(self, path: str) -> None:
        self.pending.add(path)
        self.wakeup.set()

    async def _run(self) -> None:
        while True:
            await self.wakeup.wait()
            await self._settle()
            paths, self.pending = sorted(self.pending), set()
            started = time.perf_counter()
            outcome = await self.reload()
            log_outcome(outcome, paths, (time.perf_counter() - started) * 1000)

    async def _settle(self) -> None:
        """Wait until no event arrived for ``debounce_s`` (at most MAX_DEBOUNCE_S)."""
        deadline = time.monotonic() + MAX_DEBOUNCE_S
        while time.monotonic() < deadline:
            self.wakeup.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), self.debounce_s)
            if not self.wakeup.is_set():
                return
        self.wakeup.clear()

    async def stop(self) -> None:
        if self.backend is not None:
            self.backend.stop()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


def log_outcome(outcome: dict[str, Any], paths: list[str], ms: float) -> None:
    """The line users read in ``devkit logs -f`` / ``up --attach`` after a save."""
    what = paths[0] if len(paths) == 1 else f"{len(paths)} files ({', '.join(paths[:3])})"
    if outcome.get("ok"):
        log.info("reloaded in %.0f ms (generation %s) after a change to %s", ms,
                 outcome.get("generation"), what)
        return
    where = outcome.get("file") or "the scoring script"
    if outcome.get("line"):
        where = f"{where}:{outcome['line']}"
    log.error("reload failed at %s: %s; the previous version keeps serving (generation %s). "
              "Fix it and save again.", where, outcome.get("error"), outcome.get("generation"))


async def start(root: Path, reload: Reload, environ: dict[str, str] | None = None
                ) -> CodeWatcher | None:
    """The watcher ``DEVKIT_WATCH`` asks for, started; ``None`` when watching is off."""
    env = os.environ if environ is None else environ
    if env.get("DEVKIT_WATCH", "") not in ("1", "true", "True"):
        return None
    if not root.is_dir():
        log.warning("DEVKIT_WATCH=1 but the code root %s is not a folder; not watching", root)
        return None
    poll = env.get("DEVKIT_WATCH_POLL", "") in ("1", "true", "True")
    interval = int(env.get("DEVKIT_WATCH_INTERVAL_MS") or DEFAULT_INTERVAL_MS)
    watcher = CodeWatcher(root, reload, poll=poll, interval_s=max(interval, 10) / 1000)
    await watcher.start()
    return watcher
