"""Comparing two answers to the same request: the live deployment's and the shadow's.

Pure functions, no I/O, so the rules read in one place and are shared by the router's
shadow diff (:mod:`devkit_runtime.router.shadow`) and ``devkit replay`` on the host:

- the statuses differ → a disagreement at the pseudo-path ``status``;
- both bodies are JSON (a JSON content type and both parse) → a structural diff: objects
  by key, arrays by index (a length change is a difference at the array's path), numbers
  equal within ``|a - b| <= atol + rtol * |a|`` (numpy's ``isclose`` rule), everything
  else by equality; paths listed in ``ignore`` are skipped;
- otherwise the bodies are compared byte for byte (pseudo-path ``body``).

Paths are JSONPath-like (``$.predictions[3].label``). :func:`field_of` folds array indices
to ``[*]`` so "which field differs most often" counts ``$.predictions[*]`` once, not one
entry per row.

Hand-written rather than a diff library: the runtime's dependencies stay uvicorn +
httptools (it is installed into every image), and the comparison needs only these rules.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_PATHS = 20  # differing paths kept per comparison; more are counted, not listed
EXCERPT_CHARS = 120

_INDEX = re.compile(r"\[\d+\]")


@dataclass(frozen=True)
class Tolerance:
    """How close two JSON numbers must be to agree, and paths that never count."""

    atol: float = 1e-9
    rtol: float = 1e-6
    ignore: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"atol": self.atol, "rtol": self.rtol, "ignore": list(self.ignore)}


@dataclass(frozen=True)
class Answer:
    """One side's outcome. ``body`` is None when no answer came back (``failure`` says
    why: a timeout, a refused connection; ``status`` is then the router's code for it) or
    when the live answer was streamed to the client (``failure`` "streamed": its body is
    not kept, so the pair is compared on status alone)."""

    status: int
    body: bytes | None
    content_type: str = ""
    seconds: float = 0.0
    failure: str = ""

    @property
    def is_error(self) -> bool:
        return self.status >= 400  # the router's own failures are 408/429/502/503


@dataclass(frozen=True)
class Difference:
    path: str
    live: str
    shadow: str

    def as_json(self) -> dict[str, str]:
        return {"path": self.path, "live": self.live, "shadow": self.shadow}


@dataclass(frozen=True)
class Verdict:
    """The comparison of one pair of answers."""

    differences: tuple[Difference, ...] = ()
    more: int = 0  # differing paths beyond MAX_PATHS
    kind: str = "json"  # "json", "bytes" or "status"
    fields: tuple[str, ...] = field(default=())

    @property
    def agrees(self) -> bool:
        return not self.differences

    @property
    def status_differs(self) -> bool:
        return any(d.path == "status" for d in self.differences)


def compare(live: Answer, shadow: Answer, tolerance: Tolerance | None = None) -> Verdict:
    """Compare the two answers under ``tolerance`` (default :class:`Tolerance`)."""
    tolerance = tolerance or Tolerance()
    if live.status != shadow.status:
        return _verdict([Difference("status", str(live.status), str(shadow.status))], 0,
                        "status")
    if live.body is None or shadow.body is None:
        return Verdict(kind="status")  # both failed the same way: nothing more to compare
    if live.body == shadow.body:
        return Verdict(kind="bytes")  # the common case, and no parse needed to know it
    parsed = _both_json(live, shadow)
    if parsed is None:
        if live.body == shadow.body:
            return Verdict(kind="bytes")
        return _verdict([Difference("body", _excerpt_bytes(live.body),
                                    _excerpt_bytes(shadow.body))], 0, "bytes")
    found: list[Difference] = []
    total = 0
    for difference in _walk(parsed[0], parsed[1], "$", tolerance):
        total += 1
        if len(found) < MAX_PATHS:
            found.append(difference)
    return _verdict(found, total - len(found), "json")


def field_of(path: str) -> str:
    """``$.rows[3].score`` → ``$.rows[*].score``: the field, whatever the row."""
    return _INDEX.sub("[*]", path)


def _verdict(found: list[Difference], more: int, kind: str) -> Verdict:
    fields = tuple(dict.fromkeys(field_of(d.path) for d in found))
    return Verdict(tuple(found), more, kind, fields)


def _both_json(live: Answer, shadow: Answer) -> tuple[Any, Any] | None:
    if not (_is_json_type(live.content_type) and _is_json_type(shadow.content_type)):
        return None
    try:
        assert live.body is not None and shadow.body is not None
        return json.loads(live.body), json.loads(shadow.body)
    except ValueError:  # a JSON content type with a non-JSON body: compare the bytes
        return None


def _is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _walk(live: Any, shadow: Any, path: str, tolerance: Tolerance) -> Iterator[Difference]:
    if tolerance.ignore and (path in tolerance.ignore or field_of(path) in tolerance.ignore):
        return
    if isinstance(live, dict) and isinstance(shadow, dict):
        for key in list(live) + [k for k in shadow if k not in live]:
            child = f"{path}.{key}" if _plain_key(key) else f"{path}[{json.dumps(key)}]"
            if key not in shadow or key not in live:
                if not _ignored(child, tolerance):
                    yield Difference(child, _excerpt(live.get(key, _MISSING)),
                                     _excerpt(shadow.get(key, _MISSING)))
            elif not _plainly_equal(live[key], shadow[key]):
                yield from _walk(live[key], shadow[key], child, tolerance)
    elif isinstance(live, list) and isinstance(shadow, list):
        yield from _walk_list(live, shadow, path, tolerance)
    elif not _same_scalar(live, shadow, tolerance):
        yield Difference(path, _excerpt(live), _excerpt(shadow))


def _walk_list(live: Sequence[Any], shadow: Sequence[Any], path: str,
               tolerance: Tolerance) -> Iterator[Difference]:
    if len(live) != len(shadow) and not _ignored(f"{path}.length", tolerance):
        yield Difference(f"{path}.length", str(len(live)), str(len(shadow)))
    for index in range(min(len(live), len(shadow))):
        if not _plainly_equal(live[index], shadow[index]):
            yield from _walk(live[index], shadow[index], f"{path}[{index}]", tolerance)


_PLAIN = (str, int, float, bool, type(None))


def _plainly_equal(live: Any, shadow: Any) -> bool:
    """Equal scalars of the same type: the common case, settled without a recursive step
    (same type, so ``True`` never equals ``1`` here; NaN is never equal and walks on)."""
    kind = type(live)
    return kind is type(shadow) and kind in _PLAIN and live == shadow


def _ignored(path: str, tolerance: Tolerance) -> bool:
    return bool(tolerance.ignore) and (path in tolerance.ignore
                                       or field_of(path) in tolerance.ignore)


def _same_scalar(live: Any, shadow: Any, tolerance: Tolerance) -> bool:
    if _is_number(live) and _is_number(shadow):
        a, b = float(live), float(shadow)
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return abs(a - b) <= tolerance.atol + tolerance.rtol * abs(a)
    return bool(type(live) is type(shadow) and live == shadow)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _plain_key(key: str) -> bool:
    return key.isidentifier()


class _Missing:
    def __repr__(self) -> str:
        return "(missing)"


_MISSING = _Missing()


def _excerpt(value: Any) -> str:
    text = repr(value) if value is _MISSING else json.dumps(value, default=str)
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS - 3] + "..."


def _excerpt_bytes(body: bytes) -> str:
    text = body[:EXCERPT_CHARS].decode("utf-8", "replace")
    return text if len(body) <= EXCERPT_CHARS else text[:EXCERPT_CHARS - 3] + "..."
