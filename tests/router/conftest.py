"""Fixtures for router tests; the servers they start live in ``router_helpers``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from router_helpers import RouterProcess, Upstream, write_config


@pytest.fixture
def upstreams() -> Iterator[Callable[[str], Upstream]]:
    started: list[Upstream] = []

    def start(name: str) -> Upstream:
        upstream = Upstream(name).start()
        started.append(upstream)
        return upstream

    yield start
    for upstream in started:
        upstream.stop()


@pytest.fixture
def router(tmp_path: Path) -> Iterator[Callable[..., RouterProcess]]:
    """Start a router on a config written from the given deployment entries."""
    started: list[RouterProcess] = []

    def start(deployments: list[dict[str, Any]], files: dict[str, bytes] | None = None,
              **kwargs: Any) -> RouterProcess:
        folder = tmp_path / f"router{len(started)}"
        folder.mkdir()
        for name, content in (files or {}).items():
            (folder / name).write_bytes(content)
        config = folder / "router.json"
        write_config(config, deployments, **kwargs)
        process = RouterProcess(config)
        started.append(process)
        process.wait_ready()
        return process

    yield start
    for process in started:
        process.stop()
