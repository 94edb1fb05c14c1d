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


@dataclass
class Answer:
    """One side's outcome. ``body`` is None when no answer came back (``failure`` says
    why: a timeout, a refused connection; ``status`` is then the router's code for it) or
    when the live answer was streamed to the client (``failure`` "streamed": its body is
    not kept, so the pair is compared on status alone). Built twice per mirrored request,
    so a plain dataclass: a frozen one's ``__init__`` costs several times more."""

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
        return self.kind == "status" and bool(self.differences)  # only status makes "status"


# Verdicts of agreement carry nothing per pair: one instance each, not one per comparison.
_SAME_BYTES = Verdict(kind="bytes")
_SAME_STATUS = Verdict(kind="status")
_SAME_JSON = Verdict(kind="json")


def compare(live: Answer, shadow: Answer, tolerance: Tolerance | None = None) -> Verdict:
    """Compare the two answers under ``tolerance`` (default :class:`Tolerance`)."""
    tolerance = tolerance or _DEFAULT
    if live.status != shadow.status:
        return _verdict([Difference("status", str(live.status), str(shadow.status))], 0,
                        "status")
    if live.body is None or shadow.body is None:
        return _SAME_STATUS  # both failed the same way: nothing more to compare
    if live.body == shadow.body:
        return _SAME_BYTES  # the common case, and no parse needed to know it
    parsed = _both_json(live, shadow)
    if parsed is None:
        return _verdict([Difference("body", _excerpt_bytes(live.body),
                                    _excerpt_bytes(shadow.body))], 0, "bytes")
    found = _Found(_without_booleans(live.body, shadow.body))
    _walk(parsed[0], parsed[1], "$", tolerance, found)
    if not found.differences:
        return _SAME_JSON
    return _verdict(found.differences, found.more, "json")


def field_of(path: str) -> str:
    """``$.rows[3].score`` → ``$.rows[*].score``: the field, whatever the row."""
    return _INDEX.sub("[*]", path) if "[" in path else path


def _verdict(found: list[Difference], more: int, kind: str) -> Verdict:
    fields = tuple(dict.fromkeys(field_of(d.path) for d in found))
    return Verdict(tuple(found), more, kind, fields)


def _both_json(live: Answer, shadow: Answer) -> tuple[Any, Any] | None:
    if not (_is_json_type(live.content_type) and _is_json_type(shadow.content_type)):
        return None
    assert live.body is not None and shadow.body is not None
    try:
        return _loads(live.body), _loads(shadow.body)
    except ValueError:  # a JSON content type with a non-JSON body: compare the bytes
        return None


def _loads(body: bytes) -> Any:
    """``json.loads`` of a body, straight to the C scanner: UTF-8 decoded first, which
    skips the encoding guess ``json.loads(bytes)`` makes (as long as the parse itself for
    small answers), and ``raw_decode`` without the two Python layers above it."""
    try:
        text = body.decode("utf-8").strip()
    except UnicodeDecodeError:
        return json.loads(body)  # UTF-16/32 JSON: let json detect it
    value, end = _DECODER.raw_decode(text)
    if end != len(text):
        raise ValueError(f"extra data after the JSON value at {end}")
    return value


def _is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _without_booleans(live: bytes, shadow: bytes) -> bool:
    """Whether neither body can hold a JSON boolean. Then Python's ``==`` on two parsed
    values is exactly "agree" under the rules (equal numbers are within any tolerance,
    ``1 == 1.0`` agrees in both, NaN is never ``==`` and is walked), so an equal subtree
    is settled in C without walking it; only ``True == 1`` would be wrong, and with no
    ``true``/``false`` in either text there is no boolean to confuse."""
    # find(), not ``in``: on bytes, ``in`` first tries its operand as an int (a TypeError
    # raised and cleared per test)
    return (live.find(b"true") < 0 and live.find(b"false") < 0 and shadow.find(b"true") < 0
            and shadow.find(b"false") < 0)


class _Found:
    """The differences of one comparison: the first MAX_PATHS kept (with excerpts, made
    only for those), the rest counted. ``exact``: see :func:`_without_booleans`."""

    __slots__ = ("differences", "more", "exact")

    def __init__(self, exact: bool = False) -> None:
        self.differences: list[Difference] = []
        self.more = 0
        self.exact = exact

    def add(self, path: str, live: Any, shadow: Any) -> None:
        if len(self.differences) < MAX_PATHS:
            self.differences.append(Difference(path, _excerpt(live), _excerpt(shadow)))
        else:
            self.more += 1


_PLAIN = frozenset((str, int, float, bool, type(None)))


def _walk(live: Any, shadow: Any, path: str, tolerance: Tolerance, found: _Found) -> None:
    """Add the differences between two parsed JSON values to ``found``. Recursion into a
    list accumulator, not generators: every level of ``yield from`` costs on every item.
    Equal scalars of the same type are settled inline (same type, so ``True`` never
    equals ``1``; NaN is never equal and goes on to :func:`_same_scalar`)."""
    if tolerance.ignore and _ignored(path, tolerance):
        return
    kind = type(live)
    exact = found.exact
    if kind is dict and type(shadow) is dict:
        for key, value in live.items():
            if key not in shadow:
                _missing(_child(path, key), value, _MISSING, tolerance, found)
                continue
            other = shadow[key]
            if exact:
                if value == other:
                    continue
            elif type(value) is type(other) and type(value) in _PLAIN and value == other:
                continue
            _walk(value, other, _child(path, key), tolerance, found)
        for key, other in shadow.items():
            if key not in live:
                _missing(_child(path, key), _MISSING, other, tolerance, found)
    elif kind is list and type(shadow) is list:
        if len(live) != len(shadow) and not _ignored(f"{path}.length", tolerance):
            found.add(f"{path}.length", len(live), len(shadow))
        for index in range(min(len(live), len(shadow))):
            value, other = live[index], shadow[index]
            if exact:
                if value == other:
                    continue
            elif type(value) is type(other) and type(value) in _PLAIN and value == other:
                continue
            _walk(value, other, f"{path}[{index}]", tolerance, found)
    elif not _same_scalar(live, shadow, tolerance):
        found.add(path, live, shadow)


def _missing(path: str, live: Any, shadow: Any, tolerance: Tolerance, found: _Found) -> None:
    if not _ignored(path, tolerance):
        found.add(path, live, shadow)


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{json.dumps(key)}]"


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


class _Missing:
    def __repr__(self) -> str:
        return "(missing)"


_MISSING = _Missing()
_DEFAULT = Tolerance()
_DECODER = json.JSONDecoder()
_EXCERPT_ENCODER = json.JSONEncoder(default=str)  # one instance: dumps(default=) builds one


def _excerpt(value: Any) -> str:
    text = repr(value) if value is _MISSING else _EXCERPT_ENCODER.encode(value)
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS - 3] + "..."


def _excerpt_bytes(body: bytes) -> str:
    text = body[:EXCERPT_CHARS].decode("utf-8", "replace")
    return text if len(body) <= EXCERPT_CHARS else text[:EXCERPT_CHARS - 3] + "..."
