"""Helpers shared by the engine tests (imported by name: pytest puts this folder on
sys.path)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

from devkit.engines import Engine
from devkit.engines.process import state as process_state

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def copy_endpoint(source: Path, target: Path, old: str, new: str) -> Path:
    """Copy an endpoint folder, renaming the endpoint in every YAML file."""
    shutil.copytree(source, target, symlinks=True)
    for spec in target.glob("*.yml"):
        text = spec.read_text()
        text = text.replace(f"name: {old}\n", f"name: {new}\n")
        text = text.replace(f"endpoint_name: {old}\n", f"endpoint_name: {new}\n")
        spec.write_text(text)
    return target


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def router_mark(engine: Engine, docker_client: Any | None, name: str) -> str:
    """The router's identity and start time: unchanged iff it was not restarted."""
    if engine.name == "docker":
        [router] = docker_client.containers.list(
            filters={"label": [f"devkit.endpoint={name}", "devkit.role=router"]})
        return f"{router.id}@{router.attrs['State']['StartedAt']}"
    state = process_state.load(name)
    assert state is not None and state.router is not None
    return f"{state.router.pid}@{process_state.start_time(state.router.pid)}"
