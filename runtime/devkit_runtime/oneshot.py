"""A whole fixed-length response in one ``transport.write`` (status line, headers, body).

Through ASGI a response is two messages, and uvicorn turns them into two writes (two
``send()`` system calls, two TCP segments) after checking every header against two regular
expressions. For the server's own answers (JSON with headers the server composed) neither
the second write nor the checks buy anything, and together they are a measurable share of
a request (BENCHMARKS.md, "Inference server vs azmlinfsrv").

:func:`write_whole` does what uvicorn's ``RequestResponseCycle.send`` would do for the two
messages — default headers (``date``), ``connection: close`` when the connection will not be
kept, no body for ``HEAD``, closing the transport, telling the protocol the response is
complete — as one write. It applies only when ``send`` is that cycle's bound method and the
cycle is in the state it expects; otherwise it returns False and the caller sends the two
ASGI messages as before (another server, a middleware wrapping ``send``, a paused or closed
transport). Headers a scoring script supplies never come here: they keep uvicorn's checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

try:
    from uvicorn.protocols.http import httptools_impl as _httptools_impl
except ImportError:  # another uvicorn layout: every response takes the ASGI path
    _httptools_impl = None  # type: ignore[assignment]
_CYCLE: Any = getattr(_httptools_impl, "RequestResponseCycle", None)
_STATUS_LINE: dict[int, bytes] = getattr(_httptools_impl, "STATUS_LINE", None) or {}

Headers = list[tuple[bytes, bytes]]
_CLOSE = b"connection: close\r\n"


def write_whole(send: Callable[..., Any], status: int, headers: Headers, body: bytes) -> bool:
    """Write the response at once and complete the cycle; False when the caller must send
    the ASGI messages itself. ``headers`` must already hold ``content-length``."""
    cycle: Any = getattr(send, "__self__", None)
    if _CYCLE is None or type(cycle) is not _CYCLE:
        return False
    if cycle.response_started or cycle.disconnected or cycle.flow.write_paused:
        return False  # let uvicorn's send() drain, raise or drop as it does
    line = _STATUS_LINE.get(status)
    if line is None:
        return False
    cycle.response_started = True
    cycle.waiting_for_100_continue = False
    parts = [line]
    for name, value in cycle.default_headers:
        parts += (name, b": ", value, b"\r\n")
    for name, value in headers:  # lower case, as uvicorn writes them
        parts += (name.lower(), b": ", value, b"\r\n")
    if not cycle.keep_alive:
        parts.append(_CLOSE)
    parts.append(b"\r\n")
    if cycle.scope["method"] != "HEAD":
        parts.append(body)
    transport = cycle.transport
    transport.write(b"".join(parts))
    cycle.response_complete = True
    cycle.message_event.set()
    if not cycle.keep_alive:
        transport.close()
    cycle.on_response()
    return True
