"""The request object a ``@rawhttp`` run() receives, and the ``rawhttp`` decorator.

Azure ML hands such scripts a Flask ``Request``; the runtime has no Flask, so
:class:`AMLRequest` offers the part of that surface scoring scripts use: ``.data``,
``.get_data()``, ``.headers`` (case-insensitive), ``.method``, ``.args`` (with
``getlist``), ``.get_json()``, ``.is_json``, ``.path``, ``.full_path``, ``.url``.
This module is also what ``azureml.contrib.services.aml_request`` and
``azureml_inference_server_http.api.aml_request`` resolve to (see :mod:`compat`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qsl

__all__ = ["AMLRequest", "rawhttp"]

RAWHTTP_ATTR = "__devkit_rawhttp__"
F = TypeVar("F", bound=Callable[..., Any])


def rawhttp(func: F) -> F:
    """Mark run() as wanting the raw request object instead of the body string.

    The mark is an attribute on the function (not a module-wide flag as in azmlinfsrv),
    so reloading a script that dropped the decorator stops using it.
    """
    setattr(func, RAWHTTP_ATTR, True)
    return func


def is_rawhttp(func: Callable[..., Any]) -> bool:
    seen: Callable[..., Any] | None = func
    while seen is not None:
        if getattr(seen, RAWHTTP_ATTR, False):
            return True
        seen = getattr(seen, "__wrapped__", None)
    return False


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only header mapping that keeps the sent spelling."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._items = pairs
        self._lower: dict[str, str] = {}
        for name, value in pairs:
            key = name.lower()
            self._lower[key] = f"{self._lower[key]}, {value}" if key in self._lower else value

    def __getitem__(self, name: str) -> str:
        return self._lower[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._lower

    def __iter__(self) -> Iterator[str]:
        return iter({name.title(): None for name, _ in self._items})

    def __len__(self) -> int:
        return len(self._lower)

    def getlist(self, name: str) -> list[str]:
        key = name.lower()
        return [value for item, value in self._items if item.lower() == key]


class Args(Mapping[str, str]):
    """Query parameters: ``args["k"]`` / ``args.get("k")`` give the first value."""

    def __init__(self, query: str) -> None:
        self._pairs = parse_qsl(query, keep_blank_values=True)
        self._first: dict[str, str] = {}
        for key, value in self._pairs:
            self._first.setdefault(key, value)

    def __getitem__(self, key: str) -> str:
        return self._first[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._first)

    def __len__(self) -> int:
        return len(self._first)

    def getlist(self, key: str) -> list[str]:
        return [value for item, value in self._pairs if item == key]

    def to_dict(self, flat: bool = True) -> dict[str, Any]:
        return dict(self._first) if flat else {key: self.getlist(key) for key in self._first}


class AMLRequest:
    """One HTTP request as a ``@rawhttp`` run() sees it."""

    def __init__(self, method: str, path: str, query: str, headers: list[tuple[str, str]],
                 body: bytes, host: str = "localhost") -> None:
        self.method = method
        self.path = path
        self.query_string = query.encode("latin-1")
        self.headers = Headers(headers)
        self.args = Args(query)
        self.data = body
        self.host = self.headers.get("host", host)

    @property
    def full_path(self) -> str:
        return f"{self.path}?{self.query_string.decode('latin-1')}"

    @property
    def url(self) -> str:
        suffix = f"?{self.query_string.decode('latin-1')}" if self.query_string else ""
        return f"http://{self.host}{self.path}{suffix}"

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def mimetype(self) -> str:
        return self.content_type.split(";", 1)[0].strip().lower()

    @property
    def is_json(self) -> bool:
        mime = self.mimetype
        return mime == "application/json" or (mime.startswith("application/")
                                               and mime.endswith("+json"))

    @property
    def json(self) -> Any:
        return self.get_json()

    def get_data(self, cache: bool = True, as_text: bool = False,
                 parse_form_data: bool = False) -> bytes | str:
        return self.data.decode("utf-8", "replace") if as_text else self.data

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """Parse the body as JSON, like Flask: None unless JSON (or ``force``)."""
        if not (force or self.is_json):
            return None
        try:
            return json.loads(self.data)
        except ValueError:
            if silent:
                return None
            raise

    def __repr__(self) -> str:
        return f"<AMLRequest {self.method} {self.full_path}>"
