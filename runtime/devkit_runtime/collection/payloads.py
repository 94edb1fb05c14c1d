"""The router's ``request`` and ``response`` collections: payload logging at the front.

Azure logs these at the managed endpoint's front end, so score.py needs no change; the
router is devkit's front end. For each scoring call that reached a deployment collecting
them, the router hands the request body and the answer's body to that deployment's
writer, keyed by the request's ``x-request-id``: the same id the replica's ``Collector``
uses as correlation id, so a request's four collections join. Sampling is the shared
per-request decision of :mod:`sampling`.

Writers follow the router config: one per collecting deployment, replaced when its
settings change, drained when the deployment goes away or the router stops.
"""

from __future__ import annotations

from collections.abc import Iterable

from devkit_runtime.collection.events import Pending
from devkit_runtime.collection.sampling import sampled
from devkit_runtime.collection.settings import CollectionSettings
from devkit_runtime.collection.writer import EventWriter

Headers = list[tuple[bytes, bytes]]


class PayloadLog:
    """The router's writers, by deployment name."""

    def __init__(self) -> None:
        self._writers: dict[str, EventWriter] = {}
        self.collecting = False  # whether any deployment collects (the router asks first)

    def apply(self, wanted: Iterable[tuple[str, CollectionSettings | None]]) -> None:
        """Follow a new router config: (deployment, its settings or None) pairs."""
        keep: dict[str, EventWriter] = {}
        for name, settings in wanted:
            if settings is None:
                continue
            current = self._writers.pop(name, None)
            if current is not None and current.settings == settings:
                keep[name] = current
            else:
                if current is not None:
                    current.close()
                keep[name] = EventWriter(settings)
        for gone in self._writers.values():
            gone.close()
        self._writers = keep
        self.collecting = bool(keep)

    def record(self, deployment: str, request_id: bytes, request_headers: Headers,
               request_body: bytes, response_headers: Headers,
               response_body: bytes | None) -> None:
        """Log one scoring call's payloads, when ``deployment`` collects them (a streamed
        response, ``None`` here, is not held in memory and not logged)."""
        writer = self._writers.get(deployment)
        if writer is None:
            return
        settings = writer.settings
        correlation = request_id.decode("latin-1")
        # This runs on the router's request path: checks inlined, one clock read.
        rate = settings.sampling_rate
        if rate < 1.0 and not sampled(correlation, rate):
            return
        when = writer.clock()
        collections = settings.collections
        if "request" in collections:
            writer.submit(Pending("request", request_body, when, correlation, correlation,
                                  _content_type(request_headers)))
        if response_body is not None and "response" in collections:
            writer.submit(Pending("response", response_body, when, correlation, correlation,
                                  _content_type(response_headers)))

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
        self.collecting = False


def _content_type(headers: Headers) -> str:
    for name, value in headers:
        if name == b"content-type":
            return value.decode("latin-1")
    return ""
