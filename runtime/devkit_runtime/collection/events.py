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
encoded per request). Events are encoded by orjson, the payload spliced in as an
``orjson.Fragment`` when it is JSON already: the writer shares the GIL with request
handling, so its cost per event is the server's, and orjson is 2x cheaper than the json
module on a small event and 5-10x on a 10 KB payload (BENCHMARKS.md).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

import orjson

from devkit_runtime import __version__

MAX_INLINE_BYTES = 4 * 1024 * 1024
AGENT = f"devkit-runtime/{__version__}"
JSON_TYPE = "application/json"
DATAFRAME = "pandas.core.frame.DataFrame"
BYTES = "builtins.bytes"
# numpy arrays and scalars inside dicts/lists, and non-string keys as json.dumps writes them.
_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
_UUID4_KEEP = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)
_random_bits = random.Random().getrandbits
_clock_cache: list[tuple[int, str]] = [(-1, "")]
_JSON_MEDIA: dict[str, bool] = {}
_Fragment = orjson.Fragment
_dumps = orjson.dumps
_loads = orjson.loads


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

    line: bytes
    name: str
    payload: bytes


class EventFormat:
    """Renders the events of one deployment's collections to JSON lines (bytes, without
    the newline). The payload is encoded once and spliced into the event, never parsed
    and dumped again when it arrived as JSON."""

    def __init__(self, source: str, model_version: str) -> None:
        self._source = source
        self._model_version = model_version
        self._types: dict[str, str] = {}  # collection -> Azure's event type
        self._kinds: dict[type, str] = {}  # collected object's type -> collectdatatype

    def render(self, pending: Pending, side_dir: str) -> bytes | SideFile:
        """The event line for ``pending``, or a :class:`SideFile` when its payload goes to
        a file of its own under ``side_dir`` (too large, or not JSON)."""
        data = pending.data
        text = _embeddable(data) if type(data) is bytes \
            and _is_json(pending.content_type) else None
        if text is not None:  # the router's bodies: embedded as they arrived
            raw, content_type, kind = b"", JSON_TYPE, BYTES
        else:
            text, raw, content_type, kind = self._payload(pending)
        size = len(raw) if text is None else len(text)
        event_id = new_event_id()
        value: str | orjson.Fragment
        if text is not None and size <= MAX_INLINE_BYTES:
            key, value, side = "data", _Fragment(text), ""
        else:
            key = "dataref"
            value = side = f"{side_dir}/{event_id}.{'bin' if text is None else 'json'}"
        event_type = self._types.get(pending.collection) \
            or self._types.setdefault(pending.collection,
                                      "azureml.inference." + pending.collection)
        line = _dumps({"specversion": "1.0", "id": event_id, "source": self._source,
                       "type": event_type, "datacontenttype": content_type,
                       "time": timestamp(pending.time), key: value,
                       "correlationid": pending.correlation_id,
                       "xrequestid": pending.request_id,
                       "modelversion": self._model_version, "collectdatatype": kind,
                       "agent": AGENT,
                       "contentrange": f"bytes 0-{size - 1 if size else 0}/{size}"})
        return SideFile(line, side, raw if text is None else text) if side else line

    def _kind(self, kind: type) -> str:
        """collectdatatype of a collected object's type, cached."""
        found = self._kinds.get(kind)
        if found is None:
            found = self._kinds[kind] = f"{kind.__module__}.{kind.__qualname__}"
        return found

    def _payload(self, pending: Pending) -> tuple[bytes | None, bytes, str, str]:
        """(JSON bytes or None, raw bytes when not JSON, datacontenttype,
        collectdatatype) of what was collected."""
        data = pending.data
        kind = type(data)
        if kind is dict or kind is list:  # the common case: no probing
            return _dumps(data, default=_fallback, option=_OPTIONS), b"", JSON_TYPE, \
                self._kind(kind)
        if isinstance(data, (bytes, bytearray, memoryview)):
            return (*_raw_payload(bytes(data), pending.content_type), self._kind(kind))
        to_json = getattr(data, "to_json", None)
        if callable(to_json) and hasattr(data, "columns"):  # a pandas DataFrame
            # Azure's name for the type, whichever module pandas reports it from.
            return to_json(orient="records").encode("utf-8"), b"", JSON_TYPE, DATAFRAME
        return _dumps(data, default=_fallback, option=_OPTIONS), b"", JSON_TYPE, \
            self._kind(kind)


def _raw_payload(raw: bytes, content_type: str) -> tuple[bytes | None, bytes, str]:
    """Request and response bodies: embedded as they are when they are valid JSON on one
    line, re-encoded when pretty-printed (one event is one line), as a JSON string when
    they are text, else referenced."""
    raw = raw.strip()
    if _is_json(content_type):
        try:
            value = _loads(raw)
        except orjson.JSONDecodeError:
            pass
        else:
            return (_dumps(value) if _multiline(raw) else raw), b"", JSON_TYPE
    try:
        return _dumps(raw.decode("utf-8")), b"", JSON_TYPE
    except UnicodeDecodeError:
        return None, raw, content_type or "application/octet-stream"


def _embeddable(raw: bytes) -> bytes | None:
    """The body (stripped) when it is one JSON value on one line, else None. orjson
    rejects what JSON does not allow (NaN, invalid UTF-8), so a line stays valid JSON."""
    raw = raw.strip()
    if _multiline(raw):
        return None
    try:
        _loads(raw)
    except orjson.JSONDecodeError:
        return None
    return raw


def _multiline(raw: bytes) -> bool:
    """Whether a body spans lines. find(), not ``in``: on bytes, ``in`` first tries its
    operand as an integer, raising and clearing a TypeError (CPython 3.11), twice per
    event here."""
    return raw.find(b"\n") >= 0 or raw.find(b"\r") >= 0


def new_event_id() -> str:
    """A random (version 4) UUID; ids need uniqueness, not secrecy (as the server's
    request ids: 5x cheaper than ``uuid.uuid4()``)."""
    text = "%032x" % (_random_bits(128) & _UUID4_KEEP | _UUID4_SET)
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def timestamp(when: float) -> str:
    """UTC, ISO 8601 with milliseconds and a Z; the second's part is formatted once. The
    cache is one (second, text) tuple, read once: threads render at the same time."""
    second = int(when)
    cached = _clock_cache[0]
    if cached[0] != second:
        cached = _clock_cache[0] = (second, time.strftime("%Y-%m-%dT%H:%M:%S",
                                                          time.gmtime(second)))
    return f"{cached[1]}.{int((when - second) * 1000):03d}Z"


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


def _fallback(value: Any) -> Any:
    """What orjson cannot encode itself (a numpy array that is not C-contiguous, say):
    its ``tolist()`` when it has one, else its str()."""
    tolist = getattr(value, "tolist", None)
    return tolist() if callable(tolist) else str(value)
