"""The request object a ``@rawhttp`` run() receives: a werkzeug ``Request``, as in Azure.

In azmlinfsrv the object is a ``flask.Request``, so scoring scripts use the whole werkzeug
API: ``.files`` (multipart, ``getlist``, ``FileStorage.stream/.filename``), ``.form``,
``.values``, ``.args``, ``.json`` / ``.get_json()``, ``.get_data()``, ``.data``, ``.stream``,
``.cookies``, ``.headers``, ``.method``, ``.path``, ``.url``, ``.content_type``,
``.mimetype``. Rather than re-implement that surface, :class:`AMLRequest` *is* a werkzeug
``Request`` (Flask's own base class) over a WSGI environ built from the ASGI request.

This module imports werkzeug, so only ``@rawhttp`` scripts load it: the server's scoring
path imports :mod:`devkit_runtime.rawhttp` and builds requests through
:func:`from_request` lazily. It is also what ``azureml.contrib.services.aml_request`` and
``azureml_inference_server_http.api.aml_request`` resolve to (see :mod:`compat`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from werkzeug.wrappers import Request

from devkit_runtime.rawhttp import rawhttp

__all__ = ["AMLRequest", "rawhttp"]


class AMLRequest(Request):
    """One HTTP request as a ``@rawhttp`` run() sees it (Flask's ``Request`` minus the app:
    the form limits are werkzeug's defaults, which are also Flask's)."""


def environ(method: str, path: str, query: str, headers: Sequence[tuple[str, str]],
            body: bytes, client: tuple[str, int] | None = None,
            server: tuple[str, int] | None = None) -> dict[str, Any]:
    """A WSGI environ (PEP 3333) for one buffered request.

    Header names become CGI keys as gunicorn (azmlinfsrv's WSGI server) makes them:
    repeated headers are joined with ``,``, and names containing ``_`` are dropped because
    ``x_a`` and ``x-a`` would map to the same key (gunicorn's default ``header_map``).
    """
    host, port = server or ("localhost", 80)
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": query,
        "SERVER_NAME": host,
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": client[0] if client else "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if body:
        env["CONTENT_LENGTH"] = str(len(body))
    for name, value in headers:
        if "_" in name:
            continue
        key = name.upper().replace("-", "_")
        if key == "CONTENT_LENGTH":
            env[key] = str(len(body))  # the buffered body's own length is the truth
            continue
        if key != "CONTENT_TYPE":
            key = f"HTTP_{key}"
        env[key] = f"{env[key]},{value}" if key in env else value
    return env


def from_request(method: str, path: str, query: str, headers: Sequence[tuple[str, str]],
                 body: bytes, client: tuple[str, int] | None = None,
                 server: tuple[str, int] | None = None) -> AMLRequest:
    return AMLRequest(environ(method, path, query, headers, body, client, server))

