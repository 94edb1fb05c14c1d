"""``azureml:`` references in specs and the seam through which they resolve locally.

A deployment may name a registered asset instead of describing it inline:
``model: azureml:my-model:3``, ``environment: azureml:my-env@latest``, or the registry
URI form ``azureml://registries/azureml/environments/NAME/versions/V``. The spec layer
parses the reference here and asks an :class:`AssetLookup` for it; the lookup devkit uses
is its local registry (:mod:`devkit.assets`, filled by ``devkit ml model|environment
create``), and tests may pass their own. A lookup answers typed records or raises
:class:`AssetMissing` with the sentence to show; the reader turns that into a SpecError at
the field's line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

AssetKind = Literal["model", "environment"]

_REGISTRY_URI = re.compile(
    r"^azureml://registries/(?P<registry>[^/]+)/(?P<kind>models|environments)/(?P<name>[^/]+)"
    r"(?:/versions/(?P<version>[^/]+)|/labels/(?P<label>[^/]+))?$")


@dataclass(frozen=True)
class Reference:
    """A parsed ``azureml:`` reference; ``version`` None means the latest version."""

    kind: AssetKind
    name: str
    version: str | None
    text: str  # as written
    registry: str | None = None  # azureml://registries/<registry>/... (e.g. "azureml")

    @property
    def shown(self) -> str:
        return f"{self.name}:{self.version}" if self.version else f"{self.name}@latest"


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    version: str
    path: Path
    type: str = "custom_model"


@dataclass(frozen=True)
class RegisteredEnvironment:
    """An environment as registered: its spec mapping (paths already absolute) and where
    it was registered from, for messages."""

    name: str
    version: str
    spec: Mapping[str, Any]
    origin: str


class AssetMissing(LookupError):
    """A reference the lookup cannot resolve; ``str()`` says why. ``fix`` is the next step
    when the lookup knows a better one than registering the asset."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix


class AssetLookup(Protocol):
    def model(self, ref: Reference) -> RegisteredModel: ...

    def environment(self, ref: Reference) -> RegisteredEnvironment: ...


class NoAssets:
    """A lookup that knows nothing: every reference is refused with how to register it."""

    def model(self, ref: Reference) -> RegisteredModel:
        raise AssetMissing(f"model '{ref.shown}' is not registered")

    def environment(self, ref: Reference) -> RegisteredEnvironment:
        raise AssetMissing(f"environment '{ref.shown}' is not registered")


def parse_reference(text: str, kind: AssetKind) -> Reference | None:
    """The reference ``text`` makes, or None when it is not an ``azureml:`` name with an
    optional version (an ARM id, say, which only Azure can resolve)."""
    if text.startswith("azureml://"):
        match = _REGISTRY_URI.match(text)
        if match is None or match["kind"] != f"{kind}s":
            return None
        version = match["version"] if match["label"] in (None, "latest") else None
        return Reference(kind, match["name"], version, text, match["registry"])
    if not text.startswith("azureml:") or text.startswith("azureml:/"):
        return None
    body = text[len("azureml:"):]
    if "@" in body:
        name, _, label = body.partition("@")
        return Reference(kind, name, None, text) if name and label == "latest" else None
    name, _, version = body.partition(":")
    if not name or ":" in version:
        return None
    return Reference(kind, name, version or None, text)
