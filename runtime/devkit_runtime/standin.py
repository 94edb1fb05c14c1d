"""The supervisor's stand-in on the shared listening socket while no worker runs.

With one worker (the default) a worker that crashed or was killed for failing liveness
leaves the port with nobody accepting: connections would wait in the kernel's backlog for
the whole restart pause. The stand-in accepts them instead and answers at once, 503 with
``/-/ready``'s shape (``status: restarting`` and why), so a readiness probe sees the
replica not ready and a client is not left hanging. It stops as soon as a new worker
answers its control channel (and with it, accepts on the socket).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket

log = logging.getLogger("devkit_runtime")
HEAD_TIMEOUT_S = 2.0


class StandIn:
    def __init__(self, listener: socket.socket) -> None:
        self.listener = listener
        self.reason = ""
        self._task: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        return self._task is not None

    def start(self, reason: str) -> None:
        self.reason = reason
        if self._task is None:
            self.listener.setblocking(False)  # workers' uvicorn sets it so as well
            self._task = asyncio.get_running_loop().create_task(self._accept())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _accept(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, _ = await loop.sock_accept(self.listener)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            loop.create_task(self._answer(conn))

    async def _answer(self, conn: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        with conn:
            conn.setblocking(False)
            with contextlib.suppress(OSError, asyncio.TimeoutError):
                head = await asyncio.wait_for(loop.sock_recv(conn, 16384), HEAD_TIMEOUT_S)
                path = head.split(b" ", 2)[1].decode("latin-1") if head.count(b" ") >= 2 else ""
                status, body = self.reply(path)
                payload = json.dumps(body).encode() + b"\n"
                await loop.sock_sendall(conn, b"HTTP/1.1 %d %s\r\nContent-Type: application/json"
                                        b"\r\nRetry-After: 1\r\nContent-Length: %d\r\n"
                                        b"Connection: close\r\n\r\n"
                                        % (status, b"OK" if status == 200 else
                                           b"Service Unavailable", len(payload)) + payload)

    def reply(self, path: str) -> tuple[int, dict[str, object]]:
        """Not ready (``reason``, not ``error``: a restart is not an init() failure, so
        the host reads it as starting); live (the supervisor is, and is healing); any
        other route 503."""
        message = f"The server is restarting its worker ({self.reason}); retry shortly."
        if path.startswith("/-/ready"):
            return 503, {"ready": False, "status": "restarting", "pid": os.getpid(),
                         "reason": message}
        if path.startswith("/-/live"):
            return 200, {"live": True, "pid": os.getpid(), "restarting": True}
        return 503, {"message": message}
