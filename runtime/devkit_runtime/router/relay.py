"""Relaying a streamed replica response to the client as it arrives.

The router buffers ordinary responses (one write each way is what keeps its overhead
small), but a response of unknown length (sent chunked, or ended by the replica closing)
may be a stream (tokens, server-sent events): each part goes to the client, chunked, when
it arrives, never held back for the whole body.

The deployment's ``request_timeout_ms`` still bounds the whole request: the status line
must arrive within it (else 408, in :mod:`app`), and so must the last part. A stream that
overruns it, or that the replica drops, is cut off: the response ends without its last
chunk, so the client sees it broken, not complete. A client that goes away ends the
relay too, and the upstream connection is closed so the replica stops producing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from devkit_runtime.router.upstream import BodyStream, UpstreamError

if TYPE_CHECKING:
    from devkit_runtime.router.server import ClientStream

log = logging.getLogger("devkit.router")


async def relay(client: ClientStream, status: int, headers: list[tuple[bytes, bytes]],
                stream: BodyStream, deadline: float, deployment: str) -> bool:
    """Send the response head, then each part; True when the body was relayed whole.
    Closes ``stream`` in every case; a stream cut off leaves the client's response broken
    (no last chunk)."""
    await client.start(status, headers)
    loop = asyncio.get_running_loop()
    gone = client.gone
    try:
        while True:
            # Wait for the next part or the client leaving, whichever comes first, so a
            # client that hung up frees its slot (and stops the replica) at once.
            read = asyncio.ensure_future(stream.read())
            await asyncio.wait((read, gone), timeout=max(deadline - loop.time(), 0.0),
                               return_when=asyncio.FIRST_COMPLETED)
            if not read.done():
                read.cancel()
                if not gone.done():
                    log.warning("deployment '%s': a streamed response was cut off at its "
                                "request_timeout_ms", deployment)
                client.abort()
                return False
            part = read.result()
            if not part:
                await client.end()
                return True
            await client.write(part)
    except UpstreamError as exc:
        log.warning("deployment '%s': a streamed response was cut off: %s", deployment, exc)
        client.abort()
        return False
    finally:
        stream.close()
