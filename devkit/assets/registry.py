"""The local registry of models and environments that ``azureml:`` references resolve to.

Azure keeps registered assets in a workspace; devkit keeps them in its state folder
(``DEVKIT_STATE_DIR/assets/<models|environments>/<name>/<version>.json``), one small JSON
record per version, pointing at the files on the host with their content hash (see
:mod:`devkit.assets.content`). As in Azure, a version is immutable: registering the same
name and version again is a no-op when the content is the same and an error when it is
not, and resolving a version whose files changed since is an error that says so.
``@latest`` is the most recently registered version. :class:`Registry` is also the
:class:`~devkit.spec.references.AssetLookup` the spec loader uses.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from devkit.assets.content import content_hash, stat_fingerprint
from devkit.assets.curated import curated_fix
from devkit.errors import AssetError
from devkit.paths import state_dir
from devkit.spec.assetfiles import EnvironmentAsset, ModelAsset
from devkit.spec.references import (
    AssetMissing,
    Reference,
    RegisteredEnvironment,
    RegisteredModel,
)

Kind = Literal["model", "environment"]
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass
class AssetRecord:
    """One registered version, as stored."""

    kind: Kind
    name: str
    version: str
    origin: str  # the file (or flags) it was registered from
    roots: list[str]  # the files and folders its content hash covers
    content_hash: str
    fingerprint: str
    created: float
    data: dict[str, Any]  # model: {path, type}; environment: {spec}
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def shown(self) -> str:
        return f"{self.kind} {self.name}:{self.version}"


class Registry:
    """Models and environments registered on this machine."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else state_dir() / "assets"

    # -- registering ----------------------------------------------------------------------

    def register_model(self, asset: ModelAsset, origin: str) -> AssetRecord:
        data = {"path": str(asset.path), "type": asset.type}
        return self._register("model", asset.name, asset.version, origin, [asset.path], data,
                              asset.description, dict(asset.tags))

    def register_environment(self, asset: EnvironmentAsset, origin: str) -> AssetRecord:
        env = asset.environment
        roots = [p for p in (env.conda_file, env.build.path if env.build else None) if p]
        return self._register("environment", asset.name, asset.version, origin, roots,
                              {"spec": dict(asset.spec)}, asset.description,
                              dict(asset.tags))

    def _register(self, kind: Kind, name: str, version: str | None, origin: str,
                  roots: list[Path], data: dict[str, Any], description: str | None,
                  tags: dict[str, str]) -> AssetRecord:
        _check_name(kind, name, version)
        record = AssetRecord(kind, name, version or self._next_version(kind, name), origin,
                             [str(p) for p in roots], content_hash(roots),
                             stat_fingerprint(roots), time.time(), data, description, tags)
        existing = self._read(kind, name, record.version)
        if existing is not None:
            if existing.content_hash == record.content_hash and existing.data == record.data:
                return existing
            raise AssetError(f"{record.shown} is already registered (from {existing.origin}) "
                             "with other content; versions do not change, so register this "
                             "as a new version (--version N, or leave the version out for "
                             "the next one).")
        path = self._path(kind, name, record.version)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(record), indent=2) + "\n", encoding="utf-8")
        return record

    def _next_version(self, kind: Kind, name: str) -> str:
        numbers = [int(r.version) for r in self.list(kind, name) if r.version.isdigit()]
        return str(max(numbers, default=0) + 1)

    # -- reading ----------------------------------------------------------------------------

    def list(self, kind: Kind, name: str | None = None) -> list[AssetRecord]:
        """Registered versions, oldest first (of one name, or all)."""
        folder = self.root / f"{kind}s"
        names = [name] if name is not None else sorted(
            p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
        records = []
        for each in names:
            for file in sorted((folder / each).glob("*.json")):
                found = self._load(file)
                if found is not None:
                    records.append(found)
        return sorted(records, key=lambda r: (r.name, r.created))

    def show(self, kind: Kind, name: str, version: str | None = None) -> AssetRecord:
        """One version (the latest when ``version`` is None); AssetError naming what is
        registered otherwise."""
        if version is not None:
            found = self._read(kind, name, version)
        else:
            versions = self.list(kind, name)
            found = versions[-1] if versions else None
        if found is None:
            have = ", ".join(r.version for r in self.list(kind, name)) or "none"
            wanted = f"{name}:{version}" if version else name
            raise AssetError(f"No {kind} '{wanted}' is registered (versions of {name}: "
                             f"{have}); register it with `devkit ml {kind} create -f "
                             f"{kind}.yml` or see `devkit ml {kind} list`.")
        return found

    # -- the spec loader's lookup -----------------------------------------------------------

    def model(self, ref: Reference) -> RegisteredModel:
        record = self._resolve(ref)
        return RegisteredModel(record.name, record.version, Path(record.data["path"]),
                               record.data.get("type", "custom_model"))

    def environment(self, ref: Reference) -> RegisteredEnvironment:
        record = self._resolve(ref)
        return RegisteredEnvironment(record.name, record.version, record.data["spec"],
                                     record.origin)

    def _resolve(self, ref: Reference) -> AssetRecord:
        try:
            record = self.show(ref.kind, ref.name, ref.version)
        except AssetError:
            registered = ", ".join(r.version for r in self.list(ref.kind, ref.name))
            have = f" (registered versions: {registered})" if registered else ""
            fix = curated_fix(ref) if ref.kind == "environment" else None
            raise AssetMissing(f"{ref.kind} '{ref.shown}' is not registered locally{have}",
                               fix) from None
        self._check_unchanged(record)
        return record

    def _check_unchanged(self, record: AssetRecord) -> None:
        roots = [Path(p) for p in record.roots]
        missing = [str(p) for p in roots if not p.exists()]
        if missing:
            raise AssetMissing(f"{record.shown} was registered from {missing[0]}, which no "
                               "longer exists", fix="restore it, or register the asset again "
                               "from where it is now as a new version")
        fingerprint = stat_fingerprint(roots)
        if fingerprint == record.fingerprint:
            return
        if content_hash(roots) != record.content_hash:
            raise AssetMissing(f"the files of {record.shown} ({', '.join(record.roots)}) "
                               "changed after it was registered",
                               fix=f"register them as a new version with `devkit ml "
                                   f"{record.kind} create ...` (leave --version out for the "
                                   "next one) and reference that, or undo the change")
        record.fingerprint = fingerprint  # touched, not changed: remember the new stats
        self._path(record.kind, record.name, record.version).write_text(
            json.dumps(asdict(record), indent=2) + "\n", encoding="utf-8")

    # -- files -------------------------------------------------------------------------------

    def _path(self, kind: Kind, name: str, version: str) -> Path:
        return self.root / f"{kind}s" / name / f"{version}.json"

    def _read(self, kind: Kind, name: str, version: str) -> AssetRecord | None:
        return self._load(self._path(kind, name, version))

    @staticmethod
    def _load(file: Path) -> AssetRecord | None:
        try:
            data: Mapping[str, Any] = json.loads(file.read_text(encoding="utf-8"))
            return AssetRecord(**data)
        except (OSError, ValueError, TypeError):
            return None


def _check_name(kind: Kind, name: str, version: str | None) -> None:
    for what, value in (("name", name), ("version", version)):
        if value is not None and not _SAFE.match(value):
            raise AssetError(f"The {kind} {what} '{value}' cannot be registered; use letters, "
                             "digits, '.', '_' and '-', starting with a letter or digit.")
