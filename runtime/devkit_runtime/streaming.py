"""Streamed responses: run() returning a generator, or a response over an iterator.

A script that yields (tokens of a language model, ``text/event-stream`` events, a large
file in parts) gets each part to the client as it is produced, in HTTP/1.1 chunked
encoding (uvicorn chunks any response sent without ``content-length``).

The iterator is user code, so it runs where run() runs: each ``next()`` is one job on the
worker's :class:`~devkit_runtime.executor.RunPool`. That keeps the pool's guarantees
(user code runs one call at a time, off the event loop; a part that takes longer than
``SCORING_TIMEOUT_MS`` is a timeout and its thread is written off), and gives
backpressure for free: the next part is asked for only once the previous one was handed
to the transport, whose ``send`` waits while the client is slow to read.

Once the status line has gone out a failure cannot become a 500 any more: the stream is
cut off (the response ends without its last chunk), so the client sees a broken response
rather than a complete-looking one, and the log says why.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

from devkit_runtime.executor import RunFailed, RunPool, RunTimeout

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

END = object()  # the iterator is exhausted
log = logging.getLogger("devkit_runtime")


def chunks_of(result: Any) -> Iterator[Any] | None:
    """The parts to stream for run()'s result, or None when it is not a stream.

    A werkzeug/Flask response streams when its body is not a list (``is_streamed``); any
    other iterator (a generator, ``map``, ``iter(...)``) streams as it is, as Flask would
    send ``Response(generator)``.
    """
    if getattr(result, "is_streamed", False) and hasattr(result, "iter_encoded"):
        return iter(result.iter_encoded())
    if isinstance(result, Iterator):
        return result
    return None


def next_part(parts: Iterator[Any]) -> Any:
    """One part as bytes, or :data:`END`. Runs in the pool thread."""
    try:
        part = next(parts)
    except StopIteration:
        return END
    if isinstance(part, str):
        return part.encode("utf-8")
    if isinstance(part, (bytes, bytearray, memoryview)):
        return bytes(part)
    raise TypeError(f"a streamed response yielded {type(part).__name__}; yield str or bytes")


def close_parts(parts: Iterator[Any], response: Any) -> None:
    """Run the generator's ``finally`` blocks and the response's close callbacks."""
    close = getattr(parts, "close", None)
    if close is not None:
        close()
    close = getattr(response, "close", None)
    if close is not None:
        close()


async def send_stream(send: Send, receive: Receive, status: int,
                      headers: list[tuple[bytes, bytes]], parts: Iterator[Any], response: Any,
                      pool: RunPool, timeout_ms: int) -> bool:
    """Send the status and headers, then each part as it is produced. Returns whether the
    stream completed; False means it was cut off (run() failed, timed out, or the client
    went away) and the caller must return without ending the response."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    gone = asyncio.ensure_future(_disconnect(receive))
    complete = stuck = False
    try:
        while not gone.done():
            part, _ = await pool.call(next_part, {"parts": parts}, timeout_ms)
            if part is END:
                complete = True
                break
            if part:
                await send({"type": "http.response.body", "body": part, "more_body": True})
    except RunTimeout as exc:
        stuck = True  # the iterator is still executing in a written-off thread
        log.error("a streamed response was cut off: the next part took longer than %d ms "
                  "(SCORING_TIMEOUT_MS)", exc.timeout_ms)
    except RunFailed as exc:
        log.error("a streamed response was cut off: its iterator raised", exc_info=exc.error)
    finally:
        gone.cancel()
    if not stuck:
        await _close(pool, parts, response, timeout_ms)
    if complete:
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    elif gone.done() and not gone.cancelled():
        log.info("the client went away during a streamed response; its iterator was closed")
    return complete


async def _close(pool: RunPool, parts: Iterator[Any], response: Any, timeout_ms: int) -> None:
    try:
        await pool.call(close_parts, {"parts": parts, "response": response}, timeout_ms)
    except (RunFailed, RunTimeout) as exc:
        log.warning("closing a streamed response failed: %s", exc)


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
