"""The response a ``@rawhttp`` run() may return: ``AMLResponse(message, status_code,
response_headers={}, json_str=False)``, a werkzeug ``Response`` as it is a Flask one in Azure.

So scripts keep the whole response API: ``.mimetype``, ``.headers``, ``.status_code``,
``.set_cookie()``, ``.get_data()``, and generator bodies, which the server streams.
What the constructor adds is azmlinfsrv's: ``json_str=True`` sends ``json.dumps(message)``
as ``application/json``; ``None`` sends ``{}``; otherwise the body goes out as given with
Flask's default ``text/html; charset=utf-8``; the header ``x-ms-run-function-failed`` is
set; and each ``response_headers`` value is split at commas into repeated headers.

**devkit:** a ``Content-Type`` in ``response_headers`` replaces the default whatever its
spelling; azmlinfsrv only removes the default for the exact key ``Content-Type`` (and never
with ``json_str=True``), sending two content types otherwise.

This module imports werkzeug; only scripts that import it pay for that. Also reachable as
``azureml.contrib.services.aml_response`` and ``azureml_inference_server_http.api.
aml_response`` (see :mod:`compat`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from werkzeug.wrappers import Response

__all__ = ["AMLResponse"]


class AMLResponse(Response):
    """An HTTP response built by the scoring script; the server sends it as is."""

    default_mimetype = "text/html"  # flask.Response's default (werkzeug's is text/plain)

    def __init__(self, message: Any, status_code: int,
                 response_headers: Mapping[str, Any] | None = None, json_str: bool = False,
                 run_function_failed: bool = False) -> None:
        if message is None:
            super().__init__(json.dumps({}), status=status_code, mimetype="application/json")
        elif json_str:
            super().__init__(json.dumps(message), status=status_code,
                             mimetype="application/json")
        else:
            super().__init__(message, status=status_code)
        given = dict(response_headers or {})
        if any(name.lower() == "content-type" for name in given):
            self.headers.pop("Content-Type", None)
        self.headers["x-ms-run-function-failed"] = str(bool(run_function_failed))
        # Repeated headers are written as one comma-separated value (RFC 9110 §5.3);
        # azmlinfsrv sends each part as its own header, and so does devkit.
        for name, value in given.items():
            for part in str(value).split(","):
                self.headers.add(name, part.strip())

    @property
    def run_function_failed(self) -> bool:
        return self.headers.get("x-ms-run-function-failed") == "True"
