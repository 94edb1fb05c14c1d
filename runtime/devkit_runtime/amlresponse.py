"""The response object a ``@rawhttp`` run() may return: ``AMLResponse(body, status, headers)``.

It mirrors azmlinfsrv's class (a Flask ``Response`` there): ``json_str=True`` sends
``json.dumps(body)`` as ``application/json``; ``None`` sends ``{}``; otherwise the body goes
out as given (str is UTF-8 encoded) with Flask's default ``text/html; charset=utf-8`` unless
the headers name a content type. Header values containing commas become repeated headers,
as azmlinfsrv does. Also reachable as ``azureml.contrib.services.aml_response`` and
``azureml_inference_server_http.api.aml_response`` (see :mod:`compat`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["AMLResponse"]

DEFAULT_MIMETYPE = "text/html; charset=utf-8"


class AMLResponse:
    """An HTTP response built by the scoring script; the server sends it as is."""

    def __init__(self, message: Any, status_code: int,
                 response_headers: Mapping[str, str] | None = None, json_str: bool = False,
                 run_function_failed: bool = False) -> None:
        self.status_code = int(status_code)
        self.run_function_failed = run_function_failed
        given = dict(response_headers or {})
        if message is None:
            body, content_type = b"{}", "application/json"
        elif json_str:
            body, content_type = json.dumps(message).encode(), "application/json"
        else:
            body, content_type = _as_bytes(message), DEFAULT_MIMETYPE
        if any(name.lower() == "content-type" for name in given) and not json_str:
            content_type = ""
        self.data = body
        self.headers: list[tuple[str, str]] = []
        if content_type:
            self.headers.append(("Content-Type", content_type))
        for name, value in given.items():
            for part in str(value).split(","):
                self.headers.append((name, part.strip()))

    @property
    def status(self) -> str:
        return str(self.status_code)

    @property
    def content_type(self) -> str:
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value
        return ""

    def get_data(self, as_text: bool = False) -> bytes | str:
        return self.data.decode("utf-8", "replace") if as_text else self.data

    def __repr__(self) -> str:
        return f"<AMLResponse {self.status_code} {len(self.data)} bytes>"


def _as_bytes(message: Any) -> bytes:
    if isinstance(message, (bytes, bytearray, memoryview)):
        return bytes(message)
    if isinstance(message, str):
        return message.encode("utf-8")
    # Flask would iterate other bodies; str() is the honest equivalent for odd types.
    return str(message).encode("utf-8")
