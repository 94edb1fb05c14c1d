"""One worker process: uvicorn (httptools) serving :class:`~devkit_runtime.app.App` on the
listening socket the supervisor shares, plus a control channel to the supervisor.

Started by the supervisor as ``python -m devkit_runtime.worker LISTEN_FD CONTROL_FD`` with the
config in ``DEVKIT_RUNTIME_CONFIG``. The control channel carries JSON lines: the supervisor
sends ``{"op": "reload", "generation": N}`` and the worker answers with the outcome dict.

The event loop is uvloop when it can be imported and plain asyncio otherwise. uvloop is a
dependency of the runtime on CPython/Linux, so images get it: it serves keep-alive traffic
(every connection behind the router) with ~25% less CPU per request (BENCHMARKS.md).
``DEVKIT_LOOP=asyncio`` or ``DEVKIT_LOOP=uvloop`` forces one; the startup log line says
which loop runs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import json
import logging
import os
import signal
import socket
import sys

import uvicorn

from devkit_runtime import compat, debug, guard, lifeline, logs, replica_secret, secret_env
from devkit_runtime.app import App
from devkit_runtime.config import ServerConfig
from devkit_runtime.state import WorkerState
from devkit_runtime.wire import PING_OP, PONG_OP, RELOAD_OP, Control, ReloadOutcome

CONFIG_ENV = "DEVKIT_RUNTIME_CONFIG"
GENERATION_ENV = "DEVKIT_RUNTIME_GENERATION"
LOOP_ENV = "DEVKIT_LOOP"
LOOPS = ("auto", "asyncio", "uvloop")
log = logging.getLogger("devkit_runtime")


async def control_loop(state: WorkerState, control: socket.socket) -> None:
    """Answer the supervisor's requests until it goes away, then stop this worker.

    A ping is answered at once, even while a reload runs (its init() may take minutes and
    must not look like a hung worker): a reload is a task of its own."""
    reader, writer = await asyncio.open_connection(sock=control)
    reloads: set[asyncio.Task[None]] = set()
    # Hello: the event loop runs (the server is about to serve), so from now on the
    # supervisor counts a ping this worker does not answer as a liveness failure.
    writer.write(json.dumps({"op": PONG_OP, "live": True, "hello": True}).encode() + b"\n")

    async def reload(generation: int) -> None:
        outcome = await state.reload(generation)
        answer = dataclasses.replace(outcome, pid=os.getpid())
        writer.write(json.dumps(answer.to_json()).encode() + b"\n")

    while line := await reader.readline():
        request = Control.from_line(line)
        if request.op == PING_OP:
            reason = state.liveness()
            writer.write(json.dumps({"op": PONG_OP, "live": reason is None,
                                     "reason": reason}).encode() + b"\n")
        elif request.op == RELOAD_OP:
            task = asyncio.create_task(reload(request.generation))
            reloads.add(task)
            task.add_done_callback(reloads.discard)
        else:
            answer = ReloadOutcome(request.generation, False, 0.0,
                                   f"unknown op {request.op!r}", pid=os.getpid())
            writer.write(json.dumps(answer.to_json()).encode() + b"\n")
        await writer.drain()
    # The channel closed. While the supervisor is still this worker's parent it is
    # stopping it (its SIGTERM drives the graceful drain; a second stop here could cut the
    # drain's final flushes short). A worker whose supervisor is gone (where
    # PR_SET_PDEATHSIG did not already kill it) must not keep answering on the port.
    parent = lifeline.expected_parent()
    if parent is not None and os.getppid() == parent:
        return
    log.error("worker %d: its supervisor is gone (control channel closed); stopping",
              os.getpid())
    signal.raise_signal(signal.SIGTERM)


def event_loop(choice: str | None = None) -> str:
    """The loop to run: ``DEVKIT_LOOP`` (``auto`` by default) resolved against what is
    importable. An explicit ``uvloop`` that cannot be imported falls back to asyncio with a
    warning rather than leaving the deployment down."""
    wanted = (choice or os.environ.get(LOOP_ENV) or "auto").strip().lower()
    if wanted not in LOOPS:
        log.warning("%s=%s is not one of %s; using auto", LOOP_ENV, wanted, ", ".join(LOOPS))
        wanted = "auto"
    if wanted == "asyncio":
        return "asyncio"
    if importlib.util.find_spec("uvloop") is not None:
        return "uvloop"
    if wanted == "uvloop":
        log.warning("%s=uvloop but uvloop is not installed (pip install uvloop); using asyncio",
                    LOOP_ENV)
    return "asyncio"


def build_server(config: ServerConfig, control: socket.socket | None,
                 generation: int = 1) -> tuple[uvicorn.Server, WorkerState]:
    state = WorkerState(config, generation)
    tasks: list[asyncio.Task[None]] = []

    async def on_startup() -> None:
        tasks.append(asyncio.create_task(state.start()))
        if control is not None:
            tasks.append(asyncio.create_task(control_loop(state, control)))

    # On a cluster the pod checks its own callers (guard.py); unset, this is App itself.
    app = guard.wrap(App(state, on_startup), os.environ)
    app = replica_secret.wrap(app)  # the process engine: only its router may score
    loop = event_loop()
    log.info("worker %d: event loop %s", os.getpid(), loop)
    # No proxy-headers middleware: nothing reads the client address, and it costs an
    # extra ASGI layer per request.
    uv_config = uvicorn.Config(app, http="httptools", loop=loop, lifespan="on",
                               access_log=False, log_config=None, server_header=False,
                               proxy_headers=False, timeout_keep_alive=75,
                               timeout_graceful_shutdown=30)
    return uvicorn.Server(uv_config), state


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    listen_fd, control_fd = int(args[0]), int(args[1])
    lifeline.die_with_parent(lifeline.expected_parent())  # first: a worker never outlives it
    config = ServerConfig.from_json(os.environ[CONFIG_ENV])
    logs.setup()
    compat.install()
    secret_env.export()  # before init(): score.py reads them as plain variables
    os.environ.setdefault("AZUREML_MODEL_DIR", config.model_dir)
    os.environ.setdefault("AML_APP_ROOT", str(config.code_root))
    debug.maybe_listen(config)
    listener = socket.socket(fileno=listen_fd)
    control = socket.socket(fileno=control_fd)
    server, _ = build_server(config, control, int(os.environ.get(GENERATION_ENV, "1")))
    server.run(sockets=[listener])


if __name__ == "__main__":
    main()
