"""The endpoint the Docker fault cases share (fixtures/faulty) and the checks they make.

Deployment blue, two replicas of a script that can be made to allocate past its 300 MiB
limit, fast probes (period 1 s); the ``faulty`` fixture (conftest.py) brings one up per
test module.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.faults import ready_count, until
from support.load import Load

from devkit.engines import RunSettings
from devkit.engines.docker import DockerEngine
from devkit.engines.status import DeploymentStatus
from devkit.router.keys import load_or_create_keys
from devkit.spec import load as load_spec

FIXTURE = Path(__file__).parent / "fixtures" / "faulty"
HEAL_S = 60.0  # the most any case may take to heal before the test fails


@dataclass
class Faulty:
    name: str
    folder: Path
    engine: DockerEngine
    uri: str
    client: Any

    def headers(self, which: str = "primary") -> dict[str, str]:
        keys = load_or_create_keys(self.name)
        return {"Authorization": f"Bearer {getattr(keys, which)}"}

    def replicas(self) -> list[Any]:
        found = self.client.containers.list(all=True, filters={"label": [
            f"devkit.endpoint={self.name}", "devkit.role=deployment"]})
        return sorted(found, key=lambda c: c.labels["devkit.replica"])

    def blue(self) -> DeploymentStatus:
        found = self.engine.status(self.name)[0].deployment("blue")
        assert found is not None
        return found

    def up(self) -> None:
        self.engine.up(load_spec([self.folder]), RunSettings(), lambda _: None)
        until(lambda: ready_count(self.uri, "blue") == 2, HEAL_S, "both replicas back")


def copy_fixture(target: Path, name: str) -> Path:
    shutil.copytree(FIXTURE, target)
    for spec in target.glob("*.yml"):
        spec.write_text(spec.read_text().replace("faulty", name))
    return target


def steady(f: Faulty, which: str = "primary") -> Load:
    """Two clients, a short pause between requests: a bounded load on two shared cores."""
    return Load(f.uri, f.headers(which), clients=2, pause_s=0.01, limit_s=240, timeout_s=20)


def front_end_codes(load: Load, model_errors: bool = False) -> None:
    """Every failure is one of the front end's codes, none hung (the client's timeout).
    ``model_errors``: 424 too (the replica's runtime answered an error: a request queued
    behind a hung or killed worker that ran out of its scoring timeout)."""
    allowed = {502, 503, 504, 408} | ({424} if model_errors else set())
    assert {status for status, _, _ in load.failures()} <= allowed, load.failures()
    assert not load.transport_errors, load.transport_errors[:3]


def restarts(container: Any) -> int:
    container.reload()
    return int(container.attrs.get("RestartCount") or 0)


def warm(load: Load) -> None:
    until(lambda: load.successes_since(0) >= 20, 30, "the load got going")
