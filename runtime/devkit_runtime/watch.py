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

A reload must not cause the next one: an ``init()`` that writes into the code folder (a
cache, a downloaded file, a log) would otherwise reload forever. A scan of the folder
before and after each reload shows exactly what the reload changed itself, whenever its
events arrive (:class:`EchoGuard`). Those changes still reload once more -- they may be
the user's save made during the reload -- but a file written by two reloads in a row is
the reloads' own echo: from then on a change that leaves it as a reload wrote it is
ignored (edited by hand between reloads, it still reloads). A file with a new name on
every reload is caught by a cap: at most two follow-up reloads in a row, then the changes
are dropped with a warning naming them. A save made after a reload returned is never
mistaken for an echo: its file no longer looks as the reload left it. The server's first
``init()`` runs as the watcher starts: if it writes into the folder, that costs up to two
reloads once.
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


# -- telling saves from a reload's own writes -----------------------------------------------

MAX_FOLLOW_UPS = 2  # reloads in a row caused only by files the previous reload wrote
Signature = tuple[int, int, int] | None  # a file's (mtime_ns, size, inode); None: gone


class EchoGuard:
    """Decides which reported changes may cause a reload (pure: the watcher does the I/O).

    ``begin(paths)`` when a reload starts; ``admit(path, signature)`` for each change
    reported; ``end(written, pending)`` with what the reload itself changed (a scan
    before and after it), returning the pending changes to drop and why.
    """

    def __init__(self, max_follow_ups: int = MAX_FOLLOW_UPS) -> None:
        self.max_follow_ups = max_follow_ups
        self.reloading = False
        self.written: dict[str, Signature] = {}  # what the last reload changed, as it left it
        self.previous: set[str] = set()  # what the reload before that changed
        self.echoes: set[str] = set()  # files reloads were seen to write twice in a row
        self.chain = 0  # follow-up reloads in a row, the current one included

    def begin(self, paths: set[str]) -> None:
        """A reload for ``paths``; a follow-up when the last reload wrote all of them."""
        follow_up = bool(paths) and paths <= self.written.keys()
        self.chain = self.chain + 1 if follow_up else 0
        self.previous, self.written = set(self.written), {}
        self.reloading = True

    def admit(self, path: str, signature: Signature) -> str:
        """Why a reported change must not count ("" when it counts). During a reload
        everything counts until :meth:`end` sorts it out; after one, a file still as the
        reload left it is a late report of the reload's own write."""
        if not self.reloading and self.written.get(path, ()) == signature:
            return self._judge(path)
        return ""

    def end(self, written: dict[str, Signature], pending: set[str]) -> tuple[set[str], str]:
        """The reload changed ``written``: which of ``pending`` to drop, and the reason
        worth telling the user ("echo" or "loop"; "" when nothing new to say)."""
        self.reloading = False
        self.written = written
        reasons = {path: self._judge(path) for path in pending & written.keys()}
        dropped = {path for path, reason in reasons.items() if reason}
        told = [r for r in ("loop", "echo") if r in reasons.values()]
        return dropped, told[0] if told else ""

    def _judge(self, path: str) -> str:
        """Why a file the last reload wrote must not reload again ("" when it may, once):
        "known" echo, newly learned "echo", or the follow-up cap ("loop")."""
        if path in self.echoes:
            return "known"
        if path in self.previous:
            self.echoes.add(path)
            return "echo"
        return "loop" if self.chain >= self.max_follow_ups else ""


def signature(path: Path) -> Signature:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size, info.st_ino)


def log_dropped(paths: set[str], reason: str, reloads: int) -> None:
    """Say why a change did not reload, so a missed save is never a mystery (a "known"
    echo was said when it was learned)."""
    names = ", ".join(sorted(paths)[:3]) + ("..." if len(paths) > 3 else "")
    if reason == "echo":
        log.warning("%s changed again while the scoring script reloaded: init() writes it. "
                    "Its changes during a reload no longer trigger another one (write such "
                    "files outside the code folder, e.g. under /tmp).", names)
    elif reason == "loop":
        log.warning("the code folder changed during %d reloads in a row (%s): init() seems "
                    "to write new files into it. Not reloading again; save a file to reload.",
                    reloads, names)


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
        self.guard = EchoGuard()
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
        reason = self.guard.admit(path, signature(self.root / path))
        if reason:
            log_dropped({path}, reason, self.guard.chain + 1)
            return
        self.pending.add(path)
        self.wakeup.set()

    async def _run(self) -> None:
        while True:
            await self.wakeup.wait()
            await self._settle()
            paths, self.pending = set(self.pending), set()
            if paths:
                await self._reload(paths)

    async def _reload(self, paths: set[str]) -> None:
        """One reload, bracketed by scans that show what it wrote itself (init() writing
        into the code folder), which the guard keeps from reloading forever."""
        before = scan(self.root)
        self.guard.begin(paths)
        started = time.perf_counter()
        try:
            outcome = await self.reload()
            log_outcome(outcome, sorted(paths), (time.perf_counter() - started) * 1000)
        finally:
            after = scan(self.root)
            written = {path: after.get(path) for path in changed(before, after)}
            dropped, reason = self.guard.end(written, self.pending)
        self.pending -= dropped
        log_dropped(dropped, reason, self.guard.chain + 1)

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
