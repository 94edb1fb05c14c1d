"""``azureml.ai.monitoring`` for score.py, without Microsoft's package (see :mod:`compat`).

The API is Azure's (``azureml-ai-monitoring``)::

    from azureml.ai.monitoring import Collector
    from azureml.ai.monitoring.context import BasicCorrelationContext

    inputs = Collector(name="model_inputs", on_error=lambda e: logging.info(e))
    outputs = Collector(name="model_outputs")
    context = inputs.collect(input_df)      # -> a correlation context
    outputs.collect(output_df, context)     # the same correlationid: the rows join

A context defaults to the current request: its id is the request's ``x-request-id``,
which is also what the router's ``request``/``response`` events carry, so all four
collections of one request share a ``correlationid``. Sampling is decided from that id
(:mod:`sampling`), so a request is kept or dropped in every collection alike.

What the host configured arrives in ``DEVKIT_DATA_COLLECTOR``; without it, or for a
collection the deployment does not enable, ``collect`` only returns the context, as
Azure's SDK does when data collection is off.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from devkit_runtime.collection.events import Pending
from devkit_runtime.collection.sampling import sampled
from devkit_runtime.collection.settings import CollectionSettings
from devkit_runtime.collection.writer import EventWriter

__all__ = ["Collector", "CorrelationContext", "BasicCorrelationContext"]

_current = threading.local()  # the request run() is serving on this thread
_lock = threading.Lock()
_state: dict[str, Any] = {}


class CorrelationContext:
    """What joins the collections of one request (Azure's base class)."""

    def get_id(self) -> str:
        raise NotImplementedError

    def get_headers(self) -> dict[str, str]:
        return {}


class BasicCorrelationContext(CorrelationContext):
    __slots__ = ("_id", "_headers")  # one per collected request: kept small

    def __init__(self, id: str | None = None, headers: dict[str, str] | None = None) -> None:
        self._id = id or str(uuid.uuid4())
        self._headers = dict(headers) if headers else None

    def get_id(self) -> str:
        return self._id

    def get_headers(self) -> dict[str, str]:
        if self._headers is None:
            self._headers = {}
        return self._headers


class Collector:
    """Collects one named collection (``model_inputs``, ``model_outputs``, custom...)."""

    def __init__(self, *, name: str, on_error: Callable[[Exception], Any] | None = None,
                 **_ignored: Any) -> None:
        self.name = name
        self.on_error = on_error
        # This collector's writer when the deployment collects its name, else None; found
        # on first use (settings are fixed for the process), so collect() runs on every
        # request without looking them up again.
        self._target: EventWriter | None = None
        self._resolved = False

    def collect(self, data: Any,
                correlation_context: CorrelationContext | None = None) -> CorrelationContext:
        context = correlation_context or _request_context()
        try:
            if not self._resolved:
                self._target, self._resolved = _writer_for(self.name), True
            target = self._target
            if target is not None:
                self._collect(target, data, context)
        except Exception as exc:  # collecting must never fail the request
            if self.on_error is not None:
                self.on_error(exc)
        return context

    def _collect(self, writer: EventWriter, data: Any, context: CorrelationContext) -> None:
        correlation_id = context.get_id()
        rate = writer.settings.sampling_rate
        if rate < 1.0 and not sampled(correlation_id, rate):
            return
        request_id = getattr(_current, "request_id", None) or correlation_id
        writer.submit(Pending(self.name, data, writer.clock(), correlation_id, request_id))


def _request_context() -> CorrelationContext:
    request_id = getattr(_current, "request_id", None)
    return BasicCorrelationContext(request_id) if request_id else BasicCorrelationContext()


def _writer_for(name: str) -> EventWriter | None:
    """The writer of a collection this deployment enables, else None."""
    writer = _writer()
    return writer if writer is not None and writer.settings.enabled(name) else None


def _writer() -> EventWriter | None:
    """This process's writer, made on first use from ``DEVKIT_DATA_COLLECTOR``."""
    if "writer" not in _state:
        with _lock:
            if "writer" not in _state:
                settings = CollectionSettings.from_env()
                _state["writer"] = EventWriter(settings) if settings else None
    writer: EventWriter | None = _state["writer"]
    return writer


def around(run: Callable[..., Any], request_id: bytes) -> Callable[..., Any]:
    """``run`` called with ``request_id`` as the current request of its thread."""
    def call(**kwargs: Any) -> Any:
        _current.request_id = request_id.decode("latin-1")
        try:
            return run(**kwargs)
        finally:
            _current.request_id = None
    return call


def active() -> bool:
    """Whether this process collects anything (the server skips :func:`around` if not)."""
    return _writer() is not None
