"""The ``@rawhttp`` mark, apart from the request class so that loading a plain ``run(data)``
script (and the server's scoring path) never imports werkzeug.

:mod:`devkit_runtime.amlrequest` re-exports :func:`rawhttp` next to ``AMLRequest``; that
is the module Microsoft's import paths resolve to (see :mod:`compat`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

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
