"""What a plan shows: the difference between a live object and what applying would make it.

Both sides come from the server (the live object, and the answer to a server-side dry run of
the rendered one), so defaults, merges and other managers' fields are the server's own and
only real changes show. Server bookkeeping (``managedFields``, ``resourceVersion``, ``uid``,
timestamps, ``generation``, ``status``) is dropped first; the release record annotations
are compared by the release id only (their payload is opaque). Secret values never appear:
each is shown as a short hash, so a plan says "key rotated" without printing a key.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping
from typing import Any

from devkit.promote.kubernetes import history

Manifest = dict[str, Any]
_BOOKKEEPING = ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation",
                "selfLink")


def normalised(obj: Mapping[str, Any]) -> Manifest:
    clean = copy.deepcopy(dict(obj))
    clean.pop("status", None)
    meta = clean.get("metadata", {})
    for key in _BOOKKEEPING:
        meta.pop(key, None)
    annotations = meta.get("annotations") or {}
    for key in (history.OBJECTS, history.PREVIOUS):
        annotations.pop(key, None)
    if not annotations:
        meta.pop("annotations", None)
    if clean.get("kind") == "Secret":
        data = {**(clean.pop("data", None) or {}), **(clean.pop("stringData", None) or {})}
        clean["data"] = {key: _fingerprint(str(value)) for key, value in data.items()}
    return _without_nulls(clean)


def changes(live: Mapping[str, Any] | None, wanted: Mapping[str, Any]) -> list[str]:
    """``path: old -> new`` lines, sorted; empty when applying would change nothing."""
    after = _flatten(normalised(wanted))
    before = _flatten(normalised(live)) if live is not None else {}
    lines = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path, _ABSENT), after.get(path, _ABSENT)
        if old != new:
            lines.append(f"{path}: {_show(old)} -> {_show(new)}")
    return lines


class _Absent:
    def __repr__(self) -> str:
        return "(none)"


_ABSENT = _Absent()


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        if not value:
            return {prefix: {}} if prefix else {}
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(value, list):
        if not value:
            return {prefix: []}
        flat = {}
        for index, item in enumerate(value):
            flat.update(_flatten(item, f"{prefix}[{index}]"))
        return flat
    return {prefix: value}


def _show(value: Any) -> str:
    return repr(value) if not isinstance(value, str) else value


def _fingerprint(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:12]


def _without_nulls(value: Any) -> Any:
    # The client's to_dict() keeps unset fields as None; the server never stores them.
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value
