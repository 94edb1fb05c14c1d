"""Which release an endpoint runs on a cluster, and the one before it, for ``--rollback``.

The endpoint's HTTPRoute is its one endpoint-wide object, so it carries the record in three
annotations: ``devkit.release`` (a hash of the rendered objects), ``devkit.release.objects``
(those objects) and ``devkit.release.previous`` (the objects of the release before). Objects
are stored as rendered, never as read back (no server defaults, no status), gzip+base64 JSON,
and the Secret without its data: keys are never copied into an annotation, and a rollback
keeps the current keys. A record may also carry the promote machinery's release (plain
JSON), so a rollback can say what it went back to.
"""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Manifest = dict[str, Any]
RELEASE = "devkit.release"
OBJECTS = "devkit.release.objects"
PREVIOUS = "devkit.release.previous"
_OURS = (RELEASE, OBJECTS, PREVIOUS)


@dataclass(frozen=True)
class Record:
    """One release as the HTTPRoute remembers it."""

    objects: list[Manifest]
    release: dict[str, Any] | None = None


def recordable(manifests: list[Manifest]) -> list[Manifest]:
    """The objects as the record keeps them: no Secret data, no release annotations."""
    kept = []
    for manifest in manifests:
        item = copy.deepcopy(manifest)
        if item["kind"] == "Secret":
            item.pop("stringData", None)
            item.pop("data", None)
        annotations = item.get("metadata", {}).get("annotations", {})
        for key in _OURS:
            annotations.pop(key, None)
        if "annotations" in item.get("metadata", {}) and not annotations:
            del item["metadata"]["annotations"]
        kept.append(item)
    return kept


def release_id(manifests: list[Manifest]) -> str:
    text = json.dumps(recordable(manifests), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode(manifests: list[Manifest], release: Mapping[str, Any] | None = None) -> str:
    payload = {"objects": recordable(manifests), "release": release}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return base64.b64encode(gzip.compress(text.encode(), mtime=0)).decode("ascii")


def decode(text: str) -> Record:
    payload = json.loads(gzip.decompress(base64.b64decode(text)))
    return Record(list(payload["objects"]), payload.get("release"))


def stamp(route: Manifest, manifests: list[Manifest], live_route: Mapping[str, Any] | None,
          release: Mapping[str, Any] | None = None) -> Manifest:
    """``route`` with the record of this release; the previous one comes from the live route.

    Re-applying the release that runs keeps the live record as it is, so promoting the same
    thing twice changes nothing.
    """
    stamped = copy.deepcopy(route)
    annotations = stamped["metadata"].setdefault("annotations", {})
    new_id = release_id(manifests)
    live = dict((live_route or {}).get("metadata", {}).get("annotations") or {})
    annotations[RELEASE] = new_id
    annotations[OBJECTS] = encode(manifests, release)
    if live.get(RELEASE) == new_id:
        if PREVIOUS in live:
            annotations[PREVIOUS] = live[PREVIOUS]
    elif OBJECTS in live:
        annotations[PREVIOUS] = live[OBJECTS]
    return stamped


def previous(live_route: Mapping[str, Any] | None) -> Record | None:
    """The release before the running one, or None when there is none."""
    return _read(live_route, PREVIOUS)


def current(live_route: Mapping[str, Any] | None) -> Record | None:
    """The release the route was last promoted with (None: not promoted by devkit)."""
    return _read(live_route, OBJECTS)


def _read(live_route: Mapping[str, Any] | None, key: str) -> Record | None:
    annotations = (live_route or {}).get("metadata", {}).get("annotations") or {}
    text = annotations.get(key)
    return decode(text) if text else None
