"""CORS answers as azmlinfsrv gives them when ``AML_CORS_ORIGINS`` is set.

azmlinfsrv enables flask-cors with ``methods=["GET", "POST"]`` and the configured origins;
flask-cors then matches origins case-insensitively, echoes the request's origin (also for
``*``), allows any requested header on a preflight, and adds ``Vary: Origin``. Written
here in a few lines because the runtime has no Flask, and these are the only rules the
differential test (tests/runtime/test_differential_surface.py) shows to matter.

**devkit:** only a request with an ``Origin`` header is a CORS request (W3C); flask-cors
also answers requests without one, listing every allowed origin.
"""

from __future__ import annotations

from collections.abc import Iterable

Headers = list[tuple[bytes, bytes]]
METHODS = (b"GET", b"POST")


class Cors:
    """The allowed origins (lower-cased; ``*`` for any) and the headers they earn."""

    def __init__(self, origins: Iterable[str]) -> None:
        self.origins = frozenset(origin.lower() for origin in origins)

    def __bool__(self) -> bool:
        return bool(self.origins)

    def headers(self, method: str, request: Headers) -> Headers:
        """The response headers for one request; none when its origin is not allowed."""
        origin = _header(request, b"origin")
        if origin is None or not ("*" in self.origins
                                  or origin.decode("latin-1").lower() in self.origins):
            return []
        answer = [(b"access-control-allow-origin", origin)]
        if method == "OPTIONS":
            asked_method = _header(request, b"access-control-request-method") or b""
            if asked_method.upper() in METHODS:
                asked = _header(request, b"access-control-request-headers")
                if asked:
                    names = b", ".join(name.strip() for name in asked.split(b","))
                    answer.append((b"access-control-allow-headers", names))
                answer.append((b"access-control-allow-methods", b", ".join(METHODS)))
        answer.append((b"vary", b"Origin"))
        return answer


def _header(raw: Headers, name: bytes) -> bytes | None:
    for key, value in raw:
        if key == name:
            return value
    return None
