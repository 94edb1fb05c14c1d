"""Fixtures for the autoscaling tests: the ``scaled`` fixture (one deployment, min 1 max 3,
2 concurrent requests per replica, a score.py that sleeps 80 ms, polling every second, a
4 s scale-in window) under a unique endpoint name, in a private state folder."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def scaled_folder(tmp_path: Path, isolated_state: Path) -> Path:
    name = f"scaled-{uuid.uuid4().hex[:6]}"
    target = tmp_path / name
    shutil.copytree(FIXTURES / "scaled", target)
    for spec in target.glob("*.yml"):
        text = spec.read_text().replace("name: scaled\n", f"name: {name}\n")
        spec.write_text(text.replace("endpoint_name: scaled\n", f"endpoint_name: {name}\n"))
    return target
