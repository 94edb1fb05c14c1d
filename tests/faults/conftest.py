"""Fixtures of the fault suite: endpoints under a steady bounded loopback load through
their router, faults injected into the real parts (containers, processes, the engine),
and what healing took (failed requests, seconds, what ``status`` said) recorded for
RELIABILITY.md.

Every test here is marked ``fault``; ``pytest -m fault tests/faults -s`` prints one table
row per case (``REL|...`` lines) and writes them to ``$DEVKIT_FAULT_REPORT`` when set.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.fault)


@pytest.fixture(scope="module")
def module_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A state dir for the whole module (endpoints shared by several cases)."""
    state = tmp_path_factory.mktemp("state")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEVKIT_STATE_DIR", str(state))
        yield state


def report(engine: str, case: str, failed: int, total: int, heal_s: float | None,
           status_said: str) -> None:
    """One row of the reliability table: printed, and appended to the report file."""
    row = {"engine": engine, "case": case, "failed": failed, "total": total,
           "heal_s": None if heal_s is None else round(heal_s, 2), "status": status_said}
    print(f"\nREL|{json.dumps(row)}")
    target = os.environ.get("DEVKIT_FAULT_REPORT")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps(row) + "\n")
