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
request path; :class:`Pending` holds what the request path captured (for the router's
request and response collections, the body bytes it already held: nothing is copied or
encoded per request).
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
_JSON_TYPE = _str(JSON_TYPE)
_DATAFRAME = _str(DATAFRAME)
_UUID4_KEEP = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)
_random_bits = random.Random().getrandbits
_clock_cache: list[Any] = [None, ""]
_DECODER = json.JSONDecoder()
_SCAN = _DECODER.scan_once  # type: ignore[attr-defined]  # set in __init__, untyped
_JSON_MEDIA: dict[str, bool] = {}
_BYTES = _str("builtins.bytes")


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
class SideFile:
    """An event whose payload is not inlined: the line (without its newline) refers to
    ``name`` (relative to the deployment's folder), which must hold ``payload``."""

    line: str
    name: str
    payload: bytes


class EventFormat:
    """Renders the events of one deployment's collections to JSON lines.

    Written out with one ``%`` template per collection rather than ``json.dumps`` of a
    dict: the writer thread shares the GIL with request handling, so its cost per event is
    the server's. The fields that never change for a deployment (source, type, model
    version, agent) are escaped once per collection; every string that does not come from
    devkit itself still goes through the json module's own escaping."""

    def __init__(self, source: str, model_version: str) -> None:
        self._source = _str(source)
        self._model_version = _str(model_version)
        self._templates: dict[str, str] = {}
        self._types: dict[type, tuple[str, str]] = {}

    def render(self, pending: Pending, side_dir: str) -> str | SideFile:
        """The event line for ``pending``, or a :class:`SideFile` when its payload goes to
        a file of its own under ``side_dir`` (too large, or not JSON)."""
        data = pending.data
        if type(data) is bytes and _is_json(pending.content_type):
            text = _valid_json(data)  # the router's bodies: embedded as they are
            if text is None or "\n" in text or "\r" in text:
                text, raw, content_type, data_type = self._payload(pending)
            else:
                raw, content_type, data_type = b"", _JSON_TYPE, _BYTES
        else:
            text, raw, content_type, data_type = self._payload(pending)
        event_id = new_event_id()
        if text is None:
            size = len(raw)
        else:  # isascii() is O(1) on CPython's compact strings; json's output is ASCII
            size = len(text) if text.isascii() else len(text.encode("utf-8"))
        correlation = _str(pending.correlation_id)
        request = correlation if pending.request_id == pending.correlation_id \
            else _str(pending.request_id)
        template = self._templates.get(pending.collection) or self._template(pending.collection)
        if text is not None and size <= MAX_INLINE_BYTES:
            # The payload is JSON text already: spliced in, not parsed and dumped again.
            return template % (event_id, content_type, timestamp(pending.time), "data", text,
                               correlation, request, data_type, size - 1 if size else 0, size)
        extension = "json" if text is not None else "bin"
        side = f"{side_dir}/{event_id}.{extension}"
        payload = raw if text is None else text.encode("utf-8")
        return SideFile(template % (event_id, content_type, timestamp(pending.time), "dataref",
                                    _str(side), correlation, request, data_type,
                                    size - 1 if size else 0, size), side, payload)

    def _template(self, collection: str) -> str:
        def fixed(text: str) -> str:  # devkit's own fields, escaped for JSON and for %
            return text.replace("%", "%%")
        template = ('{"specversion": "1.0", "id": "%s", "source": ' + fixed(self._source)
                    + ', "type": ' + fixed(_str("azureml.inference." + collection))
                    + ', "datacontenttype": %s, "time": "%s", "%s": %s, "correlationid": %s, '
                    '"xrequestid": %s, "modelversion": ' + fixed(self._model_version)
                    + ', "collectdatatype": %s, "agent": ' + fixed(_AGENT)
                    + ', "contentrange": "bytes 0-%d/%d"}')
        self._templates[collection] = template
        return template

    def _type_name(self, kind: type) -> tuple[str, str]:
        """(collectdatatype as JSON, as text) of a collected object's type, cached."""
        found = self._types.get(kind)
        if found is None:
            name = f"{kind.__module__}.{kind.__qualname__}"
            found = self._types[kind] = (_str(name), name)
        return found

    def _payload(self, pending: Pending) -> tuple[str | None, bytes, str, str]:
        """(JSON text or None, raw bytes when not JSON, datacontenttype as JSON,
        collectdatatype as JSON) of what was collected."""
        data = pending.data
        kind = type(data)
        if kind is dict or kind is list:  # the common case: no probing
            return _ENCODER.encode(data), b"", _JSON_TYPE, self._type_name(kind)[0]
        if isinstance(data, (bytes, bytearray, memoryview)):
            return (*_raw_payload(bytes(data), pending.content_type),
                    self._type_name(kind)[0])
        to_json = getattr(data, "to_json", None)
        if callable(to_json) and hasattr(data, "columns"):  # a pandas DataFrame
            # Azure's name for the type, whichever module pandas reports it from.
            return to_json(orient="records"), b"", _JSON_TYPE, _DATAFRAME
        return _ENCODER.encode(data), b"", _JSON_TYPE, self._type_name(kind)[0]


def _raw_payload(raw: bytes, content_type: str) -> tuple[str | None, bytes, str]:
    """Request and response bodies: embedded as they are when they are valid JSON (no
    parse and dump again), as a JSON string when they are text, else referenced."""
    raw = raw.strip()
    if _is_json(content_type):
        text = _valid_json(raw)
        if text is not None:
            if "\n" in text or "\r" in text:  # pretty-printed: one event is one line
                text = _ENCODER.encode(json.loads(text))
            return text, b"", _JSON_TYPE
    try:
        return _ENCODER.encode(raw.decode("utf-8")), b"", _JSON_TYPE
    except UnicodeDecodeError:
        return None, raw, _str(content_type or "application/octet-stream")


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


def _is_json(content_type: str) -> bool:
    """Whether a content type is JSON; remembered per spelling (a handful per process)."""
    known = _JSON_MEDIA.get(content_type)
    if known is None:
        mime = content_type.split(";", 1)[0].strip().lower()
        known = mime == JSON_TYPE or (mime.startswith("application/")
                                      and mime.endswith("+json"))
        if len(_JSON_MEDIA) < 64:
            _JSON_MEDIA[content_type] = known
    return known


def _valid_json(raw: bytes) -> str | None:
    """The body as text (stripped) when it is one JSON value, else None. The C scanner on
    str, directly: json.loads(bytes) spends as long guessing the encoding as parsing."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text[:1].isspace() or text[-1:].isspace():
        text = text.strip()
    try:
        end = _SCAN(text, 0)[1]
    except (StopIteration, ValueError):
        return None
    return text if end == len(text) else None


def _fallback(value: Any) -> Any:
    """numpy arrays and scalars inside dicts/lists; anything else as its str()."""
    tolist = getattr(value, "tolist", None)
    return tolist() if callable(tolist) else str(value)


_ENCODER = json.JSONEncoder(default=_fallback)  # one instance: dumps(default=...) builds one
