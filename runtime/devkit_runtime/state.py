"""One worker's view of the scoring script: its health, the live version, reload outcomes.

Health is an explicit state machine: STARTING (init() running) -> READY, or -> FAILED
(import or init() failed; the server keeps answering, not ready, with the traceback).
A reload loads the new module beside the live one and swaps only when its init()
succeeded, so requests already running finish on the version they started with and a
broken save leaves the last good version serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from devkit_runtime import debug, scoring, swagger
from devkit_runtime.config import ServerConfig
from devkit_runtime.executor import RunPool
from devkit_runtime.metrics import Metrics
from devkit_runtime.wire import Readiness, ReloadOutcome

log = logging.getLogger("devkit_runtime")


class Health(enum.Enum):
    STARTING = "starting"
    READY = "ready"
    FAILED = "failed"


class WorkerState:
    """The live script of this worker process and everything requests need besides it."""

    def __init__(self, config: ServerConfig, generation: int = 1) -> None:
        self.config = config
        self.health = Health.STARTING
        self.script: scoring.Script | None = None
        self.docs = swagger.SwaggerDocs({})
        self.generation = generation
        self.failure: ReloadOutcome | None = None
        self.last: ReloadOutcome | None = None
        self.metrics = Metrics()
        self.pool = RunPool(config.run_threads)
        self._lock = asyncio.Lock()
        self._ready = asyncio.Event()
        self._born = time.monotonic()

    async def wait_settled(self) -> None:
        """Return once the first load finished, successfully or not."""
        if self.health is Health.STARTING:
            await self._ready.wait()

    async def start(self) -> None:
        """First load: STARTING -> READY or FAILED."""
        log.info("loading %s (model dir %s)", self.config.script_path,
                 self.config.model_dir or "-")
        outcome = await self._load(self.generation)
        if outcome.ok:
            self.health = Health.READY
            log.info("init() done in %.1f ms; worker %d ready", outcome.ms, self.metrics.pid)
        else:
            self.health = Health.FAILED
            self.failure = outcome
            log.error("the scoring script failed to start; this worker stays up but NOT "
                      "ready (GET /-/ready shows why):\n%s", outcome.traceback)
        self._ready.set()

    async def reload(self, generation: int) -> ReloadOutcome:
        """Re-import the script and call init(); keep the old one if that fails."""
        async with self._lock:
            outcome = await self._load(generation)
        self.metrics.reloads["ok" if outcome.ok else "error"] += 1
        if outcome.ok:
            self.health, self.failure = Health.READY, None
            log.info("reloaded %s (generation %d) in %.1f ms", self.config.script_path.name,
                     generation, outcome.ms)
        else:
            kept = "keeping the previous version" if self.script else "still not ready"
            log.error("reload failed, %s:\n%s", kept, outcome.traceback)
        return outcome

    async def _load(self, generation: int) -> ReloadOutcome:
        start = time.perf_counter()
        previous = sys.modules.get(scoring.MODULE_NAME)
        helpers = _forget_code_modules(self.config.code_root)
        _drop_bytecode([previous, *helpers.values()])
        try:
            script = await asyncio.to_thread(scoring.load, self.config.script_path,
                                             self.config.code_root)
            docs = await asyncio.to_thread(swagger.build, self.config.code_root, script.run)
        except scoring.ScriptLoadError as exc:
            _restore_module(previous)
            sys.modules.update(helpers)
            outcome = ReloadOutcome(self.generation, False, _ms(start), exc.message, exc.file,
                                    exc.line, exc.traceback, exc.cause)
        except Exception as exc:  # e.g. a broken swagger*.json: still the user's files
            _restore_module(previous)
            sys.modules.update(helpers)
            outcome = ReloadOutcome(self.generation, False, _ms(start),
                                    f"{type(exc).__name__}: {exc}", traceback=repr(exc))
        else:
            self.script, self.docs, self.generation = script, docs, generation
            outcome = ReloadOutcome(generation, True, _ms(start))
        self.last = outcome
        return outcome

    def liveness(self) -> str | None:
        """None while this worker is live, else why not: an init() that has not returned,
        or a run() still running past its timeout (answered, written off, never
        returned). A failed init() is live: the server stays up for a reload to fix it."""
        if self.health is Health.STARTING:
            return f"init() has not returned after {time.monotonic() - self._born:.0f} s"
        stuck = self.pool.stuck_for()
        if stuck is not None:
            return (f"a run() call has not returned {stuck:.0f} s after its "
                    f"{self.config.scoring_timeout_ms} ms timeout (SCORING_TIMEOUT_MS)")
        return None

    def readiness(self) -> tuple[int, dict[str, Any]]:
        """The ``/-/ready`` answer: status code and JSON body (:class:`wire.Readiness`)."""
        failure = self.failure
        body = Readiness(
            ready=self.health is Health.READY, status=self.health.value,
            generation=self.generation, pid=self.metrics.pid,
            script=str(self.config.script_path), reload=self.last,
            debugger=debug.describe(self.config),
            error=failure.error if failure else None,
            traceback=failure.traceback if failure else None,
            cause=failure.cause if failure else None)
        return (200 if self.health is Health.READY else 503), body.to_json()


def _forget_code_modules(code_root: Path) -> dict[str, Any]:
    """Drop the modules imported from the code root (``utils.py`` beside ``score.py``) so a
    reload imports their saved version too; returned so a failed reload can put them back.
    Installed packages are never dropped: many cannot be imported twice."""
    root = str(code_root) + os.sep
    runtime = os.path.dirname(os.path.abspath(scoring.__file__)) + os.sep
    found = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        if (name != scoring.MODULE_NAME and path.startswith(root)
                and not path.startswith(runtime) and "-packages" + os.sep not in path):
            found[name] = sys.modules.pop(name)
    return found


def _drop_bytecode(modules: list[Any]) -> None:
    """Delete the cached bytecode of modules about to be re-imported. Python trusts a
    ``.pyc`` whose source has the same size and the same mtime *in whole seconds*, so two
    saves within a second (``VERSION = 1`` -> ``VERSION = 2``) would re-run the old code."""
    for module in modules:
        cached = getattr(module, "__cached__", None)
        if cached:
            with contextlib.suppress(OSError):  # read-only code mounts write no .pyc
                os.unlink(cached)


def _restore_module(previous: Any) -> None:
    if previous is not None:
        sys.modules[scoring.MODULE_NAME] = previous
    else:
        sys.modules.pop(scoring.MODULE_NAME, None)


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000
