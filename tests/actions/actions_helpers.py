"""Helpers for the action tests: deployment variants of the fixture, and (re-exported from
``support.load``, where the fault tests find it too) a steady load of real clients against
an endpoint's router that records every answer."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import httpx
from support.load import MODEL_STATUS, PIN, Load

__all__ = ["MODEL_STATUS", "PIN", "Load", "copy_fixture", "post_many", "unique", "variant"]

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def copy_fixture(name: str, target: Path) -> Path:
    """The ``shadow`` fixture under a unique endpoint ``name`` (parallel runs and other
    engineers' endpoints never collide)."""
    shutil.copytree(FIXTURES / "shadow", target)
    for spec in target.glob("*.yml"):
        text = spec.read_text().replace("name: shadow\n", f"name: {name}\n")
        spec.write_text(text.replace("endpoint_name: shadow\n", f"endpoint_name: {name}\n"))
    return target


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def variant(folder: Path, name: str, env: dict[str, str]) -> None:
    """``name``.yml: blue.yml with another name and environment variables."""
    text = (folder / "blue.yml").read_text().replace("name: blue\n", f"name: {name}\n")
    text = text.replace('  SKEW_FRACTION: "0"\n',
                        "".join(f'  {k}: "{v}"\n' for k, v in env.items()) or
                        '  SKEW_FRACTION: "0"\n')
    (folder / f"{name}.yml").write_text(text)


def post_many(url: str, headers: dict[str, str], count: int) -> list[httpx.Response]:
    with httpx.Client(headers=headers, timeout=30) as client:
        return [client.post(url, json={"x": i % 10}) for i in range(count)]
