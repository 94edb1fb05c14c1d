"""What the host asks a replica or the router to collect, from ``DEVKIT_DATA_COLLECTOR``.

The host (``devkit.collection``) serialises one JSON object per deployment::

    {"dir": "/var/devkit/data/my-endpoint/blue", "endpoint": "my-endpoint",
     "deployment": "blue", "collections": ["model_inputs", "request"],
     "sampling_rate": 1.0, "rolling_rate": "Hour", "model_version": "1",
     "instance": "blue-0"}

``dir`` is the deployment's folder as this process sees it (a bind mount in a container,
the host folder for the process engine).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV = "DEVKIT_DATA_COLLECTOR"
ROLLING_RATES = ("Minute", "Hour", "Day", "Month", "Year")
PAYLOAD_COLLECTIONS = frozenset({"request", "response"})


@dataclass(frozen=True)
class CollectionSettings:
    """One deployment's data collection, as one process applies it."""

    dir: Path
    endpoint: str
    deployment: str
    collections: frozenset[str] = field(default_factory=frozenset)
    sampling_rate: float = 1.0
    rolling_rate: str = "Hour"
    model_version: str = "default"
    instance: str = ""

    def enabled(self, collection: str) -> bool:
        return collection in self.collections

    @property
    def source(self) -> str:
        """The event's ``source``: Azure names the endpoint and deployment there."""
        return f"/onlineEndpoints/{self.endpoint}/deployments/{self.deployment}"

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> CollectionSettings:
        rate = float(raw.get("sampling_rate", 1.0))
        rolling = str(raw.get("rolling_rate", "Hour"))
        if not 0.0 <= rate <= 1.0 or rolling not in ROLLING_RATES:
            raise ValueError(f"sampling_rate must be in [0, 1] and rolling_rate one of "
                             f"{ROLLING_RATES}, got {rate!r} and {rolling!r}")
        return cls(dir=Path(str(raw["dir"])), endpoint=str(raw["endpoint"]),
                   deployment=str(raw["deployment"]),
                   collections=frozenset(str(c) for c in raw.get("collections", ())),
                   sampling_rate=rate, rolling_rate=rolling,
                   model_version=str(raw.get("model_version") or "default"),
                   instance=str(raw.get("instance") or socket.gethostname()))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CollectionSettings | None:
        text = (os.environ if environ is None else environ).get(ENV, "")
        return cls.parse(json.loads(text)) if text else None

    def to_json(self) -> str:
        return json.dumps({"dir": str(self.dir), "endpoint": self.endpoint,
                           "deployment": self.deployment,
                           "collections": sorted(self.collections),
                           "sampling_rate": self.sampling_rate,
                           "rolling_rate": self.rolling_rate,
                           "model_version": self.model_version, "instance": self.instance})
