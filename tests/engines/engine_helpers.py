"""Helpers shared by the engine tests (imported by name: pytest puts this folder on
sys.path)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

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
