"""Reading back what data collection wrote, for ``devkit data`` and the TUI.

Files are found under each deployment's folder (recorded at ``up``), in path order,
which is time order: the partition folders are ``yyyy/MM/dd/HH`` and events are appended.
Following polls the files for growth and for new partitions: the writer never rewrites
a file, so an offset per file is all the state needed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devkit.collection import remembered
from devkit.errors import EndpointNotFound


@dataclass(frozen=True)
class Collected:
    """One stored event and where it came from."""

    deployment: str
    collection: str
    event: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"deployment": self.deployment, "collection": self.collection, **self.event}


def describe(item: Collected, width: int = 100) -> str:
    """One event on one line: time, deployment, collection, correlation id, payload."""
    event = item.event
    payload = json.dumps(event["data"]) if "data" in event else f"-> {event.get('dataref')}"
    if len(payload) > width:
        payload = payload[:width - 3] + "..."
    return (f"{event.get('time', '')}  {item.deployment}  {item.collection:<13}  "
            f"{event.get('correlationid', '')}  {payload}")


def folders_of(endpoint: str, deployment: str | None = None) -> dict[str, Path]:
    """The collecting deployments' folders; EndpointNotFound naming the fix when none."""
    found = remembered(endpoint)
    if not found:
        raise EndpointNotFound(f"Endpoint '{endpoint}' collects no data: add a "
                               "`data_collector` to one of its deployments and run `devkit up` "
                               "(or check the name with `devkit status`).")
    if deployment is not None:
        if deployment not in found:
            raise EndpointNotFound(f"Deployment '{deployment}' of endpoint '{endpoint}' collects "
                                   f"no data; collecting: {', '.join(sorted(found))}.")
        return {deployment: found[deployment]}
    return found


def files(folders: Mapping[str, Path], collection: str | None) -> list[tuple[str, str, Path]]:
    """(deployment, collection, file) for every collected file, oldest partition first."""
    result = []
    for name, folder in sorted(folders.items()):
        for path in sorted(folder.glob("*/**/*.jsonl")):
            kind = path.relative_to(folder).parts[0]
            if collection is None or kind == collection:
                result.append((name, kind, path))
    return sorted(result, key=lambda item: (item[2].relative_to(folders[item[0]]).parts[1:],
                                            item[0], item[1]))


def latest(folders: Mapping[str, Path], collection: str | None, count: int) -> list[Collected]:
    """The last ``count`` events (0: all), oldest first."""
    events = [Collected(name, kind, event) for name, kind, path in files(folders, collection)
              for event in _events(path)]
    events.sort(key=lambda item: str(item.event.get("time", "")))
    return events[-count:] if count > 0 else events


def follow(folders: Mapping[str, Path], collection: str | None,
           sleep: Callable[[float], None] = time.sleep) -> Iterator[Collected]:
    """Events written from now on, as they arrive (stops only when the caller does)."""
    offsets = {path: path.stat().st_size for _, _, path in files(folders, collection)}
    while True:
        for name, kind, path in files(folders, collection):
            start = offsets.get(path, 0)
            size = path.stat().st_size
            if size > start:
                with open(path, "rb") as handle:
                    handle.seek(start)
                    chunk = handle.read(size - start)
                complete = chunk[:chunk.rfind(b"\n") + 1]  # a line being written waits
                offsets[path] = start + len(complete)
                for line in complete.splitlines():
                    yield Collected(name, kind, json.loads(line))
        sleep(0.5)


def _events(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)
