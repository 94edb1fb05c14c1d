"""Relaying a streamed (chunked) replica response to the client as it arrives.

The router buffers ordinary responses (one write each way is what keeps its overhead
small), but a response the replica sends chunked is a stream (tokens, server-sent events):
each part goes to the client when it arrives, never held back for the whole body.

The deployment's ``request_timeout_ms`` still bounds the whole request: the status line
must arrive within it (else 408, in :mod:`app`), and so must the last part. A stream that
overruns it, or that the replica drops, is cut off: the response ends without its last
chunk, so the client sees it broken, not complete. A client that goes away ends the
relay too, and the upstream connection is closed so the replica stops producing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from devkit_runtime.router.upstream import BodyStream, UpstreamError, within

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("devkit.router")


async def relay(send: Send, receive: Receive, status: int, headers: list[tuple[bytes, bytes]],
                stream: BodyStream, deadline: float, deployment: str) -> bool:
    """Send the response head, then each part; True when the body was relayed whole.
    Closes ``stream`` in every case."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    loop = asyncio.get_running_loop()
    gone = asyncio.ensure_future(_disconnect(receive))
    try:
        while not gone.done():
            part = await within(max(deadline - loop.time(), 0.0), stream.read())
            if not part:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return True
            await send({"type": "http.response.body", "body": part, "more_body": True})
    except asyncio.TimeoutError:
        log.warning("deployment '%s': a streamed response was cut off at its "
                    "request_timeout_ms", deployment)
    except UpstreamError as exc:
        log.warning("deployment '%s': a streamed response was cut off: %s", deployment, exc)
    finally:
        gone.cancel()
        stream.close()
    return False


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
