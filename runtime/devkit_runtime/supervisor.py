"""The server's main process: binds the port, runs WORKER_COUNT workers on it, restarts a
crashed worker (or one that fails the deployment's liveness probe: :mod:`.liveness`), and
fans a reload out to every worker. While no worker runs the port is closed, so callers are
refused at once instead of waiting in the backlog.

Workers are fresh interpreters (``python -m devkit_runtime.worker``) that inherit the
listening socket, so the kernel spreads connections across them and the supervisor never
touches a request. Each worker also gets one end of a socketpair: the control channel
over which a reload (from SIGHUP or the admin route ``POST /-/reload`` on
``127.0.0.1:DEVKIT_ADMIN_PORT``) is requested and its outcome returned.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from devkit_runtime import __version__, admin, debug, lifeline, liveness, logs
from devkit_runtime import watch as code_watch
from devkit_runtime.config import ServerConfig
from devkit_runtime.wire import PING_OP, PONG_OP, RELOAD_OP, Control, ReloadOutcome
from devkit_runtime.worker import CONFIG_ENV, GENERATION_ENV

log = logging.getLogger("devkit_runtime")
EVENTS_ENV = "DEVKIT_WORKER_EVENTS"
KEEPER_ENV = "DEVKIT_KEEPER_PID"  # set by devkit_runtime.keeper: die with it
RELOAD_TIMEOUT_S = 600.0
STOP_GRACE_S = 35.0


class ServerStartError(RuntimeError):
    """The server could not start (port in use, no debugger, ...); one actionable sentence."""


@dataclass
class WorkerHandle:
    """A running worker process and the supervisor's end of its control channel.

    One task (``pump``) reads the channel: pongs answer the liveness probe's ping, any
    other line answers the reload in flight (one at a time, under the reload lock)."""

    slot: int
    process: subprocess.Popen[bytes]
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    started: float
    liveness_failures: int = 0
    killed_for: str | None = None  # set when the supervisor kills it on purpose
    answered: asyncio.Event = field(default_factory=asyncio.Event)  # first pong came
    _reload: asyncio.Future[Any] | None = None
    _ping: asyncio.Future[Any] | None = None
    _pump: asyncio.Task[None] | None = None

    def start_pump(self) -> None:
        self._pump = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        while line := await self.reader.readline():
            try:
                raw = json.loads(line)
            except ValueError:
                continue
            pong = isinstance(raw, dict) and raw.get("op") == PONG_OP
            if pong:
                self.answered.set()
            waiting = self._ping if pong else self._reload
            if waiting is not None and not waiting.done():
                waiting.set_result(raw)
        for waiting in (self._ping, self._reload):
            if waiting is not None and not waiting.done():
                waiting.set_result(None)

    async def _ask(self, message: Control, timeout_s: float, kind: str) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        setattr(self, kind, future)
        self.writer.write(message.to_line())
        await self.writer.drain()
        try:
            return await asyncio.wait_for(future, timeout_s)
        finally:
            setattr(self, kind, None)

    async def request(self, message: Control, timeout_s: float) -> ReloadOutcome:
        answer = ReloadOutcome.from_json(await self._ask(message, timeout_s, "_reload"))
        if answer is None:
            return ReloadOutcome(message.generation, False, 0.0, f"worker {self.process.pid} "
                                 "exited during the reload", pid=self.process.pid)
        return answer

    async def ping(self, timeout_s: float) -> str | None:
        """None when the worker says it is live, else why it is not (or did not say)."""
        try:
            raw = await self._ask(Control(PING_OP), timeout_s, "_ping")
        except asyncio.TimeoutError:
            return (f"no answer within {timeout_s:g} s (its event loop is blocked: a run() "
                    "holding the GIL, or a deadlock)")
        except OSError as exc:
            return f"its control channel failed ({exc})"
        if not isinstance(raw, dict):
            return "its control channel closed"
        return None if raw.get("live") is True else str(raw.get("reason") or "not live")

    def close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
        self.writer.close()


@dataclass
class WorkerEvents:
    """What happened to the workers, for ``status`` (written to ``DEVKIT_WORKER_EVENTS``
    when set: the process engine reads it; a container's stays inside it)."""

    path: str | None
    restarts: int = 0
    liveness_restarts: int = 0
    last_exit: str | None = None
    last_exit_code: int | None = None
    oom_suspected: bool = False
    at: float | None = None

    def exited(self, returncode: int, killed_for: str | None) -> str:
        text, oom = lifeline.describe_exit(returncode, killed_for)
        self.restarts += 1
        self.last_exit, self.last_exit_code, self.oom_suspected = text, returncode, oom
        self.at = time.time()
        self.save()
        return text

    def save(self) -> None:
        if self.path:
            lifeline.write_json(self.path, {
                "worker_restarts": self.restarts, "liveness_restarts": self.liveness_restarts,
                "last_worker_exit": self.last_exit, "last_worker_exit_code": self.last_exit_code,
                "worker_oom_suspected": self.oom_suspected, "at": self.at})


def serve(config: ServerConfig) -> None:
    """Run the inference server until SIGINT/SIGTERM (blocking).

    Raises :class:`ServerStartError` when it cannot start; a scoring script that fails to
    load does *not* stop the server (it answers 503 and ``/-/ready`` says why).
    """
    logs.setup()
    keeper = os.environ.get(KEEPER_ENV, "")
    if keeper.isdigit():  # the replica's processes live and die together (lifeline.py)
        lifeline.die_with_parent(int(keeper))
    try:
        debug.check(config)
    except debug.DebuggerUnavailable as exc:
        raise ServerStartError(str(exc)) from exc
    listener = bind(config.host, config.port)
    try:
        asyncio.run(Supervisor(config, listener).run())
    finally:
        listener.close()


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServerStartError(f"cannot listen on {host}:{port} ({exc.strerror}); stop what "
                               f"uses the port or pick another with --port") from exc
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class Supervisor:
    """Starts, watches and reloads the workers of one server."""

    def __init__(self, config: ServerConfig, listener: socket.socket) -> None:
        self.config = config
        self.listener = listener
        self.count = config.effective_workers()
        self.workers: dict[int, WorkerHandle] = {}
        self.generation = 1
        self.stopping = asyncio.Event()
        self.reload_lock = asyncio.Lock()
        self.failures: dict[int, int] = {}
        self.events = WorkerEvents(os.environ.get(EVENTS_ENV) or None)
        self.admin_secret: bytes | None = None  # set by admin.start (replica_secret)

    async def run(self) -> None:
        self.announce()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self.on_sighup)
        admin_server = await admin.start(self, self.config.admin_port)
        watcher = None
        probe = liveness.LivenessProbe.of(self.config)
        prober = None
        self.events.save()
        try:
            for slot in range(self.count):
                await self.spawn(slot)
            # DEVKIT_WATCH=1: a save under the code root reloads every worker.
            watcher = await code_watch.start(self.config.code_root, self.reload)
            if probe is not None:
                prober = loop.create_task(liveness.enforce(self, probe))
            await self.watch()
        finally:
            if prober is not None:
                prober.cancel()
            if watcher is not None:
                await watcher.stop()
            if admin_server is not None:
                admin_server.close()
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            await self.stop_all()

    def announce(self) -> None:
        config = self.config
        log.info("devkit-runtime %s: script %s", __version__, config.script_path)
        log.info("model dir %s, code root %s", config.model_dir or "-", config.code_root)
        log.info("%d worker(s), listening on http://%s:%d%s", self.count, config.host,
                 config.port, f", admin on 127.0.0.1:{config.admin_port}"
                 if config.admin_port else "")
        if config.debug_port is not None and config.workers > 1:
            log.info("a debug port is set: running 1 worker instead of %d", config.workers)

    async def spawn(self, slot: int) -> None:
        if self.listener.fileno() == -1:  # closed while no worker ran (restart)
            self.listener = bind(self.config.host, self.config.port)
        parent_end, child_end = socket.socketpair()
        fds = (self.listener.fileno(), child_end.fileno())
        process = subprocess.Popen(
            [sys.executable, "-m", "devkit_runtime.worker", *map(str, fds)],
            pass_fds=fds, env=self.worker_env())
        child_end.close()
        reader, writer = await asyncio.open_connection(sock=parent_end)
        worker = WorkerHandle(slot, process, reader, writer, time.monotonic())
        worker.start_pump()
        self.workers[slot] = worker
        log.info("worker %d started (pid %d)", slot, process.pid)

    def worker_env(self) -> dict[str, str]:
        config = self.config
        env = dict(os.environ)
        env.update(config.extra_env)
        env[CONFIG_ENV] = config.to_json()
        env[GENERATION_ENV] = str(self.generation)
        env[lifeline.PARENT_ENV] = str(os.getpid())
        env["AML_APP_ROOT"] = str(config.code_root)
        env["AZUREML_ENTRY_SCRIPT"] = os.path.relpath(config.script_path, config.code_root)
        if config.model_dir:
            env["AZUREML_MODEL_DIR"] = str(config.model_dir)
        return env

    async def watch(self) -> None:
        """Restart workers that die, with a growing pause for ones that die at once."""
        while not self.stopping.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), 0.25)
            if self.stopping.is_set():
                return
            for slot, worker in list(self.workers.items()):
                code = worker.process.poll()
                if code is not None:
                    await self.restart(slot, worker, code)

    async def restart(self, slot: int, worker: WorkerHandle, code: int) -> None:
        quick = time.monotonic() - worker.started < 5
        self.failures[slot] = self.failures.get(slot, 0) + 1 if quick else 0
        pause = min(10.0, 0.5 * 2 ** self.failures[slot]) if quick else 0.0
        how = self.events.exited(code, worker.killed_for)
        log.error("worker %d (pid %d) %s; restarting it%s", slot,
                  worker.process.pid, how, f" in {pause:.1f} s" if pause else "")
        worker.close()
        if all(w.process.poll() is not None for w in self.workers.values()):
            # Nobody accepts now: close the port rather than let connections wait in the
            # backlog. A refused connection is what a router can act on safely (nothing
            # was sent: take the replica out, try another), and a readiness probe sees it
            # not ready. The next spawn binds the port again.
            log.info("no worker runs: port %d closed until worker %d is back", self.config.port,
                     slot)
            self.listener.close()
        if pause:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), pause)
        while not self.stopping.is_set():
            try:
                await self.spawn(slot)
                return
            except ServerStartError as exc:  # the port was taken meanwhile
                log.error("worker %d cannot start: %s; trying again in 5 s", slot, exc)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), 5.0)

    def on_sighup(self) -> None:
        log.info("SIGHUP: reloading the scoring script in every worker")
        asyncio.get_running_loop().create_task(self.reload())

    async def reload(self) -> dict[str, Any]:
        """Reload in every worker; the answer the admin route returns."""
        async with self.reload_lock:
            generation = self.generation + 1
            start = time.perf_counter()
            answers = await asyncio.gather(
                *(self._reload_one(worker, generation) for worker in self.workers.values()))
            if any(answer.ok for answer in answers):
                self.generation = generation
            summary = summarise(answers, (time.perf_counter() - start) * 1000, self.generation)
            return summary.to_json()

    async def _reload_one(self, worker: WorkerHandle, generation: int) -> ReloadOutcome:
        try:
            return await worker.request(Control(RELOAD_OP, generation), RELOAD_TIMEOUT_S)
        except (OSError, asyncio.TimeoutError, ValueError) as exc:
            return ReloadOutcome(generation, False, 0.0, f"worker {worker.process.pid} did "
                                 f"not answer the reload: {exc!r}", pid=worker.process.pid)

    async def stop_all(self) -> None:
        for worker in self.workers.values():
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for worker in self.workers.values():
            while worker.process.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if worker.process.poll() is None:
                log.warning("worker pid %d did not stop in %.0f s; killing it",
                            worker.process.pid, STOP_GRACE_S)
                worker.process.kill()
                worker.process.wait()
            worker.close()
        self.listener.close()
        log.info("server stopped")


def summarise(answers: list[ReloadOutcome], ms: float, generation: int) -> ReloadOutcome:
    """One outcome for all workers: ok only if every worker reloaded; the first failure's
    error, file and line otherwise."""
    failed = [answer for answer in answers if not answer.ok]
    if not failed:
        return ReloadOutcome(generation, True, ms, workers=len(answers))
    first = failed[0]
    return ReloadOutcome(generation, False, ms, first.error, first.file, first.line,
                         workers=len(answers), failed_workers=len(failed))
