"""Azure's event envelope around one collected payload: one JSON object per line.

Fields, in Azure's order: ``specversion`` (CloudEvents 1.0), ``id`` (this event),
``source`` (endpoint and deployment), ``type`` (``azureml.inference.<collection>``),
``datacontenttype``, ``time`` (UTC, ISO 8601), ``data``, ``correlationid`` (what joins a
request's collections), ``xrequestid`` (the request's ``x-request-id``), ``modelversion``,
``collectdatatype`` (the Python type collected, e.g. ``pandas.core.frame.DataFrame``),
``agent`` (who collected it) and ``contentrange`` (``bytes 0-N/size`` of the payload).

Payloads over 4 MB and binary payloads are not inlined, as in Azure: the payload goes to
a file of its own and the event carries ``dataref`` (its path, relative to the
deployment's folder) instead of ``data``.

Rendering (turning a DataFrame into JSON) happens on the writer thread, never on the
request path; :class:`Pending` holds what the request path captured.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as _str  # type: ignore[attr-defined]
from typing import Any

from devkit_runtime import __version__

MAX_INLINE_BYTES = 4 * 1024 * 1024
AGENT = f"devkit-runtime/{__version__}"
JSON_TYPE = "application/json"
DATAFRAME = "pandas.core.frame.DataFrame"
_AGENT = _str(AGENT)
_UUID4_KEEP = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)
_random_bits = random.Random().getrandbits
_clock_cache: list[Any] = [None, ""]
_DECODER = json.JSONDecoder()


class Pending:
    """One payload to collect, captured on the request path and rendered later. A slotted
    class, not a frozen dataclass: it is built on the request path, twice per request."""

    __slots__ = ("collection", "data", "time", "correlation_id", "request_id",
                 "content_type")

    def __init__(self, collection: str, data: Any, time: float, correlation_id: str,
                 request_id: str, content_type: str = JSON_TYPE) -> None:
        self.collection = collection
        self.data = data  # a DataFrame, dict, list, str, or raw request/response bytes
        self.time = time
        self.correlation_id = correlation_id
        self.request_id = request_id
        self.content_type = content_type  # of ``data`` when it is raw bytes


@dataclass(frozen=True)
class Rendered:
    """An event line (without its newline) and, when not inlined, the payload's file."""

    line: str
    side_name: str | None = None
    side_bytes: bytes = b""


def render(pending: Pending, source: str, model_version: str, side_dir: str) -> Rendered:
    """The event for ``pending``; ``side_dir`` is where a non-inlined payload would go.

    Written out field by field rather than with ``json.dumps`` of a dict: the writer
    thread shares the GIL with request handling, and this is 4x cheaper. Every string
    that does not come from devkit itself goes through the json module's own escaping."""
    payload, content_type, data_type = _payload(pending)
    event_id = new_event_id()
    size = len(payload)
    head = (f'{{"specversion": "1.0", "id": "{event_id}", "source": {_str(source)}, '
            f'"type": {_str("azureml.inference." + pending.collection)}, '
            f'"datacontenttype": {_str(content_type)}, "time": "{timestamp(pending.time)}"')
    tail = (f'"correlationid": {_str(pending.correlation_id)}, '
            f'"xrequestid": {_str(pending.request_id)}, "modelversion": {_str(model_version)}, '
            f'"collectdatatype": {_str(data_type)}, "agent": {_AGENT}, '
            f'"contentrange": "bytes 0-{max(size - 1, 0)}/{size}"}}')
    if content_type == JSON_TYPE and size <= MAX_INLINE_BYTES:
        # The payload is JSON text already: spliced in, not parsed and dumped again.
        return Rendered(f"{head}, \"data\": {payload.decode('utf-8')}, {tail}")
    extension = "json" if content_type == JSON_TYPE else "bin"
    side = f"{side_dir}/{event_id}.{extension}"
    return Rendered(f"{head}, \"dataref\": {_str(side)}, {tail}", side, payload)


def new_event_id() -> str:
    """A random (version 4) UUID; ids need uniqueness, not secrecy (as the server's
    request ids: 5x cheaper than ``uuid.uuid4()``)."""
    text = "%032x" % (_random_bits(128) & _UUID4_KEEP | _UUID4_SET)
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def timestamp(when: float) -> str:
    """UTC, ISO 8601 with milliseconds and a Z; the second's part is formatted once."""
    second = int(when)
    if _clock_cache[0] != second:
        _clock_cache[:] = [second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))]
    return f"{_clock_cache[1]}.{int((when - second) * 1000):03d}Z"


def _payload(pending: Pending) -> tuple[bytes, str, str]:
    """(payload bytes, datacontenttype, collectdatatype) of what was collected."""
    data = pending.data
    data_type = f"{type(data).__module__}.{type(data).__qualname__}"
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data).strip()
        if _is_json(pending.content_type) and _valid_json(raw):
            if b"\n" in raw or b"\r" in raw:  # pretty-printed: one event is one line
                raw = json.dumps(json.loads(raw)).encode("utf-8")
            return raw, JSON_TYPE, data_type
        try:
            return json.dumps(raw.decode("utf-8")).encode(), JSON_TYPE, data_type
        except UnicodeDecodeError:
            return raw, pending.content_type or "application/octet-stream", data_type
    to_json = getattr(data, "to_json", None)
    if callable(to_json) and hasattr(data, "columns"):  # a pandas DataFrame
        # Azure's name for the type, whichever module pandas reports it from.
        return to_json(orient="records").encode("utf-8"), JSON_TYPE, DATAFRAME
    return _ENCODER.encode(data).encode("utf-8"), JSON_TYPE, data_type


def _is_json(content_type: str) -> bool:
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime == JSON_TYPE or (mime.startswith("application/") and mime.endswith("+json"))


def _valid_json(raw: bytes) -> bool:
    # raw_decode on str: json.loads(bytes) spends as long guessing the encoding as parsing
    try:
        text = raw.decode("utf-8")
        end = _DECODER.raw_decode(text)[1]
    except ValueError:  # UnicodeDecodeError included
        return False
    return end == len(text)


def _fallback(value: Any) -> Any:
    """numpy arrays and scalars inside dicts/lists; anything else as its str()."""
    tolist = getattr(value, "tolist", None)
    return tolist() if callable(tolist) else str(value)


_ENCODER = json.JSONEncoder(default=_fallback)  # one instance: dumps(default=...) builds one
