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
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from devkit_runtime import __version__

MAX_INLINE_BYTES = 4 * 1024 * 1024
AGENT = f"devkit-runtime/{__version__}"
JSON_TYPE = "application/json"
DATAFRAME = "pandas.core.frame.DataFrame"


@dataclass(frozen=True)
class Pending:
    """One payload to collect, captured on the request path and rendered later."""

    collection: str
    data: Any  # a DataFrame, dict, list, str, or the raw bytes of a request/response
    time: float
    correlation_id: str
    request_id: str
    content_type: str = JSON_TYPE  # of ``data`` when it is raw bytes


@dataclass(frozen=True)
class Rendered:
    """An event line (without its newline) and, when not inlined, the payload's file."""

    line: str
    side_name: str | None = None
    side_bytes: bytes = b""


def render(pending: Pending, source: str, model_version: str, side_dir: str) -> Rendered:
    """The event for ``pending``; ``side_dir`` is where a non-inlined payload would go."""
    payload, content_type, data_type = _payload(pending)
    event_id = str(uuid.uuid4())
    head: dict[str, Any] = {
        "specversion": "1.0", "id": event_id, "source": source,
        "type": f"azureml.inference.{pending.collection}", "datacontenttype": content_type,
        "time": datetime.fromtimestamp(pending.time, timezone.utc)
        .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    size = len(payload)
    tail = {"correlationid": pending.correlation_id, "xrequestid": pending.request_id,
            "modelversion": model_version, "collectdatatype": data_type, "agent": AGENT,
            "contentrange": f"bytes 0-{max(size - 1, 0)}/{size}"}
    inline = content_type == JSON_TYPE and size <= MAX_INLINE_BYTES
    if inline:
        # The payload is JSON text already: spliced in, not parsed and dumped again.
        text = f"{json.dumps(head)[:-1]}, \"data\": {payload.decode('utf-8')}, " \
               f"{json.dumps(tail)[1:]}"
        return Rendered(text)
    extension = "json" if content_type == JSON_TYPE else "bin"
    side = f"{side_dir}/{event_id}.{extension}"
    head["dataref"] = side
    return Rendered(json.dumps({**head, **tail}), side, payload)


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
    return json.dumps(data, default=_fallback).encode("utf-8"), JSON_TYPE, data_type


def _is_json(content_type: str) -> bool:
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime == JSON_TYPE or (mime.startswith("application/") and mime.endswith("+json"))


def _valid_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True


def _fallback(value: Any) -> Any:
    """numpy arrays and scalars inside dicts/lists; anything else as its str()."""
    tolist = getattr(value, "tolist", None)
    return tolist() if callable(tolist) else str(value)
