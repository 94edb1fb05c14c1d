"""Fixtures of the fault suite: endpoints under a steady bounded loopback load through
their router, faults injected into the real parts (containers, processes, the engine),
and what healing took (failed requests, seconds, what ``status`` said) recorded for
RELIABILITY.md.

Every test here is marked ``fault``; ``pytest -m fault tests/faults -s`` prints one table
row per case (``REL|...`` lines, from ``support.faults.report``) and writes them to
``$DEVKIT_FAULT_REPORT`` when set.
"""

from __future__ import annotations

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
