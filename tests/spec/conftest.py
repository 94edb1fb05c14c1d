"""The ``project`` fixture: a valid endpoint folder in tmp_path (see spec_support)."""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_support import Project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path / "ep")
