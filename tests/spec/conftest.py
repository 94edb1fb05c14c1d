"""The ``project`` fixture: a valid endpoint folder in tmp_path (see spec_support); an
empty asset registry (state dir) per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_support import Project


@pytest.fixture(autouse=True)
def _own_registry(isolated_state: Path) -> Path:
    """Every spec test sees an empty asset registry of its own, never the user's."""
    return isolated_state


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path / "ep")
