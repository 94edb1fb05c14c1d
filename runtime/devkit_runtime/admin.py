"""The admin listener: ``POST /-/reload`` on ``127.0.0.1:DEVKIT_ADMIN_PORT`` only.

It lives in the supervisor (not the workers) because a reload must reach every worker and
report one outcome. It is a few lines of HTTP/1.1 over asyncio streams: one request per
connection, JSON answers, nothing else to depend on. Loopback-only on purpose: reloading
runs code, so it must never be reachable from outside the container or host; with a
replica secret (:mod:`devkit_runtime.replica_secret`) a call without it is refused too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import TYPE_CHECKING, Any

from devkit_runtime import replica_secret

if TYPE_CHECKING:
    from devkit_runtime.supervisor import Supervisor

log = logging.getLogger("devkit_runtime")
MAX_HEAD = 16 * 1024


async def start(supervisor: Supervisor, port: int | None) -> asyncio.AbstractServer | None:
    if port is None:
        return None

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, body = await answer(supervisor, reader)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            status, body = 400, {"ok": False, "error": "malformed HTTP request"}
        payload = json.dumps(body).encode() + b"\n"
        writer.write(b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n"
                     % (status, b"OK" if status == 200 else b"Error", len(payload)) + payload)
        await writer.drain()
        writer.close()

    secret = replica_secret.load(os.environ)
    supervisor.admin_secret = secret
    server = await asyncio.start_server(handle, "127.0.0.1", port, limit=MAX_HEAD)
    log.info("admin listener on 127.0.0.1:%d (POST /-/reload)", port)
    return server


async def answer(supervisor: Supervisor, reader: asyncio.StreamReader
                 ) -> tuple[int, dict[str, Any]]:
    head = await reader.readuntil(b"\r\n\r\n")
    request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    method, path, _ = request_line.split(" ", 2)
    length = 0
    headers = []
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        headers.append((name.strip().lower(), value.strip()))
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    secret = supervisor.admin_secret
    if secret is not None and not replica_secret.carried(headers, secret):
        log.warning("admin call %s %s refused: no valid x-devkit-replica-secret header",
                    method, path.split("?", 1)[0])
        return 401, {"ok": False, "error": replica_secret.REFUSAL}
    if path.split("?", 1)[0] != "/-/reload":
        return 404, {"ok": False, "error": f"no admin route {path}; use POST /-/reload"}
    if method != "POST":
        return 405, {"ok": False, "error": "use POST /-/reload"}
    outcome = await supervisor.reload()
    return (200 if outcome["ok"] else 500), outcome
