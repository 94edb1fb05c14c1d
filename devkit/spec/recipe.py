"""How an endpoint's spec is assembled: which files, which ``--set`` overrides, which name.

``devkit up PATH --set ...``, ``devkit up blue.yml -e NAME`` and the ``devkit ml`` verbs
build an endpoint from more than a folder: a deployment file with no endpoint file, an
endpoint made by name only, overrides typed on the command line, a deployment added to
an endpoint that already runs. A :class:`Recipe` records exactly that, as plain data that
survives a JSON round trip, so later commands (``status``, ``reload``, ``debug``, the next
``devkit ml online-deployment create``) rebuild the very same spec with
:func:`devkit.spec.load_recipe`. The files are read again each time: an edit to a file is
seen, an override typed once keeps applying.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class SpecFile:
    """One YAML document and the overrides applied to it, in order (``--set`` texts, as
    typed after the flag). ``path`` None: a document made of overrides only (an endpoint
    created with ``-n NAME``)."""

    path: Path | None
    sets: tuple[str, ...] = ()

    def with_sets(self, *more: str) -> SpecFile:
        """These overrides added; an earlier override of the same path is dropped (the
        later one would win anyway, and the record stays short)."""
        new_paths = {text.partition("=")[0].strip() for text in more}
        kept = tuple(s for s in self.sets if s.partition("=")[0].strip() not in new_paths)
        return replace(self, sets=kept + tuple(more))

    def to_json(self) -> dict[str, Any]:
        return {"path": None if self.path is None else str(self.path), "sets": list(self.sets)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SpecFile:
        path = data.get("path")
        return cls(None if path is None else Path(path), tuple(data.get("sets", ())))


@dataclass(frozen=True)
class Recipe:
    """An endpoint document and its deployment documents. ``name`` (from ``-n``/``-e``)
    names the endpoint and every deployment's ``endpoint_name``, over what files say."""

    endpoint: SpecFile
    deployments: tuple[SpecFile, ...] = ()
    name: str | None = None
    # Where an endpoint without a file was made (messages and the TUI's folder).
    folder: Path = field(default_factory=Path.cwd)

    def files(self) -> list[Path]:
        found = [self.endpoint.path] + [d.path for d in self.deployments]
        return [p for p in found if p is not None]

    def to_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint.to_json(), "name": self.name,
                "folder": str(self.folder),
                "deployments": [d.to_json() for d in self.deployments]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Recipe:
        return cls(endpoint=SpecFile.from_json(data["endpoint"]),
                   deployments=tuple(SpecFile.from_json(d) for d in data["deployments"]),
                   name=data.get("name"), folder=Path(data.get("folder") or Path.cwd()))
